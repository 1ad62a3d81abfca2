"""Google News RSS search for a query in one language and region.

The response is an ordinary RSS feed (parsed by :mod:`newsletter.sources.feed`, which
also resolves Google's redirect links where the feed carries the target).
"""

from __future__ import annotations

from urllib.parse import urlencode

SEARCH = "https://news.google.com/rss/search"
# language -> (hl, gl, ceid): the interface language, the region, the edition
EDITIONS = {
    "en": ("en-US", "US", "US:en"),
    "en-GB": ("en-GB", "GB", "GB:en"),
    "zh-TW": ("zh-TW", "TW", "TW:zh-Hant"),
    "zh-CN": ("zh-CN", "CN", "CN:zh-Hans"),
    "ja": ("ja", "JP", "JP:ja"),
    "de": ("de", "DE", "DE:de"),
    "fr": ("fr", "FR", "FR:fr"),
}


def search_url(query: str, language: str = "en") -> str:
    """The feed of news matching ``query`` from the last day."""
    if not query.strip():
        raise ValueError("a Google News source needs a query")
    if language not in EDITIONS:
        raise ValueError(f"Google News language must be one of {', '.join(EDITIONS)}")
    hl, gl, ceid = EDITIONS[language]
    params = {"q": f"{query.strip()} when:1d", "hl": hl, "gl": gl, "ceid": ceid}
    return f"{SEARCH}?{urlencode(params)}"
