"""RSS 0.9x/1.0/2.0 and Atom feeds, parsed by feedparser from fetched bytes."""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser

from newsletter.sources.fetch import Fetched
from newsletter.sources.normalize import clean_title, html_to_text, resolve_redirect
from newsletter.sources.spec import SourceSpec

# Content types a feed may honestly be served with; text/html is tried, then refused.
FEED_TYPES = ("xml", "rss", "atom", "rdf")
LENIENT_TYPES = frozenset({"", "text/plain", "application/octet-stream", "text/html"})


class FeedError(ValueError):
    """The response is not something this kind of source can read."""


@dataclass(frozen=True)
class FeedEntry:
    """One item as a source describes it, already cleaned. ``published_at`` is None
    when the source shows no date (see :mod:`newsletter.sources.ingest`)."""

    url: str
    title: str
    outlet: str
    published_at: datetime | None
    summary: str


def check_feed_type(content_type: str) -> None:
    if any(word in content_type for word in FEED_TYPES) or content_type in LENIENT_TYPES:
        return
    raise FeedError(f"expected a feed, got content type {content_type}")


def read(fetched: Fetched, spec: SourceSpec) -> list[FeedEntry]:
    return parse_feed(fetched.content, spec.name, fetched.content_type)


def json_document(fetched: Fetched, what: str) -> object:
    """The JSON body of an API response; FeedError if it is something else."""
    content_type = fetched.content_type
    if content_type and "json" not in content_type and content_type != "text/plain":
        raise FeedError(f"expected {what} (JSON), got content type {content_type}")
    try:
        return json.loads(fetched.content)
    except ValueError:
        raise FeedError(f"not {what}: the body is not JSON") from None


def parse_feed(content: bytes, default_outlet: str, content_type: str = "") -> list[FeedEntry]:
    """The usable entries of a feed: those with an http(s) link and a title."""
    check_feed_type(content_type)
    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        if content_type == "text/html":
            raise FeedError("expected a feed, got an HTML page")
        raise FeedError(f"not a readable feed: {parsed.get('bozo_exception')}")
    if not parsed.get("version") and not parsed.entries:
        raise FeedError("not a feed")
    entries = []
    for entry in parsed.entries:
        raw_summary = entry.get("summary") or ""
        url = resolve_redirect((entry.get("link") or "").strip(), raw_summary)
        source = entry.get("source") or {}
        outlet = html_to_text(source.get("title") or "") or default_outlet
        title = clean_title(entry.get("title") or "", outlet)
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        if not url.startswith(("https://", "http://")) or not title:
            continue
        entries.append(
            FeedEntry(
                url=url,
                title=title,
                outlet=outlet,
                published_at=datetime.fromtimestamp(calendar.timegm(when), UTC) if when else None,
                summary=_summary(raw_summary, title, outlet),
            )
        )
    if parsed.bozo and not entries:
        raise FeedError(f"not a readable feed: {parsed.get('bozo_exception')}")
    return entries


def _summary(raw: str, title: str, outlet: str) -> str:
    """The item's text; empty when it only repeats the headline (as aggregators do)."""
    text = html_to_text(raw)
    if text.removesuffix(outlet).strip() == title:
        return ""
    return text
