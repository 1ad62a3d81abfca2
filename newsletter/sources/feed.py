"""RSS 0.9x/1.0/2.0 and Atom feeds, parsed by feedparser from fetched bytes."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser

from newsletter.sources.normalize import cap, clean_title, html_to_text


class FeedError(ValueError):
    """The response is not a feed we can read."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str
    outlet: str
    published_at: datetime
    summary: str


def parse_feed(content: bytes, default_outlet: str) -> list[FeedEntry]:
    """The usable entries of a feed: those with an http(s) link, a title and a date."""
    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        raise FeedError(f"not a readable feed: {parsed.get('bozo_exception')}")
    if not parsed.get("version") and not parsed.entries:
        raise FeedError("not a feed")
    entries = []
    for entry in parsed.entries:
        url = (entry.get("link") or "").strip()
        title = clean_title(entry.get("title") or "")
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        if not url.startswith(("https://", "http://")) or not title or not when:
            continue
        source = entry.get("source") or {}
        entries.append(
            FeedEntry(
                url=url,
                title=cap(title, 300),
                outlet=(source.get("title") or default_outlet).strip()[:200],
                published_at=datetime.fromtimestamp(calendar.timegm(when), UTC),
                summary=cap(html_to_text(entry.get("summary") or "")),
            )
        )
    return entries
