"""The archive: list per topic and language, the digest as a page, the Atom feed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html import escape as html_escape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.digest.schema import DigestContent
from newsletter.i18n import labels
from newsletter.models import Digest
from newsletter.render.links import archive_url
from newsletter.render.markdown import markdown_to_html, render_digest_markdown
from newsletter.services import Services
from tests.render.sections import shown_sections

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def digests(app: Flask, db: Database, settings: Settings) -> dict[str, DigestContent]:
    """The demo topic's digests of the sample day, written by the offline writer."""
    with db.session() as session:
        seed_demo(session, settings.suppression_key)
    steps.fetch(Services(settings, db), "claude")
    outcomes = steps.build(Services(settings, db), "claude", SAMPLE_DATE, ["en", "zh-TW"])
    return {o.digest.language: DigestContent.model_validate(o.digest.content) for o in outcomes}


def test_index_lists_the_digests_of_a_language(
    app: Flask, digests: dict[str, DigestContent]
) -> None:
    client = app.test_client()
    page = client.get("/archive/claude/?lang=zh-TW")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="zh-TW">' in html
    assert digests["zh-TW"].title in html
    assert digests["en"].title not in html
    assert f'href="/archive/claude/{SAMPLE_DATE}?lang=zh-TW"' in html
    assert 'type="application/atom+xml"' in html
    assert page.headers["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_digest_page_renders_every_section(
    app: Flask, digests: dict[str, DigestContent], language: str
) -> None:
    page = app.test_client().get(f"/archive/claude/{SAMPLE_DATE}?lang={language}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    digest = digests[language]
    assert f'<html lang="{language}">' in html
    assert f"<h1>{escape(digest.title)}</h1>" in html
    words = labels(language)
    assert f"<h2>{escape(words['summary'])}</h2>" in html
    for key in ("trends", "highlights", "analysis", "key_points", "thinking", "sources"):
        heading = f"<h2>{html_escape(words[key], quote=False)}</h2>"
        if key in shown_sections(digest) or key == "sources":
            assert heading in html, key
        else:  # a section the writer had no facts for is left out, not padded
            assert heading not in html, key
    for source in digest.sources:
        assert f'href="{source.url}"' in html


def test_digest_page_and_jekyll_export_share_one_renderer(
    app: Flask, digests: dict[str, DigestContent]
) -> None:
    html = app.test_client().get(f"/archive/claude/{SAMPLE_DATE}?lang=zh-TW").get_data(True)
    body = markdown_to_html(render_digest_markdown(digests["zh-TW"]))
    assert body in html
    assert "<h2>🔗 資料來源</h2>" in body


def test_archive_url_from_the_email_opens_the_page(
    app: Flask, settings: Settings, digests: dict[str, DigestContent], db: Database
) -> None:
    with db.session() as session:
        digest = session.scalars(select(Digest).where(Digest.language == "zh-TW")).one()
        url = archive_url(settings.base_url, digest.topic.slug, digest.date, digest.language)
    path = url.removeprefix(settings.base_url)
    assert app.test_client().get(path).status_code == 200


def test_feed_is_valid_atom_per_language(app: Flask, digests: dict[str, DigestContent]) -> None:
    response = app.test_client().get("/archive/claude/feed.xml?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == digests["en"].title
    link = entry.find(f"{ATOM}link")
    assert link is not None
    assert link.get("href") == f"https://news.example.org/archive/claude/{SAMPLE_DATE}?lang=en"
    for tag in ("id", "updated"):
        assert feed.findtext(f"{ATOM}{tag}")
        assert entry.findtext(f"{ATOM}{tag}")
    # the digest's own date (at the topic's 08:00 UTC send time), not when it was built
    edition = f"{SAMPLE_DATE.isoformat()}T08:00:00+00:00"
    assert feed.findtext(f"{ATOM}updated") == edition
    assert entry.findtext(f"{ATOM}updated") == entry.findtext(f"{ATOM}published") == edition


@pytest.mark.parametrize(
    "path",
    [
        "/archive/nope/",
        "/archive/nope/feed.xml",
        "/archive/claude/2026-13-45",
        "/archive/claude/not-a-date",
        "/archive/claude/2020-01-01?lang=en",
    ],
)
def test_unknown_topic_or_date_is_404(
    app: Flask, digests: dict[str, DigestContent], path: str
) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_empty_archive_says_so(client: FlaskClient) -> None:
    html = client.get("/archive/openai/?lang=en").get_data(as_text=True)
    assert "No digests in this language yet." in html


def test_cached_page_carries_nothing_from_a_visitors_session(
    app: Flask, digests: dict[str, DigestContent]
) -> None:
    first = app.test_client()
    with first.session_transaction() as session:
        session["_flashes"] = [("message", "private note for the first visitor")]
    path = f"/archive/claude/{SAMPLE_DATE}?lang=en"
    assert "private note" not in first.get(path).get_data(as_text=True)
    second = app.test_client().get(path)
    assert second.status_code == 200
    assert "private note" not in second.get_data(as_text=True)
    assert escape(digests["en"].title) in second.get_data(as_text=True)


def test_publicly_cacheable_pages_never_set_a_cookie(
    app: Flask, digests: dict[str, DigestContent]
) -> None:
    client = app.test_client()
    client.get("/")  # a session with a CSRF token in it
    for path in (
        "/archive/claude/?lang=zh-TW",
        f"/archive/claude/{SAMPLE_DATE}?lang=zh-TW",
        "/archive/claude/feed.xml?lang=en",
    ):
        response = client.get(path)
        assert response.headers["Cache-Control"].startswith("public")
        assert "Set-Cookie" not in response.headers, path
        assert "Accept-Language" in response.headers["Vary"]


def test_a_query_string_does_not_make_a_new_cache_entry(
    app: Flask, digests: dict[str, DigestContent]
) -> None:
    client = app.test_client()
    for n in range(5):
        assert client.get(f"/archive/claude/2026-01-12?lang=en&x={n}").status_code == 200
    assert len(app.extensions["newsletter_archive_pages"]) == 1
