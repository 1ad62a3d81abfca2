"""The daily steps for one topic: fetch, build, send. Commands and jobs call these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from newsletter.catalog import topic_by_slug
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery.fanout import eligible, fan_out
from newsletter.delivery.send import SendReport, send_range
from newsletter.delivery.sweeper import SweepReport, recover
from newsletter.delivery.transport import Transport, make_transport
from newsletter.digest.build import BuildOutcome, build_digest, find_digest
from newsletter.digest.offline import OfflineWriter
from newsletter.digest.writer import Writer
from newsletter.models import Digest, DigestStatus, Subscriber
from newsletter.sources.fetch import FetchPolicy
from newsletter.sources.ingest import SourceResult, fetch_topic


def fetch(
    db: Database,
    settings: Settings,
    slug: str,
    *,
    on_fetched: Callable[[str], None] | None = None,
) -> list[SourceResult]:
    with db.session() as session:
        topic = topic_by_slug(session, slug)
        return fetch_topic(session, topic, policy=fetch_policy(settings), on_fetched=on_fetched)


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        timeout=settings.fetch_timeout,
        retries=settings.fetch_retries,
        per_host=settings.fetch_per_host,
        max_bytes=settings.fetch_max_bytes,
    )


def choose_writer(settings: Settings) -> Writer:
    """Claude when an API key is set, else the offline writer (the pipeline runs offline)."""
    if settings.anthropic_api_key:
        from newsletter.digest.claude import ClaudeWriter  # the SDK is slow to import

        return ClaudeWriter.from_settings(settings)
    return OfflineWriter()


def writer_reason(settings: Settings) -> str:
    """Which writer ``choose_writer`` picks, and why, in one line for people."""
    if settings.anthropic_api_key:
        return f"Writer: Claude ({settings.anthropic_model}), because an Anthropic API key is set."
    return (
        "Writer: offline (extractive, no network), because neither "
        "NEWSLETTER_ANTHROPIC_API_KEY nor ANTHROPIC_API_KEY is set."
    )


def languages_to_build(db: Database, slug: str) -> list[str]:
    """The topic's languages that have readers; its first language if none has."""
    with db.session() as session:
        topic = topic_by_slug(session, slug)
        wanted = [
            language
            for language in topic.languages
            if session.scalar(
                select(func.count()).select_from(Subscriber).where(eligible(topic, language))
            )
        ]
        return wanted or topic.languages[:1]


def build(
    db: Database, settings: Settings, slug: str, day: date, languages: list[str] | None = None
) -> list[BuildOutcome]:
    writer = choose_writer(settings)
    outcomes = []
    for language in languages or languages_to_build(db, slug):
        with db.session() as session:
            topic = topic_by_slug(session, slug)
            outcomes.append(build_digest(session, topic, day, language, writer))
    return outcomes


@dataclass(frozen=True)
class LanguageSend:
    language: str
    digest_id: int
    queued: int
    report: SendReport


def send(
    db: Database,
    settings: Settings,
    slug: str,
    day: date,
    transport: Transport | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[LanguageSend]:
    """Fan out and send every ready digest of the topic for ``day``.

    First records what a crashed earlier run's journal says went out and takes back its
    expired leases, so a repeated ``newsletter send`` finishes a broken one.
    """
    recover(db, settings, SweepReport())
    with db.session() as session:
        topic = topic_by_slug(session, slug)
        digests = [find_digest(session, topic, day, language) for language in topic.languages]
        ready = [d.id for d in digests if d is not None and d.status == DigestStatus.READY]
    results = []
    for digest_id in ready:
        with db.session() as session:
            digest = session.get_one(Digest, digest_id)
            language, queued = digest.language, fan_out(session, digest)
        report = send_range(
            db, settings, digest_id, transport or make_transport(settings), on_progress=on_progress
        )
        results.append(LanguageSend(language, digest_id, queued, report))
    return results
