"""Build the digest of a topic for a date and language, once.

The build is idempotent: a ready digest for (topic, date, language) is returned as it
is, so re-running a build, or two workers racing on it, never writes a second one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.digest.grounding import citation_problems, remove_foreign_urls
from newsletter.digest.quality import check, context_for, describe
from newsletter.digest.schema import DigestContent, SourceRef, Usage, WrittenDigest
from newsletter.digest.subject import subject_line
from newsletter.digest.writer import Writer, WriteRequest, WriterError
from newsletter.i18n import labels
from newsletter.models import Digest, DigestStatus, Item, Topic
from newsletter.sources.dedupe import cluster_stories

WINDOW = timedelta(hours=24)
MAX_TAGS = 12
log = logging.getLogger(__name__)


class NothingToWrite(LookupError):
    """No relevant item was published in the digest's window."""


@dataclass(frozen=True)
class BuildOutcome:
    digest: Digest
    created: bool


def news_window(topic: Topic, day: date) -> tuple[datetime, datetime]:
    """The 24 hours that end at the topic's send time on ``day``, in its time zone."""
    end = datetime.combine(day, topic.send_time, tzinfo=ZoneInfo(topic.timezone))
    return end - WINDOW, end


def items_in_window(session: Session, topic: Topic, day: date) -> list[Item]:
    start, end = news_window(topic, day)
    return list(
        session.scalars(
            select(Item)
            .where(Item.topic_id == topic.id, Item.published_at > start, Item.published_at <= end)
            .order_by(Item.published_at, Item.id)
        )
    )


def recent_digests(session: Session, topic: Topic | None, limit: int) -> list[Digest]:
    """Newest first, of one topic or all."""
    query = select(Digest).order_by(Digest.date.desc(), Digest.id.desc())
    if topic is not None:
        query = query.where(Digest.topic_id == topic.id)
    return list(session.scalars(query.limit(limit)))


def find_digest(session: Session, topic: Topic, day: date, language: str) -> Digest | None:
    return session.scalar(
        select(Digest).where(
            Digest.topic_id == topic.id, Digest.date == day, Digest.language == language
        )
    )


def primary_digest(
    session: Session, topic: Topic, day: date, language: str
) -> WrittenDigest | None:
    """The day's ready digest in another of the topic's languages (the first in the
    topic's order), whose story selection a digest in ``language`` keeps; None if none."""
    for other in topic.languages:
        if other == language:
            continue
        found = find_digest(session, topic, day, other)
        if found is not None and found.status == DigestStatus.READY and found.content:
            return WrittenDigest.model_validate(found.content)
    return None


def build_digest(
    session: Session, topic: Topic, day: date, language: str, writer: Writer
) -> BuildOutcome:
    existing = find_digest(session, topic, day, language)
    if existing is not None and existing.status == DigestStatus.READY:
        return BuildOutcome(existing, created=False)
    items = items_in_window(session, topic, day)
    if not items:
        start, end = news_window(topic, day)
        raise NothingToWrite(
            f"no {topic.slug} news between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M %Z}"
        )
    request = WriteRequest(
        topic.name,
        day,
        language,
        cluster_stories(items),
        primary=primary_digest(session, topic, day, language),
        keywords=tuple(topic.keywords or ()),
    )
    digest = existing or Digest(topic_id=topic.id, date=day, language=language)
    usage = Usage()
    try:
        result = writer.write(request)
        usage = result.usage
        findings = check(result.digest, context_for(request))
        if findings:
            raise WriterError(describe(findings))
        content = assemble(topic, day, language, result.digest, items)
    except WriterError as error:
        digest.status, digest.writer, digest.error = DigestStatus.FAILED, writer.name, str(error)
        digest.model, digest.content = writer.model, None
        _record_usage(digest, usage + error.usage)
        return _save(session, digest, topic, day, language)
    digest.status = DigestStatus.READY
    digest.content = content.model_copy(
        update={"writer": result.writer, "model": result.model, "usage": result.usage}
    ).model_dump(mode="json")
    digest.writer, digest.model, digest.error = result.writer, result.model, None
    _record_usage(digest, usage)
    return _save(session, digest, topic, day, language)


def _record_usage(digest: Digest, usage: Usage) -> None:
    digest.input_tokens = usage.input_tokens
    digest.output_tokens = usage.output_tokens
    digest.cache_write_tokens = usage.cache_write_tokens
    digest.cache_read_tokens = usage.cache_read_tokens
    digest.cost_usd = usage.cost_usd


def _save(session: Session, digest: Digest, topic: Topic, day: date, language: str) -> BuildOutcome:
    try:
        with session.begin_nested():
            session.add(digest)
    except IntegrityError:
        winner = find_digest(session, topic, day, language)
        assert winner is not None
        return BuildOutcome(winner, created=False)
    return BuildOutcome(digest, created=True)


def assemble(
    topic: Topic, day: date, language: str, written: WrittenDigest, items: list[Item]
) -> DigestContent:
    """The full digest: the writer's text, grounded on ``items``, plus what we compute.

    Raises WriterError if a citation is wrong; removes every URL that is not an item's.
    """
    by_id = {item.id: item for item in items}
    problems = citation_problems(written, by_id)
    if problems:
        raise WriterError("the digest is not grounded: " + "; ".join(problems))
    written, removed = remove_foreign_urls(
        written, [url for item in items for url in (item.url, item.canonical_url)]
    )
    if removed:
        log.warning("removed %d link(s) to sites outside the ingested items", len(removed))
    sources = [
        SourceRef(
            item_id=i, title=by_id[i].title, url=by_id[i].canonical_url, outlet=by_id[i].outlet
        )
        for i in written.cited_item_ids()
    ]
    words = labels(language)
    name = topic.name.upper()
    fixed_tags = [name, "AI", "Digest"]
    tags = list(dict.fromkeys([*written.tags[: MAX_TAGS - len(fixed_tags)], *fixed_tags]))
    return DigestContent(
        **written.model_dump(exclude={"tags"}),
        tags=tags,
        topic=topic.slug,
        topic_name=topic.name,
        date=day,
        language=language,
        title=words["title"].format(topic=name, date=day.isoformat()),
        subject=subject_line(topic.name, day, language, written),
        tagline=words["tagline"].format(count=len(sources), topic=name),
        sources=sources,
        writer="",
    )
