"""The infographic at the top of the digest email: only with NEWSLETTER_EMAIL_INFOGRAPHIC,
as a remote image with width and alt text; the email reads the same without it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from bs4 import BeautifulSoup

from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.models import Digest, DigestInfographic
from newsletter.render.email import render_email
from newsletter.services import Services


@pytest.fixture
def built(db: Database, settings: Settings) -> dict[str, int]:
    with db.session() as session:
        seed_demo(session, settings.suppression_key)
    steps.fetch(Services(settings, db), "claude")
    outcomes = steps.build(Services(settings, db), "claude", SAMPLE_DATE, ["en", "zh-TW"])
    return {outcome.digest.language: outcome.digest.id for outcome in outcomes}


def emails(db: Database, settings: Settings, digest_id: int) -> tuple[str, str, str]:
    """The email's HTML without and with the setting, and the stored picture's alt."""
    with db.session() as session:
        digest = session.get_one(Digest, digest_id)
        plain = render_email(settings, digest)
        shown = render_email(replace(settings, email_infographic=True), digest)
        assert plain.text == shown.text  # the text part never has it
        picture = session.get(DigestInfographic, digest_id)
        return plain.html, shown.html, picture.alt if picture else ""


def test_the_setting_is_off_by_default() -> None:
    assert Settings.from_env({}).email_infographic is False
    assert Settings.from_env({"NEWSLETTER_EMAIL_INFOGRAPHIC": "true"}).email_infographic


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_the_email_shows_the_archived_picture_only_when_asked(
    db: Database, settings: Settings, built: dict[str, int], language: str
) -> None:
    plain, shown, alt = emails(db, settings, built[language])
    assert "<img" not in plain
    (image,) = BeautifulSoup(shown, "html.parser").find_all("img")
    assert image["src"] == (
        f"https://news.example.org/archive/claude/{SAMPLE_DATE}/infographic.png?lang={language}"
    )
    assert image["alt"] == alt and alt
    assert image["width"] == "536"  # the card's width: Outlook takes it from here
    assert image.find_parent("a")["href"].startswith(  # type: ignore[index]
        f"https://news.example.org/archive/claude/{SAMPLE_DATE}"
    )


def test_with_images_blocked_the_email_reads_the_same(
    db: Database, settings: Settings, built: dict[str, int]
) -> None:
    plain, shown, _ = emails(db, settings, built["en"])

    def words(html: str) -> list[str]:
        return BeautifulSoup(html, "html.parser").get_text(" ").split()

    assert words(shown) == words(plain)


def test_no_stored_picture_means_no_image(
    db: Database, settings: Settings, built: dict[str, int]
) -> None:
    with db.session() as session:
        session.delete(session.get_one(DigestInfographic, built["en"]))
    _, shown, _ = emails(db, settings, built["en"])
    assert "<img" not in shown
