"""Fetch every enabled source of a topic concurrently and store the new, relevant items."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy.orm import Session

from newsletter.db import insert_ignoring_conflicts
from newsletter.models import Item, Source, Topic
from newsletter.sources.feed import FeedEntry, FeedError, parse_feed
from newsletter.sources.normalize import canonical_url
from newsletter.sources.sample_transport import SCHEME, SampleFeedTransport

USER_AGENT = "newsletter-digest/0.1 (+https://github.com/)"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True)
class SourceResult:
    source: str
    status: str  # "new" | "unchanged" | "failed"
    new_items: int
    seen_items: int
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class _Fetched:
    source_id: int
    response: httpx.Response | None
    error: str | None
    seconds: float


def make_client(transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The one client a fetch run shares; ``sample://`` URLs read the bundled feeds."""
    return httpx.AsyncClient(
        transport=transport,
        mounts={f"{SCHEME}://": SampleFeedTransport()},
        timeout=TIMEOUT,
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
    )


async def _fetch_one(client: httpx.AsyncClient, source: Source) -> _Fetched:
    headers = {}
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    started = time.perf_counter()
    try:
        response = await client.get(source.url, headers=headers)
        if response.status_code != 304:
            response.raise_for_status()
    except httpx.HTTPError as error:
        return _Fetched(source.id, None, _describe(error), time.perf_counter() - started)
    return _Fetched(source.id, response, None, time.perf_counter() - started)


def _describe(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.HTTPStatusError):
        return f"HTTP {error.response.status_code}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


async def _fetch_all(sources: list[Source], transport: httpx.AsyncBaseTransport | None):
    async with make_client(transport) as client:
        return await asyncio.gather(*(_fetch_one(client, source) for source in sources))


def fetch_topic(
    session: Session,
    topic: Topic,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    on_source_done: Callable[[SourceResult], None] | None = None,
) -> list[SourceResult]:
    """Fetch all enabled sources of ``topic``; a failing source never fails the others."""
    sources = [source for source in topic.sources if source.enabled]
    fetched = asyncio.run(_fetch_all(sources, transport))
    by_id = {source.id: source for source in sources}
    results = []
    for outcome in fetched:
        result = _record(session, topic, by_id[outcome.source_id], outcome)
        results.append(result)
        if on_source_done:
            on_source_done(result)
    return results


def _record(session: Session, topic: Topic, source: Source, outcome: _Fetched) -> SourceResult:
    source.last_fetched_at = datetime.now(UTC)
    response = outcome.response
    if response is not None and response.status_code == 304:
        return _finish(source, "unchanged", outcome, 0, 0)
    if response is None:
        return _finish(source, "failed", outcome, 0, 0, outcome.error)
    try:
        entries = parse_feed(response.content, default_outlet=source.name)
    except FeedError as error:
        return _finish(source, "failed", outcome, 0, 0, str(error))
    source.etag = response.headers.get("ETag")
    source.last_modified = response.headers.get("Last-Modified")
    relevant = [entry for entry in entries if _mentions(entry, topic.keywords)]
    new_ids = _store(session, topic, source, relevant)
    return _finish(source, "new" if new_ids else "unchanged", outcome, len(new_ids), len(entries))


def _finish(
    source: Source,
    status: str,
    outcome: _Fetched,
    new_items: int,
    seen_items: int,
    error: str | None = None,
) -> SourceResult:
    source.last_status = status
    source.last_error = error
    return SourceResult(source.name, status, new_items, seen_items, outcome.seconds, error)


def _mentions(entry: FeedEntry, keywords: list[str]) -> bool:
    if not keywords:
        return True
    text = f"{entry.title} {entry.summary}".lower()
    return any(keyword.lower() in text for keyword in keywords)


def _store(session: Session, topic: Topic, source: Source, entries: list[FeedEntry]) -> list[int]:
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
                "title": entry.title,
                "outlet": entry.outlet,
                "published_at": entry.published_at,
                "summary": entry.summary,
                "fetched_at": datetime.now(UTC),
            },
        )
    return insert_ignoring_conflicts(
        session, Item, list(rows.values()), ["topic_id", "canonical_url"]
    )
