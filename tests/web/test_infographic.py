"""The archive serves each digest's stored infographic and names it as the share card."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.models import Digest, DigestInfographic
from newsletter.services import Services

IMAGE = f"/archive/claude/{SAMPLE_DATE}/infographic.png"


@pytest.fixture
def pictures(app: Flask, db: Database, settings: Settings) -> dict[str, DigestInfographic]:
    with db.session() as session:
        seed_demo(session, settings.suppression_key)
    steps.fetch(Services(settings, db), "claude")
    steps.build(Services(settings, db), "claude", SAMPLE_DATE, ["en", "zh-TW"])
    with db.session() as session:
        rows = session.execute(select(Digest.language, DigestInfographic).join(Digest)).all()
        session.expunge_all()
        return {language: picture for language, picture in rows}


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_the_picture_is_served_with_caching_headers(
    app: Flask, pictures: dict[str, DigestInfographic], language: str
) -> None:
    client = app.test_client()
    response = client.get(f"{IMAGE}?lang={language}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data == pictures[language].png
    assert response.headers["ETag"] == f'"{pictures[language].sha256}"'
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert "Accept-Language" in response.headers["Vary"]
    assert "Set-Cookie" not in response.headers  # shared by every visitor through caches
    again = client.get(
        f"{IMAGE}?lang={language}", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""


def test_the_stored_bytes_are_served_never_a_new_render(
    app: Flask, db: Database, pictures: dict[str, DigestInfographic]
) -> None:
    with db.session() as session:
        row = session.get_one(DigestInfographic, pictures["en"].digest_id)
        row.png, row.sha256 = b"\x89PNG stored", "stored"
    response = app.test_client().get(f"{IMAGE}?lang=en")
    assert response.data == b"\x89PNG stored"
    assert response.headers["ETag"] == '"stored"'


@pytest.mark.parametrize(
    "path",
    [
        "/archive/claude/2026-01-13/infographic.png?lang=en",
        "/archive/claude/not-a-date/infographic.png?lang=en",
        f"/archive/nope/{SAMPLE_DATE}/infographic.png?lang=en",
    ],
)
def test_no_picture_is_a_404(app: Flask, pictures: dict[str, DigestInfographic], path: str) -> None:
    response = app.test_client().get(path, headers={"Accept-Language": "de"})
    assert response.status_code == 404


def test_a_digest_without_a_picture_has_no_image_route_and_no_card(
    app: Flask, db: Database, pictures: dict[str, DigestInfographic]
) -> None:
    with db.session() as session:
        session.delete(session.get_one(DigestInfographic, pictures["en"].digest_id))
    client = app.test_client()
    assert client.get(f"{IMAGE}?lang=en").status_code == 404
    page = BeautifulSoup(client.get(f"/archive/claude/{SAMPLE_DATE}?lang=en").data, "html.parser")
    assert page.find("meta", property="og:image") is None
    assert page.find("img", class_="infographic") is None


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_each_page_names_its_picture_as_the_share_card(
    app: Flask, settings: Settings, pictures: dict[str, DigestInfographic], language: str
) -> None:
    client = app.test_client()
    html = client.get(f"/archive/claude/{SAMPLE_DATE}?lang={language}").data
    page = BeautifulSoup(html, "html.parser")
    url = f"{settings.base_url}{IMAGE}?lang={language}"
    alt = pictures[language].alt

    def meta(attribute: str, name: str) -> str:
        tag = page.find("meta", attrs={attribute: name})
        assert tag is not None, name
        return str(tag["content"])

    assert meta("property", "og:image") == url == meta("name", "twitter:image")
    assert meta("property", "og:image:alt") == alt == meta("name", "twitter:image:alt")
    assert meta("name", "twitter:card") == "summary_large_image"
    assert (meta("property", "og:image:width"), meta("property", "og:image:height")) == (
        "1200",
        "630",
    )
    image = page.find("img", class_="infographic")
    assert image is not None and image["alt"] == alt
    assert client.get(str(image["src"])).data == pictures[language].png
    assert client.get(url.removeprefix(settings.base_url)).status_code == 200
