"""Confirming: a GET changes nothing, the POST confirms once and sends the welcome email;
expired and tampered links get a page that offers a new link."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.models import SubscriberStatus
from newsletter.tokens import Purpose, Tokens
from tests.web.site_helpers import (
    add_reader,
    csrf_token,
    link_in,
    outbox,
    subscriber,
    tampered,
    text_of,
    token,
)


def confirm_link(client: FlaskClient, settings: Settings) -> str:
    client.post(
        "/",
        data={
            "csrf_token": csrf_token(client),
            "email": "reader@example.com",
            "topics": ["claude"],
            "language": "en",
        },
    )
    return link_in(outbox(settings)[-1], "confirm")


def test_get_shows_a_button_and_changes_nothing(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    link = confirm_link(client, settings)
    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Confirm my subscription" in html and "reader@example.com" in html
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.PENDING


def test_post_confirms_and_sends_the_welcome_email_once(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    link = confirm_link(client, settings)
    response = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert (response.status_code, response.headers["Location"]) == (303, link)
    reader = subscriber(db, "reader@example.com")
    assert reader is not None
    assert reader.status == SubscriberStatus.CONFIRMED and reader.confirmed_at is not None
    welcome = outbox(settings)[-1]
    assert welcome["Subject"] == "Welcome to AI Daily Digest"
    assert link_in(welcome, "preferences") and link_in(welcome, "unsubscribe")
    assert "You are subscribed" in client.get(link).get_data(as_text=True)

    again = client.post(link, data={"csrf_token": csrf_token(client)})
    assert again.status_code == 303
    assert len(outbox(settings)) == 2, "a second click sends no second welcome"


def test_confirm_post_needs_the_csrf_token(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    link = confirm_link(client, settings)
    assert client.post(link).status_code == 400
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.PENDING


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_link_offers_a_new_one(
    client: FlaskClient, db: Database, settings: Settings, method: str
) -> None:
    link = confirm_link(client, settings)
    forged = tampered(link)
    kwargs = {"data": {"csrf_token": csrf_token(client)}} if method == "post" else {}
    response = getattr(client, method)(forged, **kwargs)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This link is not valid" in html
    assert 'action="/resend"' in html
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.PENDING


def test_a_token_for_another_purpose_does_not_confirm(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    reader_id = add_reader(db, "reader@example.com", confirmed=False)
    unsubscribe_token = token(app, Purpose.UNSUBSCRIBE, reader_id)
    assert client.get(f"/confirm/{unsubscribe_token}").status_code == 400


def test_expired_link_says_so_and_offers_a_new_one(
    app: Flask, client: FlaskClient, db: Database, settings: Settings, monkeypatch
) -> None:
    reader_id = add_reader(db, "reader@example.com", confirmed=False)
    days = settings.confirm_max_age_days
    with monkeypatch.context() as patch:
        patch.setattr(
            TimestampSigner, "get_timestamp", lambda self: int(time.time()) - (days + 1) * 86400
        )
        old = token(app, Purpose.CONFIRM, reader_id)
    response = client.get(f"/confirm/{old}")
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "This link has expired" in html and f"{days} days" in html
    assert 'action="/resend"' in html
    posted = client.post(f"/confirm/{old}", data={"csrf_token": csrf_token(client)})
    assert posted.status_code == 410
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.PENDING


def test_a_link_to_a_deleted_subscriber_has_nothing_to_confirm(
    client: FlaskClient, settings: Settings
) -> None:
    gone = Tokens(settings.secret_key).make(Purpose.CONFIRM, 987654, "key-of-a-deleted-row")
    page = client.get(f"/confirm/{gone}")
    assert page.status_code == 200
    assert "Nothing to confirm" in page.get_data(as_text=True)


def test_confirm_email_text_states_the_expiry(client: FlaskClient, settings: Settings) -> None:
    confirm_link(client, settings)
    assert f"This link works for {settings.confirm_max_age_days} days" in text_of(
        outbox(settings)[-1]
    ).replace("\n", " ")


def test_confirm_page_speaks_the_readers_language(client: FlaskClient, settings: Settings) -> None:
    client.post(
        "/",
        data={
            "csrf_token": csrf_token(client),
            "email": "mei@example.com",
            "topics": ["claude", "openai"],
            "language": "zh-TW",
        },
    )
    html = client.get(link_in(outbox(settings)[-1], "confirm")).get_data(as_text=True)
    assert '<html lang="zh-TW">' in html
    assert "確認 mei@example.com 要接收以下主題的每日摘要：Claude、OpenAI。" in html
