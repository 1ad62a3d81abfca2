"""Hostile and sloppy items: each is judged on its own, and no body names a file to read."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from newsletter.catalog import add_source, add_topic
from newsletter.db import Database
from newsletter.models import Item, Source
from newsletter.sources import googlenews, hackernews
from newsletter.sources import reddit as reddit_kind
from newsletter.sources.feed import FeedError, parse_feed
from newsletter.sources.ingest import fetch_topic, validate_entries
from newsletter.sources.normalize import canonical_url
from tests.sources.fakeweb import FakeSite, Reply, fixture_bytes
from tests.sources.test_ingest import RSS, fetch, make_topic

NOW = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
BAD_LINKS = ("http://host.example:99999/x", "http://host.example:abc/x", "http://h.example:-1/")


def rss(*items: tuple[str, str], source: str = "") -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link><pubDate>{NOW}</pubDate>{source}</item>"
        for title, link in items
    )
    return f'<rss version="2.0"><channel><title>Feed</title>{body}</channel></rss>'.encode()


def test_a_bad_item_link_costs_only_that_item(db: Database, site: FakeSite) -> None:
    items = [(f"Claude bad {n}", link) for n, link in enumerate(BAD_LINKS)]
    site.route(
        "/bad", Reply(body=rss(("Claude good", "https://ok.example.com/a"), *items), headers=RSS)
    )
    google = rss(
        ("Claude via Google - Wire", "http://wire.example:70000/g"), source="<source>Wire</source>"
    )
    site.route("/google", Reply(body=google, headers=RSS))
    site.route("/other", Reply(body=rss(("Claude other", "https://ok.example.com/b")), headers=RSS))
    page = b'<html><body><a href="http://x.example:99999/p">Claude news from a bad port</a>'
    page += b'<a href="/news/claude-ok">Claude news that is fine to keep</a></body></html>'
    site.route("/page", Reply(body=page, headers={"Content-Type": "text/html"}))
    make_topic(
        db,
        [
            ("rss", "bad", site.url("/bad")),
            ("rss", "google", site.url("/google")),
            ("rss", "other", site.url("/other")),
            ("web", "page", site.url("/page")),
        ],
    )
    results = fetch(db)
    assert (results["bad"].status, results["bad"].new_items) == ("new", 1)
    assert results["bad"].dropped_text() == "3 dropped: malformed link (bad port or host)"
    assert results["google"].dropped_text() == "1 dropped: malformed link (bad port or host)"
    assert (results["other"].status, results["page"].new_items) == ("new", 1)
    with db.session() as session:
        rows = {row.name: row for row in session.scalars(select(Source))}
        assert rows["bad"].last_status == "new"
        assert rows["bad"].last_error == "3 dropped: malformed link (bad port or host)"
        assert session.query(Item).count() == 3


def test_fetch_command_shows_what_was_dropped(db: Database, site: FakeSite) -> None:
    from rich.console import Console

    from newsletter.cli.daily import _results_table

    site.route(
        "/bad", Reply(body=rss(("Claude", "http://h.example:99999/"), ("Claude", "")), headers=RSS)
    )
    make_topic(db, [("rss", "bad", site.url("/bad"))])
    console = Console(width=200, record=True)
    console.print(_results_table(list(fetch(db).values())))
    shown = console.export_text()
    assert "1 dropped: malformed link (bad port or host); 1 dropped: no link" in shown


@pytest.mark.parametrize(
    ("link", "base", "stored"),
    [
        ("/news/x", "https://feed.example.com/rss", "https://feed.example.com/news/x"),
        ("x?id=1", "https://feed.example.com/a/rss", "https://feed.example.com/a/x?id=1"),
        (
            "HTTPS://Upper.Example.com/A",
            "https://feed.example.com/rss",
            "https://upper.example.com/A",
        ),
        ("//cdn.example.com/y", "https://feed.example.com/rss", "https://cdn.example.com/y"),
    ],
)
def test_relative_and_upper_case_links_are_resolved(link: str, base: str, stored: str) -> None:
    [entry] = parse_feed(rss(("Claude", link)), "Feed", "application/rss+xml", base)
    usable, dropped = validate_entries([entry])
    assert [entry.url for entry in usable] == [stored] and not dropped


def test_relative_links_are_stored_from_a_real_fetch(db: Database, site: FakeSite) -> None:
    site.route(
        "/feed",
        Reply(
            body=rss(("Claude relative", "/news/x"), ("Claude upper", "HTTP://U.example.com/y")),
            headers=RSS,
        ),
    )
    make_topic(db, [("rss", "feed", site.url("/feed"))])
    assert fetch(db)["feed"].new_items == 2
    with db.session() as session:
        urls = set(session.scalars(select(Item.url)))
    assert urls == {site.url("/news/x"), "http://u.example.com/y"}


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("javascript:alert(1)", "not an http(s) link"),
        ("https://anthropic.com@evil.example/", "link with a user name"),
        ("https://a.example/x y", "spaces in the link"),
        ("", "no link"),
        ("https://:80/x", "link without a host"),
    ],
)
def test_unusable_links_say_why(link: str, reason: str) -> None:
    [entry] = parse_feed(rss(("Claude", link)), "F", "application/rss+xml")
    usable, dropped = validate_entries([entry])
    assert not usable and dict(dropped) == {reason: 1}


def test_invisible_characters_are_removed_at_ingest(db: Database, site: FakeSite) -> None:
    title = "Cla\u200bude update \u202egnp.exe \u2066x\u2069 for \ufeffdevs \u2060👩\u200d💻"
    site.route("/feed", Reply(body=rss((title, "https://i.example.com/1")), headers=RSS))
    make_topic(db, [("rss", "feed", site.url("/feed"))])
    assert fetch(db)["feed"].new_items == 1  # "Cla\u200bude" no longer hides from the filter
    with db.session() as session:
        stored = session.scalars(select(Item.title)).one()
    assert stored == "Claude update gnp.exe x for devs 👩\u200d💻"


# -- no parser opens what a body names ----------------------------------------------------


@pytest.mark.parametrize("body", [b"/etc/hostname", b"/etc/passwd", b"file:///etc/hostname"])
def test_a_body_naming_a_file_is_not_opened(body: bytes) -> None:
    with pytest.raises(FeedError):
        parse_feed(body, "F", "")


def test_a_body_naming_a_local_feed_file_is_not_ingested() -> None:
    path = Path(__file__).resolve().parents[1] / "fixtures" / "sources" / "rss2.xml"
    with pytest.raises(FeedError):
        parse_feed(str(path).encode(), "F", "application/rss+xml")


def test_a_body_naming_a_url_is_not_fetched(site: FakeSite) -> None:
    site.route("/real", Reply(body=fixture_bytes("rss2.xml"), headers=RSS))
    with pytest.raises(FeedError):
        parse_feed(site.url("/real").encode(), "F", "application/rss+xml")
    assert site.hits("/real") == 0


def test_a_body_naming_dev_zero_is_refused_in_bounded_memory() -> None:
    """In a child process with 1 GB of address space: reading /dev/zero would exhaust it."""
    script = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from newsletter.sources.feed import FeedError, parse_feed\n"
        "try:\n    parse_feed(b'/dev/zero', 'F', '')\n"
        "except FeedError:\n    print('refused')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "refused", done.stderr[-500:]


@pytest.mark.parametrize("kind", ["hn", "reddit"])
def test_json_kinds_clean_their_items_too(kind: str) -> None:
    from newsletter.sources.fetch import Fetched
    from newsletter.sources.kinds import KINDS
    from newsletter.sources.spec import SourceSpec

    title = "Claude\u202e txt.exe\u200b"
    if kind == "hn":
        document = {"hits": [{"objectID": "1", "title": title, "created_at_i": 1768190400}]}
    else:
        post = {"title": title, "permalink": "/r/x/comments/1/", "created_utc": 1768190400}
        document = {"data": {"children": [{"data": post}]}}
    fetched = Fetched(
        "https://api.example",
        False,
        json.dumps(document).encode(),
        "application/json",
        None,
        None,
        1,
    )
    entries = KINDS[kind].read(fetched, SourceSpec(1, kind, "n", "https://api.example", None))
    [entry], dropped = validate_entries(entries)
    assert entry.title == "Claude txt.exe" and not dropped
    assert canonical_url(entry.url).startswith("https://")


def test_every_kind_drops_its_bad_items_and_keeps_the_rest(db: Database) -> None:
    """One topic with a source of each kind, each sending one bad item among good ones
    (the news sites are an httpx transport)."""
    hn = {
        "hits": [
            {"objectID": "1", "title": "Claude on HN", "created_at_i": 1768190400},
            {"objectID": "2 3", "title": "Claude bad id", "created_at_i": 1768190400},
        ]
    }
    posts = [
        {"title": "Claude on Reddit", "permalink": "/r/x/comments/1/", "created_utc": 1768190400},
        {"title": "Claude bad", "permalink": "/r/x/comments/a b/", "created_utc": 1768190400},
    ]
    reddit = {"data": {"children": [{"data": post} for post in posts]}}
    google = rss(
        ("Claude via Google - Wire", "https://wire.example.com/g"),
        ("Claude bad port - Wire", "http://wire.example:99999/g"),
        source="<source>Wire</source>",
    )
    page = (
        b'<html><body><a href="http://news.example.org:abc/p">Claude news from a bad port</a>'
        b'<a href="/news/claude-ok">Claude news that is fine to keep</a></body></html>'
    )
    bodies = {
        "news.google.com": (google, "application/rss+xml"),
        "hn.algolia.com": (json.dumps(hn).encode(), "application/json"),
        "www.reddit.com": (json.dumps(reddit).encode(), "application/json"),
        "news.example.org": (page, "text/html"),
    }

    def news_sites(request: httpx.Request) -> httpx.Response:
        body, content_type = bodies[request.url.host]
        return httpx.Response(200, content=body, headers={"Content-Type": content_type})

    with db.session() as session:
        topic = add_topic(session, "claude", "Claude", keywords=["Claude"], languages=["en"])
        add_source(session, topic, "gnews", "google", googlenews.search_url("Claude"), "Claude")
        add_source(session, topic, "hn", "hn", hackernews.search_url("Claude"), "Claude")
        add_source(session, topic, "reddit", "reddit", reddit_kind.listing_url("ClaudeAI"))
        add_source(session, topic, "web", "web", "https://news.example.org/")
        results = {
            result.source: result
            for result in fetch_topic(session, topic, transport=httpx.MockTransport(news_sites))
        }
    assert {name: (r.status, r.new_items) for name, r in results.items()} == {
        "google": ("new", 1),
        "hn": ("new", 1),
        "reddit": ("new", 1),
        "web": ("new", 1),
    }
    assert results["google"].dropped_text() == "1 dropped: malformed link (bad port or host)"
    assert results["hn"].dropped_text() == "1 dropped: spaces in the link"
    assert results["reddit"].dropped_text() == "1 dropped: spaces in the link"
