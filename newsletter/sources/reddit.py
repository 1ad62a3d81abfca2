"""Reddit listings as JSON: a subreddit's newest posts, or a search (site-wide or within
one subreddit). Reddit asks API clients for a descriptive User-Agent."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from newsletter.sources.feed import FeedEntry, FeedError, json_document
from newsletter.sources.fetch import Fetched
from newsletter.sources.normalize import clean_title, from_timestamp, html_to_text
from newsletter.sources.spec import SourceSpec

BASE = "https://www.reddit.com"
USER_AGENT = "python:newsletter-digest:0.1 (self-hosted daily news digest)"
HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json"}
_SUBREDDIT = re.compile(r"^[A-Za-z0-9_]{2,21}$")


def valid_subreddit(name: str) -> str:
    """The bare subreddit name (``r/`` removed); ValueError if it cannot be one."""
    bare = name.strip().removeprefix("/").removeprefix("r/")
    if not _SUBREDDIT.match(bare):
        raise ValueError(f"not a subreddit name: {name!r}")
    return bare


def listing_url(subreddit: str | None = None, query: str | None = None) -> str:
    """Newest posts of ``subreddit``, or the last day's posts matching ``query``."""
    if not subreddit and not query:
        raise ValueError("a Reddit source needs a subreddit or a query")
    prefix = f"{BASE}/r/{valid_subreddit(subreddit)}" if subreddit else BASE
    if not query:
        return f"{prefix}/new.json?{urlencode({'limit': 50, 'raw_json': 1})}"
    params = {"q": query, "sort": "new", "t": "day", "limit": 50, "raw_json": 1}
    if subreddit:
        params["restrict_sr"] = 1
    return f"{prefix}/search.json?{urlencode(params)}"


def read(fetched: Fetched, spec: SourceSpec) -> list[FeedEntry]:
    document = json_document(fetched, "a Reddit listing")
    data = document.get("data") if isinstance(document, dict) else None
    children = data.get("children") if isinstance(data, dict) else None
    if not isinstance(children, list):
        raise FeedError("not a Reddit listing")
    entries = []
    for child in children:
        post = child.get("data") if isinstance(child, dict) else None
        if not isinstance(post, dict):
            continue
        title = clean_title(str(post.get("title") or ""))
        permalink = str(post.get("permalink") or "")
        when = from_timestamp(post.get("created_utc"))
        if not title or not permalink.startswith("/") or when is None:
            continue
        text = html_to_text(str(post.get("selftext") or ""))
        link = str(post.get("url") or "")
        if not text and link.startswith("http") and "reddit.com" not in link:
            text = f"Links to {link}"
        where = str(post.get("subreddit_name_prefixed") or "Reddit")
        entries.append(
            FeedEntry(
                url=f"{BASE}{permalink}",
                title=title,
                outlet=f"Reddit {where}",
                published_at=when,
                summary=text,
            )
        )
    return entries
