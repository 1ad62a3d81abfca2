"""The kinds of source, and how to turn a person's settings into a stored source.

Each kind knows the URL to request (search kinds add the time window at fetch time),
the headers it needs, and how to read the response into :class:`FeedEntry` items.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from newsletter.sources import feed, googlenews, hackernews, reddit, webpage
from newsletter.sources.feed import FeedEntry
from newsletter.sources.fetch import Fetched
from newsletter.sources.spec import SourceSpec


@dataclass(frozen=True)
class Kind:
    name: str
    description: str
    read: Callable[[Fetched, SourceSpec], list[FeedEntry]]
    request_url: Callable[[SourceSpec, datetime], str] = lambda spec, now: spec.url
    headers: dict[str, str] = field(default_factory=dict)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("rss", "an RSS or Atom feed", feed.read),
        Kind("gnews", "a Google News search (query, language)", feed.read),
        Kind("hn", "a Hacker News search (query, points)", hackernews.read, hackernews.request_url),
        Kind(
            "reddit",
            "a subreddit's new posts or a Reddit search",
            reddit.read,
            headers=reddit.HEADERS,
        ),
        Kind("web", "a web page listing articles (CSS selector)", webpage.read),
    )
}


@dataclass(frozen=True)
class SourceSettings:
    """What a person gives to add a source; which fields matter depends on the kind."""

    url: str | None = None
    query: str | None = None
    language: str = "en"
    subreddit: str | None = None
    selector: str | None = None
    min_points: int = 0


def resolve(kind: str, settings: SourceSettings) -> tuple[str, str | None]:
    """The (url, query) to store for a source; ValueError saying what is missing."""
    if kind not in KINDS:
        raise ValueError(f"source kind must be one of {', '.join(KINDS)}")
    query = (settings.query or "").strip() or None
    if kind == "hn":
        if not query:
            raise ValueError("a Hacker News source needs a query")
        return hackernews.search_url(query, settings.min_points), query
    if kind == "reddit":
        return reddit.listing_url(settings.subreddit, query), query
    if kind == "gnews":
        return googlenews.search_url(query or "", settings.language), query
    url = (settings.url or "").strip()
    if not url:
        raise ValueError(f"a {kind} source needs a URL")
    if kind == "web":
        selector = (settings.selector or "").strip() or None
        return url, webpage.check_selector(selector) if selector else None
    return url, None
