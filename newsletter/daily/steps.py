"""What each step of the daily chain does. Jobs and commands call these; each returns
what the next step needs (ready digest ids, send blocks, reports)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from newsletter.catalog import topic_by_slug
from newsletter.config import Settings
from newsletter.delivery import rows
from newsletter.delivery.ratelimit import RateLimiter
from newsletter.delivery.send import SendReport, send_range
from newsletter.delivery.sweeper import SweepReport, recover, sweep
from newsletter.delivery.transports import Transport, make_transport
from newsletter.digest.build import BuildOutcome, build_digest, find_digest, news_window
from newsletter.digest.choose import choose_writer
from newsletter.models import Digest, DigestStatus, Subscriber, utcnow
from newsletter.render.infographic_store import ensure_infographic
from newsletter.services import Services
from newsletter.sources.fetch import FetchPolicy
from newsletter.sources.ingest import SourceResult, fetch_topic


def fetch(
    app: Services, slug: str, *, on_fetched: Callable[[str], None] | None = None
) -> list[SourceResult]:
    """Fetch the topic's enabled sources and store their new items."""
    with app.db.session() as session:
        topic = topic_by_slug(session, slug)
        return fetch_topic(session, topic, policy=fetch_policy(app.settings), on_fetched=on_fetched)


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        timeout=settings.fetch_timeout,
        retries=settings.fetch_retries,
        per_host=settings.fetch_per_host,
        max_bytes=settings.fetch_max_bytes,
    )


def languages_to_build(app: Services, slug: str) -> list[str]:
    """The topic's languages that have readers; its first language if none has."""
    with app.db.session() as session:
        topic = topic_by_slug(session, slug)
        wanted = [
            language
            for language in topic.languages
            if session.scalar(
                select(func.count()).select_from(Subscriber).where(rows.eligible(topic, language))
            )
        ]
        return wanted or topic.languages[:1]


def build(
    app: Services, slug: str, day: date, languages: list[str] | None = None
) -> list[BuildOutcome]:
    """Write the day's digest in each language (once: a ready one is kept as it is)."""
    with app.db.session() as session:
        topic = topic_by_slug(session, slug)
        send_at = datetime.combine(day, topic.send_time, tzinfo=ZoneInfo(topic.timezone))
    writer = choose_writer(app.settings, send_at)
    outcomes = []
    for language in languages or languages_to_build(app, slug):
        with app.db.session() as session:
            topic = topic_by_slug(session, slug)
            outcome = build_digest(session, topic, day, language, writer)
            ensure_infographic(session, outcome.digest)  # once, for every ready digest
            outcomes.append(outcome)
    return outcomes


def window_still_open(app: Services, slug: str, day: date) -> datetime | None:
    """When the day's news window closes, if it is still open now."""
    with app.db.session() as session:
        _, end = news_window(topic_by_slug(session, slug), day)
    return end if utcnow() < end else None


def ready(outcomes: list[BuildOutcome]) -> list[int]:
    return [o.digest.id for o in outcomes if o.digest.status == DigestStatus.READY]


def ready_digests(app: Services, slug: str, day: date) -> list[int]:
    """The ids of the topic's ready digests for ``day``, one per language at most."""
    with app.db.session() as session:
        topic = topic_by_slug(session, slug)
        digests = [find_digest(session, topic, day, language) for language in topic.languages]
        return [d.id for d in digests if d is not None and d.status == DigestStatus.READY]


def request_fan_out(app: Services, digest_ids: list[int]) -> None:
    """Note the digests as to be fanned out, so the sweeper redoes a fan-out cut short."""
    with app.db.session() as session:
        rows.request_fan_out(session, digest_ids)


def fan_out(
    app: Services, digest_id: int, on_blocks: Callable[[list[rows.SendRange]], None]
) -> int:
    """Create the digest's delivery rows; ``on_blocks`` gets the send blocks of each
    committed batch. The number of new rows."""
    size = app.settings.send_batch_size

    def blocks(ids: list[int]) -> None:
        on_blocks(sorted({rows.block_of(digest_id, i, size) for i in ids}, key=_first_id))

    with app.db.session() as session:
        digest = session.get_one(Digest, digest_id)
        if digest.status != DigestStatus.READY:
            return 0  # failed, or not approved (review before send): nobody gets it
        return rows.fan_out(session, digest, on_batch=blocks)


def digest_summary(app: Services, digest_id: int) -> tuple[str, date, str, rows.DeliveryCounts]:
    """The digest's topic slug, date, language and delivery counts."""
    with app.db.session() as session:
        digest = session.get_one(Digest, digest_id)
        counts = rows.delivery_counts(session, digest_id)
        return digest.topic.slug, digest.date, digest.language, counts


def _first_id(block: rows.SendRange) -> int:
    return block.first_id


def send_block(
    app: Services,
    block: rows.SendRange,
    *,
    transport: Transport | None = None,
    limiter: RateLimiter | None = None,
) -> SendReport:
    """Send the due deliveries of one block of ids."""
    return send_range(
        app.db,
        app.settings,
        block.digest_id,
        transport or make_transport(app.settings),
        first_id=block.first_id,
        last_id=block.last_id,
        limiter=limiter,
    )


def recover_crashes(app: Services) -> SweepReport:
    """Record this host's dead journals and take back expired leases (no enqueueing)."""
    report = SweepReport()
    recover(app.db, app.settings, report)
    return report


def sweep_deliveries(app: Services) -> SweepReport:
    """Recover, then list unfinished fan-outs and the blocks that need a send job."""
    return sweep(app.db, app.settings)
