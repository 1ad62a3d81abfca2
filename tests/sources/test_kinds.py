"""Every kind of source reads its fixtures, and refuses what it cannot read."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from newsletter.sources import googlenews, hackernews, reddit
from newsletter.sources.feed import FeedEntry, FeedError
from newsletter.sources.fetch import Fetched
from newsletter.sources.kinds import KINDS, SourceSettings, resolve
from newsletter.sources.spec import SourceSpec
from tests.sources.fakeweb import fixture_bytes

PAGE = "https://www.anthropic.com/news"


def read(kind: str, name: str, content_type: str, query: str | None = None) -> list[FeedEntry]:
    fetched = Fetched(PAGE, False, fixture_bytes(name), content_type, None, None, 1)
    return KINDS[kind].read(fetched, SourceSpec(1, kind, "Source name", PAGE, query))


@pytest.mark.parametrize(
    ("name", "content_type", "titles"),
    [
        (
            "rss2.xml",
            "application/rss+xml",
            [
                "Anthropic releases Claude Opus 5 with longer context",
                "Claude Code gets background agents",
                "A new open-weights image model tops the leaderboard",
                "An item without a date about Claude",
            ],
        ),
        ("atom.xml", "application/atom+xml", ["Claude & the enterprise: Allianz partnership"]),
        ("rss1.rdf", "application/rdf+xml", ["Anthropic raises a new funding round"]),
        ("rss091.xml", "text/xml", ["Claude usage doubles at universities"]),
        ("empty.xml", "application/xml", []),
    ],
)
def test_rss_versions_and_atom(name: str, content_type: str, titles: list[str]) -> None:
    entries = read("rss", name, content_type)
    assert [entry.title for entry in entries] == titles
    for entry in entries:
        dated = entry.published_at is not None and entry.published_at.tzinfo is UTC
        assert dated or entry.title == "An item without a date about Claude"


def test_rss_item_fields_are_clean_text() -> None:
    first = read("rss", "rss2.xml", "application/rss+xml")[0]
    assert first.summary == "The new Claude model handles a million tokens."
    assert first.outlet == "Source name"
    assert first.published_at == datetime(2026, 1, 12, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "content_type", "message"),
    [
        ("malformed.xml", "application/xml", "not a readable feed"),
        ("news-page.html", "text/html", "expected a feed, got an HTML page"),
        (
            "hn-search.json",
            "application/json",
            "expected a feed, got content type application/json",
        ),
    ],
)
def test_rss_refuses_what_is_not_a_feed(name: str, content_type: str, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        read("rss", name, content_type)


def test_google_news_links_resolve_to_the_articles_when_the_feed_has_them() -> None:
    entries = read("gnews", "google-news.xml", "application/xml")
    assert [(entry.url, entry.outlet) for entry in entries] == [
        ("https://www.theverge.com/2026/1/12/anthropic-claude-healthcare", "The Verge"),
        ("https://www.reuters.com/technology/anthropic-allianz-2026-01-12/", "Reuters"),
        ("https://www.cnbc.com/2026/01/12/anthropic-claude-customers.html", "CNBC"),
        ("https://news.google.com/rss/articles/AU_yqLAlsoOpaque?oc=5", "Some Blog"),
    ]
    assert entries[0].title == "Anthropic brings Claude to hospitals"
    assert entries[1].title == "Claude maker Anthropic signs Allianz deal"
    assert entries[0].summary == ""  # it only repeated the headline


def test_google_news_search_url_per_language() -> None:
    url = googlenews.search_url("Anthropic Claude", "zh-TW")
    params = parse_qs(urlsplit(url).query)
    assert params == {
        "q": ["Anthropic Claude when:1d"],
        "hl": ["zh-TW"],
        "gl": ["TW"],
        "ceid": ["TW:zh-Hant"],
    }
    with pytest.raises(ValueError, match="language must be one of"):
        googlenews.search_url("Claude", "xx")


def test_hacker_news_hits_become_discussion_items() -> None:
    entries = read("hn", "hn-search.json", "application/json")
    assert [entry.url for entry in entries] == [
        "https://news.ycombinator.com/item?id=46549823",
        "https://news.ycombinator.com/item?id=46550001",
    ]
    assert entries[0].outlet == "Hacker News"
    assert "venturebeat.com" in entries[0].summary
    assert entries[1].summary == "We tried Claude on our PRs & liked it."
    assert entries[0].published_at == datetime(2026, 1, 12, 4, 0, tzinfo=UTC)


def test_hacker_news_url_has_query_points_and_time_window() -> None:
    url, query = resolve("hn", SourceSettings(query="Claude OR Anthropic", min_points=20))
    assert query == "Claude OR Anthropic"
    now = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
    spec = SourceSpec(1, "hn", "HN", url, query)
    params = parse_qs(urlsplit(hackernews.request_url(spec, now)).query)
    assert params["query"] == ["Claude Anthropic"]
    assert params["optionalWords"] == ["Claude Anthropic"]
    since = int(now.timestamp()) - 48 * 3600
    assert params["numericFilters"] == [f"points>=20,created_at_i>{since}"]


@pytest.mark.parametrize("body", [b"[]", b'{"hits": 3}', b"not json"])
def test_hacker_news_refuses_other_json(body: bytes) -> None:
    fetched = Fetched(PAGE, False, body, "application/json", None, None, 1)
    with pytest.raises(FeedError, match="not a Hacker News search response"):
        KINDS["hn"].read(fetched, SourceSpec(1, "hn", "HN", PAGE))


def test_reddit_listing_posts() -> None:
    entries = read("reddit", "reddit-listing.json", "application/json")
    assert [entry.title for entry in entries] == [
        "Claude for healthcare is here: Benchling connector now in Claude.ai",
        "Anthropic shut off my third-party Claude Code harness",
    ]
    assert entries[0].url.startswith("https://www.reddit.com/r/ClaudeAI/comments/1q9abcd/")
    assert entries[0].outlet == "Reddit r/ClaudeAI"
    assert entries[1].summary == "Links to https://venturebeat.com/technology/anthropic-cracks-down"


def test_reddit_urls_and_user_agent() -> None:
    assert reddit.listing_url("r/ClaudeAI") == (
        "https://www.reddit.com/r/ClaudeAI/new.json?limit=50&raw_json=1"
    )
    search = parse_qs(urlsplit(reddit.listing_url("ClaudeAI", "Claude Code")).query)
    assert search["q"] == ["Claude Code"] and search["restrict_sr"] == ["1"]
    assert search["t"] == ["day"]
    assert "restrict_sr" not in reddit.listing_url(query="Anthropic")
    with pytest.raises(ValueError, match="not a subreddit name"):
        reddit.listing_url("no spaces allowed")
    assert KINDS["reddit"].headers["User-Agent"].startswith("python:newsletter-digest:")
    with pytest.raises(FeedError, match="not a Reddit listing"):
        KINDS["reddit"].read(
            Fetched(PAGE, False, b'{"data": {}}', "application/json", None, None, 1),
            SourceSpec(1, "reddit", "r", PAGE),
        )


def test_web_page_with_a_css_selector() -> None:
    entries = read("web", "news-page.html", "text/html", "article.card")
    assert [(entry.url, entry.published_at) for entry in entries] == [
        (
            "https://www.anthropic.com/news/healthcare-life-sciences",
            datetime(2026, 1, 11, 16, 0, tzinfo=UTC),
        ),
        ("https://www.anthropic.com/news/allianz", datetime(2026, 1, 9, tzinfo=UTC)),
        ("https://www.anthropic.com/news/claude-usage-policy", None),
    ]
    assert entries[1].title == "Allianz and Anthropic announce a global partnership"


def test_web_page_without_selector_takes_its_own_article_links() -> None:
    urls = [entry.url for entry in read("web", "news-page.html", "text/html")]
    assert urls == [
        "https://www.anthropic.com/news/healthcare-life-sciences",
        "https://www.anthropic.com/news/allianz",
        "https://www.anthropic.com/news/claude-usage-policy",
    ]


def test_web_page_refuses_other_content_and_bad_selectors() -> None:
    with pytest.raises(FeedError, match="expected a web page, got content type application/json"):
        read("web", "hn-search.json", "application/json")
    with pytest.raises(ValueError, match="bad CSS selector"):
        resolve("web", SourceSettings(url=PAGE, selector="article[["))


@pytest.mark.parametrize(
    ("kind", "settings", "message"),
    [
        ("ftp", SourceSettings(url=PAGE), "source kind must be one of"),
        ("hn", SourceSettings(), "needs a query"),
        ("reddit", SourceSettings(), "needs a subreddit or a query"),
        ("gnews", SourceSettings(), "needs a query"),
        ("rss", SourceSettings(), "needs a URL"),
    ],
)
def test_resolve_says_what_is_missing(kind: str, settings: SourceSettings, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve(kind, settings)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("hn", "expected a Hacker News search response (JSON), got content type text/html"),
        ("reddit", "expected a Reddit listing (JSON), got content type text/html"),
    ],
)
def test_json_kinds_refuse_an_html_page(kind: str, message: str) -> None:
    with pytest.raises(FeedError, match=re.escape(message)):
        read(kind, "news-page.html", "text/html")
