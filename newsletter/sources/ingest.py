"""Fetch every enabled source of a topic concurrently and store the new, relevant items.

All requests of a run share one client and :class:`Fetcher`; each source's outcome is
recorded on its row (status, error, time, validators). A source that fails, times out
or sends garbage is marked failed and never affects the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from newsletter.db import insert_ignoring_conflicts
from newsletter.models import Item, Source, Topic
from newsletter.sources.feed import FeedEntry, FeedError
from newsletter.sources.fetch import Fetched, Fetcher, FetchError, FetchPolicy, make_client
from newsletter.sources.invisible import strip_invisible
from newsletter.sources.kinds import KINDS
from newsletter.sources.normalize import BadLink, canonical_url, cap, item_url, not_after
from newsletter.sources.spec import SourceSpec

log = logging.getLogger(__name__)
# Undated entries seen on a source's first successful fetch were there before we
# started watching; they are dated this far back so they do not flood today's digest.
BASELINE_AGE = timedelta(days=30)
MAX_URL_CHARS = Item.url.type.length
TITLE_MAX_CHARS = 300
OUTLET_MAX_CHARS = Item.outlet.type.length


# What a fetch of a source came to: new items; nothing new among the items that match the
# topic's keywords; items, but none matching the keywords; HTTP 304 (the server says
# nothing changed since the last fetch); or a failure (with its error).
STATUSES = ("new", "unchanged", "no-match", "not-modified", "failed")
SUCCESSES = frozenset(STATUSES) - {"failed"}


@dataclass(frozen=True)
class SourceResult:
    source: str
    status: str  # one of STATUSES
    new_items: int
    seen_items: int
    seconds: float
    error: str | None = None
    kind: str = "rss"
    dropped: tuple[tuple[str, int], ...] = ()  # (reason, count) of items not stored

    def dropped_text(self) -> str:
        """ "3 dropped: bad port; 1 dropped: no title", or "" when none was."""
        return "; ".join(f"{count} dropped: {reason}" for reason, count in self.dropped)


@dataclass(frozen=True)
class _Outcome:
    """A source's download and parse: ``entries`` is None when it is unchanged (304)."""

    spec: SourceSpec
    fetched: Fetched | None
    entries: list[FeedEntry] | None
    error: str | None
    seconds: float


async def _fetch_one(
    fetcher: Fetcher, spec: SourceSpec, etag: str | None, last_modified: str | None, now: datetime
) -> _Outcome:
    """Download and parse one source. Parsing runs in a worker thread as soon as the body
    arrives, so it overlaps with the other sources' downloads."""
    started = time.perf_counter()
    kind = KINDS.get(spec.kind)
    if kind is None:
        return _Outcome(spec, None, None, f"unknown source kind {spec.kind!r}", 0.0)
    try:
        fetched = await fetcher.get(
            kind.request_url(spec, now),
            etag=etag,
            last_modified=last_modified,
            headers=kind.headers,
        )
        entries = (
            None if fetched.not_modified else await asyncio.to_thread(kind.read, fetched, spec)
        )
    except FetchError as error:
        return _Outcome(spec, None, None, str(error), time.perf_counter() - started)
    except FeedError as error:
        return _Outcome(spec, fetched, None, str(error), time.perf_counter() - started)
    except Exception as error:  # a bug on odd input breaks this source, never the run
        log.exception("fetching source %s failed", spec.id)
        message = f"unexpected {type(error).__name__}: {error}"[:500]
        return _Outcome(spec, None, None, message, time.perf_counter() - started)
    return _Outcome(spec, fetched, entries, None, time.perf_counter() - started)


async def _fetch_all(
    sources: list[Source],
    policy: FetchPolicy,
    transport: httpx.AsyncBaseTransport | None,
    on_fetched: Callable[[str], None] | None,
) -> list[_Outcome]:
    now = datetime.now(UTC)
    async with make_client(policy, transport) as client:
        fetcher = Fetcher(client, policy)

        async def one(source: Source) -> _Outcome:
            spec = _spec(source)
            outcome = await _fetch_one(fetcher, spec, source.etag, source.last_modified, now)
            if on_fetched:
                on_fetched(source.name)
            return outcome

        return await asyncio.gather(*(one(source) for source in sources))


def _spec(source: Source) -> SourceSpec:
    return SourceSpec(source.id, source.kind, source.name, source.url, source.query)


