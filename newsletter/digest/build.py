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

from newsletter.digest.fit import unfit_citations
from newsletter.digest.grounding import citation_problems, scrub_digest
from newsletter.digest.quality import check, context_for, describe
from newsletter.digest.schema import DigestContent, SourceRef, Usage, WrittenDigest
from newsletter.digest.scrub import ReaderFilter
from newsletter.digest.subject import subject_line
from newsletter.digest.writer import Writer, WriteRequest, WriterError
from newsletter.i18n import labels
from newsletter.models import Digest, DigestStatus, Item, ReviewMode, Topic, utcnow
from newsletter.sources.dedupe import Story, cluster_stories
from newsletter.sources.normalize import site_names

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


def built_early(digest: Digest, topic: Topic) -> bool:
    """A ready digest written before its news window closed (to preview it) and not yet
    sent: once the window has closed, it is written again with the whole day's news,
    so a preview never freezes the day's digest."""
    _, end = news_window(topic, digest.date)
    return (
        digest.status == DigestStatus.READY
        and digest.fan_out_requested_at is None
        and digest.created_at < end <= utcnow()
    )


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


def initial_status(topic: Topic) -> DigestStatus:
    """A freshly written digest is ready, or awaits an operator when its topic requires
    review (see ``digest.review``)."""
    if topic.review == ReviewMode.REQUIRED:
        return DigestStatus.AWAITING_REVIEW
    return DigestStatus.READY


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
    early = existing is not None and built_early(existing, topic)
    # ready (unless built before its news window closed), or in review (waiting, held,
    # expired): kept as it is, so an operator's decision stands
    kept = existing is not None and existing.status != DigestStatus.FAILED
    if kept and not (early and existing.status == DigestStatus.READY):
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
        content = assemble(topic, day, language, result.digest, items, request.stories)
    except Exception as error:  # whatever the writer or the checks hit, the build ends
        if isinstance(error, WriterError):
            reason, usage = str(error), usage + error.usage
        else:
            log.exception("building the %s digest of %s failed", topic.slug, day)
            reason = f"unexpected {type(error).__name__}: {error}"[:1000]
        if early:  # the early digest stays better than none
            log.warning("kept the early %s digest of %s: %s", topic.slug, day, reason)
            return BuildOutcome(digest, created=False)
        digest.status, digest.writer, digest.error = DigestStatus.FAILED, writer.name, reason
        digest.model, digest.content = writer.model, None
        _record_usage(digest, usage)
        return _save(session, digest, topic, day, language)
    digest.status = initial_status(topic)
    digest.content = content.model_copy(
        update={"writer": result.writer, "model": result.model, "usage": result.usage}
    ).model_dump(mode="json")
    digest.writer, digest.model, digest.error = result.writer, result.model, None
    digest.created_at = utcnow()
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
    topic: Topic,
    day: date,
    language: str,
    written: WrittenDigest,
    items: list[Item],
    stories: list[Story] | None = None,
) -> DigestContent:
    """The full digest: the writer's text, grounded on ``items``, plus what we compute.

    Raises WriterError if a citation is wrong or does not fit what it cites; removes every
    sentence that links outside the items, instructs the model or miscounts the sources
    (:mod:`newsletter.digest.scrub`), from the writer's text and from the items' titles
    and outlet names alike.
    """
    by_id = {item.id: item for item in items}
    stories = stories if stories is not None else cluster_stories(items)
    problems = citation_problems(written, by_id) or unfit_citations(written, _fit_texts(stories))
    if problems:
        raise WriterError("the digest is not grounded: " + "; ".join(problems))
    cited_ids = written.cited_item_ids()
    cited_stories = [s for s in stories if any(item.id in cited_ids for item in s.items)]
    urls = [url for item in items for url in (item.url, item.canonical_url)]
    reader = ReaderFilter.for_items(urls, source_counts(items, cited_ids, stories))
    written, removed = scrub_digest(written, reader)
    if removed:
        log.warning("removed %d unsafe passage(s) from the digest text", len(removed))
    refs = ReaderFilter.for_items(urls)
    sources = [_source_ref(by_id[i], refs) for i in cited_ids]
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
        tagline=words["tagline"].format(count=len(cited_stories), topic=name),
        sources=sources,
        writer="",
    )


def _fit_texts(stories: list[Story]) -> dict[int, str]:
    """What a citation of each item must fit: its title, summary and outlet (a sentence of
    facts about a report names who published it), and its story's lead title (a report of
    the same event fits what the story's lead says)."""
    return {
        item.id: f"{item.title} {item.summary} {item.outlet} {story.lead.title}"
        for story in stories
        for item in story.items
    }


def source_counts(
    items: list[Item], cited_ids: list[int], stories: list[Story]
) -> dict[str, frozenset[int]]:
    """The numbers a digest may state about its sources, computed here: items (cited,
    all, per story), outlets (cited, all) and stories (cited, all)."""
    cited = [item for item in items if item.id in set(cited_ids)]
    cited_stories = [s for s in stories if any(item.id in cited_ids for item in s.items)]
    return {
        "items": frozenset({len(cited), len(items), *(len(s.items) for s in stories)}),
        "outlets": frozenset(
            {
                len({i.outlet for i in cited}),
                len({i.outlet for i in items}),
                *(len(s.outlets) for s in stories),
            }
        ),
        "stories": frozenset({len(cited_stories), len(stories)}),
    }


def _source_ref(item: Item, reader: ReaderFilter) -> SourceRef:
    """A cited item as the source list shows it: its title and outlet name are feed text,
    cleaned like the writer's; one left empty reads as the item's site."""
    site = next(iter(site_names(item.canonical_url)[1:2]), "")
    dropped: list[str] = []
    title = reader.clean(item.title, dropped) or site
    outlet = reader.clean(item.outlet, dropped) or site
    return SourceRef(item_id=item.id, title=title, url=item.canonical_url, outlet=outlet)
