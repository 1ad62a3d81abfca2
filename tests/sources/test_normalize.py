"""Canonical URLs, redirect links, titles and feed HTML reduced to safe text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsletter.sources.feed import parse_feed
from newsletter.sources.normalize import (
    canonical_url,
    cap,
    clean_title,
    html_to_text,
    not_after,
    resolve_redirect,
    site_names,
)
from tests.sources.fakeweb import fixture_bytes


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "https://www.example.com/a/story?utm_source=x&utm_medium=y&id=7#comments",
            "https://www.example.com/a/story?id=7",
        ),
        ("HTTPS://WWW.Example.com:443/a/", "https://www.example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com/a?fbclid=1&gclid=2&ref=hn&b=2&a=1", "https://example.com/a?b=2&a=1"),
        (  # every known tracker goes; the rest of the query keeps its order and encoding
            "https://example.com/a?z=1&_ga=2.1&mkt_tok=x&si=abc&GCLID=3&mc_cid=c&mc_eid=e"
            "&igshid=i&q=a+b%20c&utm_Source=x&_hsenc=h&a=",
            "https://example.com/a?z=1&q=a+b%20c&a=",
        ),
        ("https://m.example.com/news/story", "https://example.com/news/story"),
        ("https://mobile.example.com/news/story", "https://example.com/news/story"),
        ("https://amp.example.com/news/story", "https://example.com/news/story"),
        ("https://example.com/news/story/amp/", "https://example.com/news/story"),
        ("https://example.com/amp/news/story", "https://example.com/news/story"),
        ("https://example.com/news/story.amp.html", "https://example.com/news/story.html"),
        ("https://example.com/news/story?amp=1", "https://example.com/news/story"),
        ("https://example.com/news/story?outputType=amp", "https://example.com/news/story"),
        (
            "https://www-example-com.cdn.ampproject.org/c/s/www.example.com/news/story",
            "https://www.example.com/news/story",
        ),
        (
            "https://www.google.com/amp/s/www.example.com/news/story",
            "https://www.example.com/news/story",
        ),
        ("https://m.com/a", "https://m.com/a"),
        ("https://example.com/", "https://example.com/"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_canonical_url_is_stable() -> None:
    url = "https://m.example.com/x/amp/?utm_campaign=a&b=1#top"
    assert canonical_url(canonical_url(url)) == canonical_url(url)


@pytest.mark.parametrize(
    ("link", "summary", "target"),
    [
        (
            "https://news.google.com/url?url=https%3A%2F%2Fwww.cnbc.com%2Fa.html&ct=ga",
            "",
            "https://www.cnbc.com/a.html",
        ),
        ("https://www.google.com/url?q=https://example.com/b&sa=U", "", "https://example.com/b"),
        (
            "https://news.google.com/rss/articles/AU_yqLopaque?oc=5",
            '<a href="https://example.com/c">C</a>&nbsp;<font>Outlet</font>',
            "https://example.com/c",
        ),
        (  # two different off-site links: we cannot tell which is the article
            "https://news.google.com/rss/articles/AU_yqLopaque?oc=5",
            '<a href="https://example.com/c">C</a> <a href="https://example.com/d">D</a>',
            "https://news.google.com/rss/articles/AU_yqLopaque?oc=5",
        ),
        (  # a javascript: link is not a target
            "https://news.google.com/rss/articles/AU_yqLopaque?oc=5",
            '<a href="javascript:alert(1)">x</a>',
            "https://news.google.com/rss/articles/AU_yqLopaque?oc=5",
        ),
        (
            "https://example.com/e",
            '<a href="https://other.example.org/">x</a>',
            "https://example.com/e",
        ),
    ],
)
def test_resolve_redirect(link: str, summary: str, target: str) -> None:
    assert resolve_redirect(link, summary) == target


NBC = "https://www.nbcnews.com/tech/a"


@pytest.mark.parametrize(
    ("title", "names", "clean"),
    [
        (
            "Anthropic joins OpenAI's push - NBC News",
            site_names(NBC),
            "Anthropic joins OpenAI's push",
        ),
        ("Claude maker signs deal | Reuters", ["Reuters"], "Claude maker signs deal"),
        (
            "Claude gets a new model - The Very Long Named Newspaper of Record",
            ["The Very Long Named Newspaper of Record"],
            "Claude gets a new model",
        ),
        (
            "Advancing Claude \\ Anthropic",
            ["Anthropic News", *site_names("https://www.anthropic.com/news/x")],
            "Advancing Claude",
        ),
        ("<b>Bold</b> &amp; <i>new</i>", [], "Bold & new"),
        ("Claude - the good, the bad and the ugly parts of it all", site_names(NBC), None),
        (
            "Why we moved to Claude : r/ClaudeAI",
            site_names("https://www.reddit.com/r/ClaudeAI/comments/1/x"),
            "Why we moved to Claude",
        ),
        ("Claude 4 - what's new", ["What's New"], "Claude 4"),
        (
            "OpenAI hires CFO | The Wall Street Journal",
            ["The Wall Street Journal"],
            "OpenAI hires CFO",
        ),
        (
            "Gemini 3 is here - 9to5Google",
            site_names("https://9to5google.com/2026/x"),
            "Gemini 3 is here",
        ),
        (
            "Anthropic news - theverge.com",
            site_names("https://www.theverge.com/x"),
            "Anthropic news",
        ),
        # the second half of a headline is not an outlet, however it is capitalised
        ("Anthropic Launches New Model - Claude Opus 5", ["Reuters", *site_names(NBC)], None),
        ("OpenAI hires CFO | The Wall Street Journal", site_names(NBC), None),
        ("Claude Opus 5 - Anthropic", [], None),
        ("Claude Opus 5 | Claude.ai", site_names("https://www.anthropic.com/news/x"), None),
    ],
)
def test_clean_title(title: str, names: list[str], clean: str | None) -> None:
    assert clean_title(title, *names) == (clean or title)


def test_feed_titles_keep_a_second_half_that_is_not_the_outlet() -> None:
    feed = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Tech Wire</title>'
        b"<item><title>Anthropic Launches New Model - Claude Opus 5</title>"
        b"<link>https://techwire.example.com/a</link></item>"
        b"<item><title>Claude gets memory - Tech Wire</title>"
        b"<link>https://techwire.example.com/b</link></item>"
        b"<item><title>Claude in Chrome - The Verge</title><source>The Verge</source>"
        b"<link>https://www.theverge.com/c</link></item>"
        b"</channel></rss>"
    )
    titles = [entry.title for entry in parse_feed(feed, "wire", "application/rss+xml")]
    assert titles == [
        "Anthropic Launches New Model - Claude Opus 5",
        "Claude gets memory",
        "Claude in Chrome",
    ]


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>Claude",
        '<img src=x onerror="alert(1)">Claude',
        "&lt;script&gt;alert(1)&lt;/script&gt;Claude",
        "&amp;lt;img src=x onerror=alert(1)&amp;gt;Claude",
        '<p onclick="x()">Claude</p><iframe src="https://evil.example.com"></iframe>',
        "<style>body{display:none}</style><svg onload=alert(1)>Claude</svg>",
    ],
)
def test_hostile_html_becomes_plain_text(hostile: str) -> None:
    text = html_to_text(hostile)
    assert "Claude" in text
    for marker in ("<", ">", "onerror", "onload", "onclick", "alert(1)", "display:none"):
        assert marker not in text


def test_hostile_feed_items_carry_no_markup() -> None:
    [entry] = parse_feed(fixture_bytes("hostile.xml"), "Hostile", "application/rss+xml")
    assert entry.title == "Claude jailbreak report"
    assert entry.summary == "Claude news click"
    for field in (entry.title, entry.summary):
        assert "<" not in field and "script" not in field and "onerror" not in field


def test_plain_text_keeps_comparisons_and_ampersands() -> None:
    assert html_to_text("Q&A: 3 < 4 and 5 > 2") == "Q&A: 3 < 4 and 5 > 2"


def test_cap_cuts_at_a_word() -> None:
    assert cap("one two three four", 12) == "one two…"
    assert cap("short", 12) == "short"


def test_future_dates_are_clamped() -> None:
    now = datetime(2026, 1, 12, tzinfo=UTC)
    assert not_after(now + timedelta(days=3), now) == now
    assert not_after(now - timedelta(hours=1), now) == now - timedelta(hours=1)