def fetch_topic(
    session: Session,
    topic: Topic,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    policy: FetchPolicy | None = None,
    on_source_done: Callable[[SourceResult], None] | None = None,
    on_fetched: Callable[[str], None] | None = None,
) -> list[SourceResult]:
    """Fetch all enabled sources of ``topic``; a failing source never fails the others.

    ``on_fetched`` hears each source's name as its download ends (for a progress bar);
    ``on_source_done`` gets each result once it is stored.
    """
    sources = [source for source in topic.sources if source.enabled]
    outcomes = asyncio.run(_fetch_all(sources, policy or FetchPolicy(), transport, on_fetched))
    by_id = {source.id: source for source in sources}
    results = []
    # The sources' status updates are flushed together at the end, not before each insert.
    with session.no_autoflush:
        for outcome in outcomes:
            result = _record(session, topic, by_id[outcome.spec.id], outcome)
            results.append(result)
            if on_source_done:
                on_source_done(result)
    session.flush()
    return results


def _record(session: Session, topic: Topic, source: Source, outcome: _Outcome) -> SourceResult:
    now = datetime.now(UTC)
    first_success = source.last_status not in SUCCESSES and not session.scalar(
        select(exists().where(Item.source_id == source.id))
    )  # a source that failed after storing items is not new
    source.last_fetched_at = now
    fetched, entries = outcome.fetched, outcome.entries
    if fetched is None or outcome.error is not None:
        return _finish(source, "failed", outcome, 0, 0, outcome.error)
    _keep_validators(source, fetched)
    if entries is None:
        return _finish(source, "not-modified", outcome, 0, 0)
    usable, dropped = validate_entries(entries)
    relevant = [entry for entry in usable if _mentions(entry, topic.keywords)]
    if entries and not relevant:
        return _finish(source, "no-match", outcome, 0, len(entries), dropped=tuple(dropped.items()))
    undated_at = now - BASELINE_AGE if first_success else now
    new_ids = _store(session, topic, source, relevant, now, undated_at)
    status = "new" if new_ids else "unchanged"
    return _finish(
        source, status, outcome, len(new_ids), len(entries), dropped=tuple(dropped.items())
    )


def validate_entries(entries: list[FeedEntry]) -> tuple[list[FeedEntry], Counter[str]]:
    """Each entry checked on its own: the usable ones (text cleaned, link normalised),
    and how many were dropped for each reason. One bad item never costs the others."""
    usable: list[FeedEntry] = []
    dropped: Counter[str] = Counter()
    for entry in entries:
        try:
            usable.append(_validated(entry))
        except ValueError as error:
            dropped[str(error) if isinstance(error, BadLink) else "malformed link"] += 1
    return usable, dropped


def _validated(entry: FeedEntry) -> FeedEntry:
    url = item_url(entry.url)
    if len(url) > MAX_URL_CHARS:  # no column fits it, and a cut URL is a wrong one
        raise BadLink(f"link longer than {MAX_URL_CHARS} characters")
    canonical_url(url)  # anything it cannot take is dropped here, not in the batch insert
    title = _text(entry.title)
    if not title:
        raise BadLink("no title")
    return replace(
        entry,
        url=url,
        title=title,
        outlet=_text(entry.outlet) or "?",
        summary=_text(entry.summary),
    )


def _text(text: str) -> str:
    """Feed text without invisible characters, whitespace collapsed."""
    return " ".join(strip_invisible(text).split())


def _keep_validators(source: Source, fetched: Fetched) -> None:
    """Store the new ETag / Last-Modified; a 304 that omits them keeps the old ones."""
    if fetched.etag or not fetched.not_modified:
        source.etag = (fetched.etag or "")[:500] or None
    if fetched.last_modified or not fetched.not_modified:
        source.last_modified = (fetched.last_modified or "")[:100] or None


def _finish(
    source: Source,
    status: str,
    outcome: _Outcome,
    new_items: int,
    seen_items: int,
    error: str | None = None,
    dropped: tuple[tuple[str, int], ...] = (),
) -> SourceResult:
    result = SourceResult(
        source.name, status, new_items, seen_items, outcome.seconds, error, source.kind, dropped
    )
    source.last_status = status
    source.last_error = error or result.dropped_text()[:500] or None
    return result


def _mentions(entry: FeedEntry, keywords: list[str]) -> bool:
    if not keywords:
        return True
    text = f"{entry.title} {entry.summary}".lower()
    return any(keyword.lower() in text for keyword in keywords)


def _store(
    session: Session,
    topic: Topic,
    source: Source,
    entries: list[FeedEntry],
    now: datetime,
    undated_at: datetime,
) -> list[int]:
    rows: dict[str, dict] = {}
    for entry in entries:
        key = canonical_url(entry.url)
        rows.setdefault(
            key,
            {
                "topic_id": topic.id,
                "source_id": source.id,
                "canonical_url": key,
                "url": entry.url,
                "title": cap(entry.title, TITLE_MAX_CHARS),  # every kind's, capped here
                "outlet": entry.outlet[:OUTLET_MAX_CHARS],
                "published_at": not_after(entry.published_at or undated_at, now),
                "summary": cap(entry.summary),
                "fetched_at": now,
            },
        )
    return insert_ignoring_conflicts(
        session, Item, list(rows.values()), ["topic_id", "canonical_url"]
    )
