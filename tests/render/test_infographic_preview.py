"""`newsletter preview` shows the digest's infographic: a file beside the email's, and
on the local preview page."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import Flask

from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.models import DigestInfographic
from newsletter.render.preview import preview_app
from newsletter.services import Services
from tests.support import cli_runner


@pytest.fixture
def digest_id(db: Database, settings: Settings) -> int:
    with db.session() as session:
        seed_demo(session, settings.suppression_key)
    steps.fetch(Services(settings, db), "claude")
    (outcome,) = steps.build(Services(settings, db), "claude", SAMPLE_DATE, ["zh-TW"])
    return outcome.digest.id


def stored(db: Database, digest_id: int) -> DigestInfographic:
    with db.session() as session:
        picture = session.get_one(DigestInfographic, digest_id)
        session.expunge(picture)
        return picture


def test_preview_writes_the_picture_beside_the_email(
    app: Flask, db: Database, digest_id: int, tmp_path: Path
) -> None:
    result = cli_runner(app).invoke(args=["preview", str(digest_id), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = tmp_path / f"digest-{digest_id}-infographic.png"
    assert written.read_bytes() == stored(db, digest_id).png
    assert written.name in result.output.replace("\n", "")  # rich wraps long paths


def test_the_preview_page_shows_the_picture(
    db: Database, settings: Settings, digest_id: int
) -> None:
    client = preview_app(db, settings, digest_id).test_client()
    page = BeautifulSoup(client.get("/").data, "html.parser")
    image = page.find("img")
    assert image is not None and image["alt"] == stored(db, digest_id).alt
    assert client.get(str(image["src"])).data == stored(db, digest_id).png
    with db.session() as session:
        session.delete(session.get_one(DigestInfographic, digest_id))
    assert client.get(str(image["src"])).status_code == 404
    assert BeautifulSoup(client.get("/").data, "html.parser").find("img") is None
