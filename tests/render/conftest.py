"""Digests for the rendering tests, built by the real pipeline (bundled sample feeds,
ingestion, clustering, the offline writer) rather than written by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import httpx
import pytest
from sqlalchemy import select

from newsletter.catalog import add_source, add_topic
from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Base, Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.digest.build import assemble, build_digest, items_in_window
from newsletter.digest.offline import OfflineWriter
from newsletter.digest.schema import DigestContent, WrittenDigest
from newsletter.models import Digest, Item, Topic
from newsletter.services import Services
from newsletter.sources.ingest import fetch_topic

HOSTILE_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Hostile</title><link>https://hostile.example/</link>
<description>x</description>
<item>
  <title>&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;
    Claude &amp;lt;img src=x onerror=alert(2)&amp;gt;</title>
  <link>http://hostile.example/story?a=1&amp;b="onmouseover=alert(3)</link>
  <pubDate>Mon, 12 Jan 2026 04:00:00 GMT</pubDate>
  <source url="https://hostile.example">Outlet &amp;lt;b onclick=alert(4)&amp;gt;</source>
  <description>Claude news &amp;lt;iframe src=javascript:alert(5)&amp;gt;
    and more text here for the lead sentence.</description>
</item>
<item>
  <title>Claude story two</title>
  <link>https://hostile.example/two</link>
  <pubDate>Mon, 12 Jan 2026 05:00:00 GMT</pubDate>
  <description>A plain second Claude story, long enough to be used as a lead sentence.</description>
</item>
</channel></rss>"""


def _empty(database: Database) -> None:
    with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(scope="session")
def demo_digests(_session_database: Database) -> Iterator[dict[str, DigestContent]]:
    """The demo topic's digests by language (13 sources each), built once per session."""
    settings = Settings(database_url=_session_database.url)
    with _session_database.session() as session:
        seed_demo(session, settings.suppression_key)
    steps.fetch(Services(settings, _session_database), "claude")
    steps.build(Services(settings, _session_database), "claude", SAMPLE_DATE, ["en", "zh-TW"])
    with _session_database.session() as session:
        digests = {
            digest.language: DigestContent.model_validate(digest.content)
            for digest in session.scalars(select(Digest))
        }
    _empty(_session_database)
    yield digests


@pytest.fixture
def hostile_digest(db: Database) -> DigestContent:
    """A digest whose item text carries markup and script, from a feed fetched through
    the real ingestion (only the news site is faked)."""

    def news_site(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=HOSTILE_FEED, headers={"Content-Type": "text/xml"})

    with db.session() as session:
        topic = add_topic(session, "claude", "Claude", keywords=["Claude"], languages=["en"])
        add_source(session, topic, "rss", "Hostile", "https://hostile.example/feed.xml")
        session.flush()
        fetch_topic(session, topic, transport=httpx.MockTransport(news_site))
        # Ingestion reduces feed markup to text (tests/sources), so the markup is planted
        # in the stored item, as text a writer could still hand the renderer.
        item = session.scalars(select(Item).order_by(Item.published_at)).first()
        assert item is not None
        item.title = "<script>alert(1)</script> Claude <img src=x onerror=alert(2)>"
        item.outlet = "Outlet <b onclick=alert(4)>"
        item.summary = "Claude news <iframe src=javascript:alert(5)> and more text here."
        outcome = build_digest(session, topic, SAMPLE_DATE, "en", OfflineWriter())
        assert outcome.digest.content is not None
        return DigestContent.model_validate(outcome.digest.content)


WRITTEN_FIXTURE = Path(__file__).parent / "fixtures" / "claude-2026-01-12.zh-TW.json"


def _feed_of(items: list[dict[str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{escape(item['title'])}</title><link>{escape(item['url'])}</link>"
        f"<pubDate>Mon, 12 Jan 2026 0{index % 6}:00:00 GMT</pubDate>"
        f'<source url="https://example.org">{escape(item["outlet"])}</source>'
        "<description>Claude and Anthropic news.</description></item>"
        for index, item in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title>'
        f"<link>https://news.example.org/</link><description>x</description>{entries}"
        "</channel></rss>"
    ).encode()


@pytest.fixture(scope="session")
def claude_written_digest(_session_database: Database) -> Iterator[DigestContent]:
    """A full 10-source zh-TW digest as Claude writes it (the reference example), grounded
    on items ingested from a feed of its ten sources and assembled by the real builder."""
    fixture = json.loads(WRITTEN_FIXTURE.read_text(encoding="utf-8"))
    feed = _feed_of(fixture["items"])

    def news_site(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=feed, headers={"Content-Type": "application/rss+xml"})

    with _session_database.session() as session:
        topic = add_topic(
            session, "claude", "Claude", keywords=["Claude", "Anthropic"], languages=["zh-TW"]
        )
        add_source(session, topic, "rss", "News", "https://news.example.org/claude.xml")
        session.flush()
        fetch_topic(session, topic, transport=httpx.MockTransport(news_site))
        items = items_in_window(session, topic, SAMPLE_DATE)
        by_url = {item.url: item.id for item in items}
        ids = [by_url[item["url"]] for item in fixture["items"]]
        written = WrittenDigest.model_validate(fixture["written"])
        for part in [*written.highlights, *written.key_points]:
            part.item_ids = [ids[position - 1] for position in part.item_ids]
        content = assemble(session.get_one(Topic, topic.id), SAMPLE_DATE, "zh-TW", written, items)
    _empty(_session_database)
    yield content
