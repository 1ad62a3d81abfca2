"""RSS 0.9x/1.0/2.0 and Atom feeds, parsed by feedparser from fetched bytes."""

from __future__ import annotations

import calendar
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser

from newsletter.sources.fetch import Fetched
from newsletter.sources.normalize import (
    BadLink,
    clean_title,
    html_to_text,
    item_url,
    resolve_redirect,
    site_names,
)
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
    return parse_feed(fetched.content, spec.name, fetched.content_type, fetched.url)


def json_document(fetched: Fetched, what: str) -> object:
    """The JSON body of an API response; FeedError if it is something else."""
    content_type = fetched.content_type
    if content_type and "json" not in content_type and content_type != "text/plain":
        raise FeedError(f"expected {what} (JSON), got content type {content_type}")
    try:
        return json.loads(fetched.content)
    except ValueError:
        raise FeedError(f"not {what}: the body is not JSON") from None


def parse_feed(
    content: bytes, default_outlet: str, content_type: str = "", url: str = ""
) -> list[FeedEntry]:
    """The entries of a feed served from ``url`` (relative links resolve against it).

    Entries are returned even when their link or title is unusable: ingestion validates
    each one and counts what it drops. feedparser gets the body as a stream, never as
    bytes or a string, which it would take for a file name or URL to open.
    """
    check_feed_type(content_type)
    parsed = feedparser.parse(
        io.BytesIO(content),
        # the document's URL, to resolve relative links; with any header feedparser also
        # wants a type, and this one lets the XML declaration name the encoding
        response_headers={"content-location": url, "content-type": "application/xml"}
        if url
        else None,
    )
    if parsed.bozo and not parsed.entries:
        if content_type == "text/html":
            raise FeedError("expected a feed, got an HTML page")
        raise FeedError(f"not a readable feed: {parsed.get('bozo_exception')}")
    if not parsed.get("version") and not parsed.entries:
        raise FeedError("not a feed")
    feed_title = html_to_text(str(parsed.feed.get("title") or ""))
    entries = []
    for entry in parsed.entries:
        raw_summary = str(entry.get("summary") or "")
        link = resolve_redirect(_absolute(str(entry.get("link") or ""), url), raw_summary)
        source = entry.get("source") or {}
        outlet = html_to_text(str(source.get("title") or "")) or default_outlet
        title = clean_title(
            str(entry.get("title") or ""), outlet, default_outlet, feed_title, *site_names(link)
        )
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        entries.append(
            FeedEntry(
                url=link,
                title=title,
                outlet=outlet,
                published_at=_time(when),
                summary=_summary(raw_summary, title, outlet),
            )
        )
    if parsed.bozo and not any(_usable(entry) for entry in entries):
        raise FeedError(f"not a readable feed: {parsed.get('bozo_exception')}")
    return entries


def _usable(entry: FeedEntry) -> bool:
    """Has a title and an absolute http(s) link: a broken feed with none such failed."""
    return bool(entry.title) and entry.url.lower().startswith(("https://", "http://"))


def _absolute(link: str, base: str) -> str:
    """The link resolved against the feed's URL; as it is if it cannot be (ingestion
    then drops the entry and says why)."""
    try:
        return item_url(link, base)
    except BadLink:
        return link.strip()


def _time(when: object) -> datetime | None:
    """A UTC time from feedparser's struct_time, or None if there is no usable one."""
    try:
        return datetime.fromtimestamp(calendar.timegm(when), UTC) if when else None  # type: ignore[arg-type]
    except (OverflowError, OSError, TypeError, ValueError):
        return None


def _summary(raw: str, title: str, outlet: str) -> str:
    """The item's text; empty when it only repeats the headline (as aggregators do)."""
    text = html_to_text(raw)
    if text.removesuffix(outlet).strip() == title:
        return ""
    return text
