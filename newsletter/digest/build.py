"""Build the digest of a topic for a date and language, once.

The build is idempotent: a ready digest for (topic, date, language) is returned as it
is, so re-running a build, or two workers racing on it, never writes a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.digest.schema import DigestContent, SourceRef, WrittenDigest
from newsletter.digest.writer import Writer, WriteRequest, WriterError
from newsletter.i18n import labels
from newsletter.models import Digest, DigestStatus, Item, Topic
from newsletter.sources.dedupe import cluster_stories

WINDOW = timedelta(hours=24)


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


def find_digest(session: Session, topic: Topic, day: date, language: str) -> Digest | None:
    return session.scalar(
        select(Digest).where(
            Digest.topic_id == topic.id, Digest.date == day, Digest.language == language
        )
    )


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
    request = WriteRequest(topic.slug, topic.name, day, language, cluster_stories(items))
    digest = existing or Digest(topic_id=topic.id, date=day, language=language)
    try:
        result = writer.write(request)
        content = assemble(topic, day, language, result.digest, items)
    except WriterError as error:
        digest.status, digest.writer, digest.error = DigestStatus.FAILED, writer.name, str(error)
        digest.content = None
        return _save(session, digest, topic, day, language)
    digest.status = DigestStatus.READY
    digest.content = content.model_copy(
        update={"writer": result.writer, "model": result.model, "usage": result.usage}
    ).model_dump(mode="json")
    digest.writer, digest.model, digest.error = result.writer, result.model, None
    digest.input_tokens = result.usage.input_tokens
    digest.output_tokens = result.usage.output_tokens
    return _save(session, digest, topic, day, language)


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
    """The full digest: the writer's text, grounded on ``items``, plus what we compute."""
    by_id = {item.id: item for item in items}
    unknown = [item_id for item_id in written.cited_item_ids() if item_id not in by_id]
    if unknown:
        raise WriterError(f"the digest cites items that do not exist: {unknown}")
    sources = [
        SourceRef(
            item_id=i, title=by_id[i].title, url=by_id[i].canonical_url, outlet=by_id[i].outlet
        )
        for i in written.cited_item_ids()
    ]
    words = labels(language)
    name = topic.name.upper()
    return DigestContent(
        **written.model_dump(),
        topic=topic.slug,
        topic_name=topic.name,
        date=day,
        language=language,
        title=words["title"].format(topic=name, date=day.isoformat()),
        tagline=words["tagline"].format(count=len(sources), topic=name),
        sources=sources,
        writer="",
    )
