"""Test sends from the console: any digest or notice to any address, marked [TEST], never
a delivery (no row, not in the figures)."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery import rows
from newsletter.models import Delivery, Digest
from tests.web.admin.console_helpers import post
from tests.web.site_helpers import outbox, text_of


def _digest_id(db: Database, language: str) -> int:
    with db.session() as session:
        return session.scalars(select(Digest.id).where(Digest.language == language)).one()


def test_a_digest_goes_to_any_address_as_a_test_and_is_not_a_delivery(
    console: FlaskClient, db: Database, settings: Settings, review_day: date
) -> None:
    digest_id = _digest_id(db, "zh-TW")
    page = "/admin/test-send"
    response = post(
        console,
        page,
        page,
        {"what": f"digest:{digest_id}", "address": "Editor@Example.net"},
        follow_redirects=True,
    )
    assert "Test sent to Editor@Example.net" in response.get_data(as_text=True)
    (mail,) = [m for m in outbox(settings) if m["To"] == "editor@example.net"]
    assert mail["Subject"].startswith("[TEST] Claude 每日動態：")
    assert "List-Unsubscribe" in mail and "本文由 AI 自動生成" in text_of(mail)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
        assert rows.delivery_counts(session, digest_id) == rows.DeliveryCounts()


def test_a_notice_goes_as_a_test_too(
    console: FlaskClient, settings: Settings, topics: list[str]
) -> None:
    page = "/admin/test-send"
    post(console, page, page, {"what": "notice:confirm:en", "address": "editor@example.net"})
    (mail,) = outbox(settings)
    assert mail["Subject"] == "[TEST] Confirm your subscription to AI Daily Digest"
    assert "/confirm/" in text_of(mail)


def test_bad_test_sends_say_what_is_wrong_and_send_nothing(
    console: FlaskClient, settings: Settings, topics: list[str]
) -> None:
    page = "/admin/test-send"
    for what, address, problem in (
        ("notice:confirm:en", "not an address", "must have an @-sign"),
        ("notice:confirm:en", "a@b.example\r\nBcc: x@y.example", "not an email address"),
        ("digest:999999", "editor@example.net", "no digest #999999"),
        ("notice:nonsense:en", "editor@example.net", "choose a digest or a notice"),
        ("notice:confirm:fr", "editor@example.net", "choose a digest or a notice"),
    ):
        response = post(
            console, page, page, {"what": what, "address": address}, follow_redirects=True
        )
        assert "could not be sent" in response.get_data(as_text=True), what
        assert problem in response.get_data(as_text=True), (what, address)
    assert outbox(settings) == []
