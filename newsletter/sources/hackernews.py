"""Hacker News stories from the public Algolia search API (JSON).

A source stores the search URL (query, tags, minimum points); each fetch adds the time
window. Items link to the HN discussion, so that several outlets' reports and the
community's thread end up as sources of one story.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from newsletter.sources.feed import FeedEntry, FeedError, json_document
from newsletter.sources.fetch import Fetched
from newsletter.sources.normalize import clean_title, from_timestamp, html_to_text
from newsletter.sources.spec import SourceSpec

API = "https://hn.algolia.com/api/v1/search_by_date"
WINDOW = timedelta(hours=48)
OUTLET = "Hacker News"


def search_url(query: str, min_points: int = 0) -> str:
    """The search URL for ``query``; ``A OR B`` matches stories with either word."""
    words = [word for word in query.split() if word.upper() != "OR"]
    params = {"query": " ".join(words), "tags": "story", "hitsPerPage": "50"}
    if " OR " in f" {query.upper()} ":
        params["optionalWords"] = " ".join(words)
    if min_points:
        params["numericFilters"] = f"points>={min_points}"
    return f"{API}?{urlencode(params)}"


def request_url(spec: SourceSpec, now: datetime) -> str:
    """The stored search URL, limited to stories of the last :data:`WINDOW`."""
    parts = urlsplit(spec.url)
    params = parse_qsl(parts.query)
    filters = [value for key, value in params if key == "numericFilters"]
    filters.append(f"created_at_i>{int((now - WINDOW).timestamp())}")
    params = [(key, value) for key, value in params if key != "numericFilters"]
    params.append(("numericFilters", ",".join(filters)))
    return urlunsplit(parts._replace(query=urlencode(params)))


def read(fetched: Fetched, spec: SourceSpec) -> list[FeedEntry]:
    document = json_document(fetched, "a Hacker News search response")
    hits = document.get("hits") if isinstance(document, dict) else None
    if not isinstance(hits, list):
        raise FeedError("not a Hacker News search response")
    entries = []
    for hit in hits:
        if not isinstance(hit, dict):
            continue
        title = clean_title(str(hit.get("title") or ""))
        story_id = hit.get("objectID")
        when = from_timestamp(hit.get("created_at_i"))
        if not title or not story_id or when is None:
            continue
        link = str(hit.get("url") or "")
        text = html_to_text(str(hit.get("story_text") or ""))
        if not text:
            text = f"{hit.get('points') or 0} points, {hit.get('num_comments') or 0} comments"
            if link:
                text += f"; links to {link}"
        entries.append(
            FeedEntry(
                url=f"https://news.ycombinator.com/item?id={story_id}",
                title=title,
                outlet=OUTLET,
                published_at=when,
                summary=text,
            )
        )
    return entries
