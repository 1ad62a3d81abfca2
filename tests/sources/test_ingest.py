"""A topic's sources fetched together into the database: isolation, validators, speed."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from newsletter.catalog import add_source, add_topic
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.digest.build import build_digest
from newsletter.digest.offline import OfflineWriter
from newsletter.models import Item, Source, Topic
from newsletter.render.email import render_email
from newsletter.sources.feed import FeedEntry
from newsletter.sources.fetch import Fetched, FetchPolicy
from newsletter.sources.ingest import BASELINE_AGE, SourceResult, fetch_topic
from newsletter.sources.kinds import KINDS, Kind
from newsletter.sources.spec import SourceSpec
from tests.sources.fakeweb import FakeSite, Reply, fixture_bytes

POLICY = FetchPolicy(timeout=1.0, retries=2, backoff=0.01, max_bytes=100_000, per_host=16)
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def make_topic(db: Database, sources: list[tuple[str, str, str]]) -> None:
    with db.session() as session:
        topic = add_topic(
            session, "claude", "Claude", keywords=["Claude", "Anthropic"], languages=["en"]
        )
        for kind, name, url in sources:
            add_source(session, topic, kind, name, url)


def fetch(db: Database, policy: FetchPolicy = POLICY) -> dict[str, SourceResult]:
    with db.session() as session:
        topic = session.scalars(select(Topic)).one()
        return {result.source: result for result in fetch_topic(session, topic, policy=policy)}


def test_each_source_succeeds_or_fails_on_its_own(db: Database, site: FakeSite) -> None:
    site.route("/good", Reply(body=fixture_bytes("rss2.xml"), headers={**RSS, "ETag": '"g1"'}))
    site.route("/atom", Reply(body=fixture_bytes("atom.xml"), headers=RSS))
    site.route("/broken", Reply(body=fixture_bytes("malformed.xml"), headers=RSS))
    site.route("/empty", Reply(body=fixture_bytes("empty.xml"), headers=RSS))
    site.route(
        "/html", Reply(body=fixture_bytes("news-page.html"), headers={"Content-Type": "text/html"})
    )
    site.route("/json", Reply(body=b"{}", headers={"Content-Type": "application/json"}))
    site.route("/slow", Reply(body=fixture_bytes("rss091.xml"), headers=RSS, delay=3))
    site.route("/flaky", Reply(500), Reply(body=fixture_bytes("rss1.rdf"), headers=RSS))
    site.route(
        "/busy",
        Reply(429, headers={"Retry-After": "0"}),
        Reply(body=fixture_bytes("rss091.xml"), headers=RSS),
    )
    site.route("/moved", Reply(301, headers={"Location": "/gnews"}))
    site.route("/gnews", Reply(body=fixture_bytes("google-news.xml"), headers=RSS))
    site.route("/huge", Reply(body=b"<rss>" + b" " * 200_000, headers=RSS))
    site.route("/gone", Reply(404))
    names = [
        "good",
        "atom",
        "broken",
        "empty",
        "html",
        "json",
        "slow",
        "flaky",
        "busy",
        "moved",
        "huge",
        "gone",
    ]
    make_topic(db, [("rss", name, site.url(f"/{name}")) for name in names])

    results = fetch(db)

    outcome = {name: (results[name].status, results[name].new_items) for name in names}
    assert outcome == {
        "good": ("new", 3),  # the image-model item does not mention the topic
        "atom": ("new", 1),
        "broken": ("failed", 0),
        "empty": ("unchanged", 0),
        "html": ("failed", 0),
        "json": ("failed", 0),
        "slow": ("failed", 0),
        "flaky": ("new", 1),
        "busy": ("new", 1),
        "moved": ("new", 4),
        "huge": ("failed", 0),
        "gone": ("failed", 0),
    }
    errors = {name: results[name].error for name in names if results[name].status == "failed"}
    assert errors["broken"].startswith("not a readable feed")
    assert errors["html"] == "expected a feed, got an HTML page"
    assert errors["json"] == "expected a feed, got content type application/json"
    assert errors["slow"] == "timed out after 1 s"
    assert errors["huge"] == "response of 200005 bytes is over the 100000 byte cap"
    assert errors["gone"] == "HTTP 404"
    assert results["good"].seen_items == 4

    with db.session() as session:
        rows = {source.name: source for source in session.scalars(select(Source))}
        assert rows["good"].etag == '"g1"' and rows["good"].last_status == "new"
        assert rows["slow"].last_status == "failed"
        assert rows["slow"].last_error == errors["slow"]
        assert all(row.last_fetched_at is not None for row in rows.values())
        urls = set(session.scalars(select(Item.canonical_url)))
    assert "https://ai.example.com/2026/01/claude-opus-5" in urls  # utm_* and fragment gone
    assert "https://lab.example.org/posts/allianz-claude" in urls  # mobile + AMP variant
    assert "https://www.theverge.com/2026/1/12/anthropic-claude-healthcare" in urls
    assert not any("image-model" in url for url in urls)


def test_second_fetch_uses_validators_and_a_304_costs_nothing(db: Database, site: FakeSite) -> None:
    def respond(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(body=fixture_bytes("rss2.xml"), headers={**RSS, "ETag": '"v1"'})

    site.route("/feed", respond)
    site.route("/atom", Reply(body=fixture_bytes("atom.xml"), headers=RSS))
    make_topic(db, [("rss", "feed", site.url("/feed")), ("rss", "atom", site.url("/atom"))])

    first = fetch(db)
    second = fetch(db)

    assert first["feed"].status == "new" and first["feed"].new_items == 3
    assert (second["feed"].status, second["feed"].seen_items) == ("not-modified", 0)
    assert (second["atom"].status, second["atom"].seen_items) == ("unchanged", 1)
    feed_requests = [headers for path, headers in site.requests if path == "/feed"]
    assert [headers.get("if-none-match") for headers in feed_requests] == [None, '"v1"']
    with db.session() as session:
        source = session.scalar(select(Source).where(Source.name == "feed"))
        assert source is not None and source.etag == '"v1"'
        assert session.query(Item).count() == 4


def test_undated_items_are_old_on_the_first_fetch_and_new_later(
    db: Database, site: FakeSite
) -> None:
    undated = '<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    item = "<item><title>Claude item {n}</title><link>https://u.example.com/{n}</link></item>"
    site.route(
        "/feed",
        Reply(body=undated.format(items=item.format(n=1)).encode(), headers=RSS),
        Reply(body=undated.format(items=item.format(n=1) + item.format(n=2)).encode(), headers=RSS),
    )
    make_topic(db, [("rss", "feed", site.url("/feed"))])
    fetch(db)
    fetch(db)
    now = datetime.now(UTC)
    with db.session() as session:
        dates = {item.title: item.published_at for item in session.scalars(select(Item))}
    assert abs(now - BASELINE_AGE - dates["Claude item 1"].replace(tzinfo=UTC)) < timedelta(
        minutes=1
    )
    assert abs(now - dates["Claude item 2"].replace(tzinfo=UTC)) < timedelta(minutes=1)


def test_a_source_that_fails_once_keeps_dating_its_new_items_today(
    db: Database, site: FakeSite
) -> None:
    undated = '<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    item = "<item><title>Claude item {n}</title><link>https://u.example.com/{n}</link></item>"
    site.route(
        "/feed",
        Reply(body=undated.format(items=item.format(n=1)).encode(), headers=RSS),
        Reply(status=500),
        Reply(body=undated.format(items=item.format(n=1) + item.format(n=2)).encode(), headers=RSS),
    )
    make_topic(db, [("rss", "feed", site.url("/feed"))])
    fetch(db, FetchPolicy(retries=0))
    assert fetch(db, FetchPolicy(retries=0))["feed"].status == "failed"
    fetch(db, FetchPolicy(retries=0))
    with db.session() as session:
        dates = {item.title: item.published_at for item in session.scalars(select(Item))}
    assert abs(datetime.now(UTC) - dates["Claude item 2"]) < timedelta(minutes=1)


def test_every_kind_is_capped_where_items_are_stored(db: Database, site: FakeSite) -> None:
    long = "Claude " + "word " * 400
    feed = (
        '<rss version="2.0"><channel><title>t</title><item>'
        f"<title>{long}</title><link>https://u.example.com/1</link>"
        f'<description>{long}</description><source url="https://o.example">{"O" * 400}</source>'
        "</item></channel></rss>"
    )
    site.route("/feed", Reply(body=feed.encode(), headers=RSS))
    make_topic(db, [("rss", "feed", site.url("/feed"))])
    fetch(db)
    with db.session() as session:
        item = session.scalars(select(Item)).one()
    assert len(item.title) <= 300 and item.title.endswith("…")
    assert len(item.summary) <= 600 and len(item.outlet) == 200


def test_ten_slow_sources_are_fetched_concurrently(
    db: Database, make_site: Callable[[], FakeSite]
) -> None:
    sites = [make_site() for _ in range(10)]
    for site in sites:
        site.route("/feed", Reply(body=fixture_bytes("rss2.xml"), headers=RSS, delay=0.5))
    make_topic(db, [("rss", f"source {n}", site.url("/feed")) for n, site in enumerate(sites)])

    started = time.perf_counter()
    results = fetch(db, FetchPolicy(timeout=5.0))
    elapsed = time.perf_counter() - started

    assert [result.status for result in results.values()].count("new") == 1  # same items
    assert all(result.status != "failed" for result in results.values())
    assert elapsed < 1.5, f"10 sources of 0.5 s took {elapsed:.2f} s"


def test_hostile_feed_html_never_reaches_the_email(
    db: Database, site: FakeSite, settings: Settings
) -> None:
    site.route("/feed", Reply(body=fixture_bytes("hostile.xml"), headers=RSS))
    make_topic(db, [("rss", "Hostile <b>outlet</b>", site.url("/feed"))])
    assert fetch(db)["Hostile <b>outlet</b>"].new_items == 1
    with db.session() as session:
        topic = session.scalars(select(Topic)).one()
        topic.send_time = datetime(2026, 1, 12, 8, 0).time()
        digest = build_digest(session, topic, date(2026, 1, 12), "en", OfflineWriter()).digest
        rendered = render_email(settings, digest)
    assert "Claude jailbreak report" in rendered.html
    lowered = rendered.html.lower()
    for marker in ("<script", "onerror", "onclick", "<iframe", "javascript:", "alert("):
        assert marker not in lowered


def test_a_parser_that_crashes_fails_only_its_source(
    db: Database, site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(fetched: Fetched, spec: SourceSpec) -> list[FeedEntry]:
        raise RuntimeError("parser bug")

    monkeypatch.setitem(KINDS, "web", Kind("web", "a page", crash))
    site.route("/feed", Reply(body=fixture_bytes("rss2.xml"), headers=RSS))
    site.route(
        "/page", Reply(body=fixture_bytes("news-page.html"), headers={"Content-Type": "text/html"})
    )
    make_topic(db, [("rss", "feed", site.url("/feed")), ("web", "page", site.url("/page"))])
    results = fetch(db)
    assert (results["page"].status, results["page"].error) == (
        "failed",
        "unexpected RuntimeError: parser bug",
    )
    assert results["feed"].status == "new"


def test_entries_with_overlong_urls_are_skipped(db: Database, site: FakeSite) -> None:
    long = "https://long.example.com/" + "a" * 2000
    body = (
        '<rss version="2.0"><channel><title>t</title>'
        f"<item><title>Claude long</title><link>{long}</link></item>"
        "<item><title>Claude short</title><link>https://long.example.com/b</link></item>"
        "</channel></rss>"
    ).encode()
    site.route("/feed", Reply(body=body, headers=RSS))
    make_topic(db, [("rss", "feed", site.url("/feed"))])
    assert fetch(db)["feed"].new_items == 1


def test_a_large_feed_is_stored_once(db: Database, site: FakeSite) -> None:
    now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    items = "".join(
        f"<item><title>Claude story {n}</title><link>https://big.example.com/{n}</link>"
        f"<pubDate>{now}</pubDate></item>"
        for n in range(1500)
    )
    body = f'<rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()
    site.route("/big", Reply(body=body, headers=RSS))
    make_topic(db, [("rss", "big", site.url("/big"))])
    assert fetch(db, FetchPolicy(max_bytes=1_000_000))["big"].new_items == 1500
    assert fetch(db, FetchPolicy(max_bytes=1_000_000))["big"].new_items == 0
    with db.session() as session:
        assert session.query(Item).count() == 1500


def test_a_malformed_stored_url_fails_only_its_source(db: Database, site: FakeSite) -> None:
    site.route("/feed", Reply(body=fixture_bytes("rss2.xml"), headers=RSS))
    make_topic(db, [("rss", "feed", site.url("/feed"))])
    with db.session() as session:  # rows from before URLs were checked on input
        topic = session.scalars(select(Topic)).one()
        session.add(Source(topic=topic, kind="rss", name="port", url="http://127.0.0.1:99999/x"))
        session.add(Source(topic=topic, kind="rss", name="ipv6", url="https://[::1/x"))
        session.add(Source(topic=topic, kind="gopher", name="gopher", url="https://e.com/x"))
    results = fetch(db)
    assert results["feed"].status == "new"
    assert results["port"].status == results["ipv6"].status == "failed"
    assert results["ipv6"].error == "unexpected ValueError: Invalid IPv6 URL"
    assert results["gopher"].error == "unknown source kind 'gopher'"
