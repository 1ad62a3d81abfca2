"""Unsubscribe: the RFC 8058 one-click POST exactly as a mailbox provider sends it, the
page for people (a GET never unsubscribes), resubscribe, and tokens that never expire."""

from __future__ import annotations

import re
import time

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.models import Subscriber, SubscriberStatus
from newsletter.tokens import Purpose, Tokens
from tests.support import cli_runner
from tests.web.site_helpers import (
    add_reader,
    csrf_token,
    link_in,
    outbox,
    subscriber,
    tampered,
    token,
)

ONE_CLICK_BODY = b"List-Unsubscribe=One-Click"


def test_one_click_post_from_a_real_digest_email(
    app: Flask, db: Database, settings: Settings
) -> None:
    assert cli_runner(app).invoke(args=["demo", "--force"]).exit_code == 0
    digest = next(m for m in outbox(settings) if m["To"] == "ada@example.com")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    match = re.search(
        r"<https://news\.example\.org(/unsubscribe/[^>]+)>", digest["List-Unsubscribe"]
    )
    assert match
    provider = app.test_client(use_cookies=False)
    response = provider.post(
        match.group(1),
        data=ONE_CLICK_BODY,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "Mail-Provider-Unsubscriber/1.0",
        },
    )
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    reader = subscriber(db, "ada@example.com")
    assert reader is not None and reader.status == SubscriberStatus.UNSUBSCRIBED
    before = len(outbox(settings))
    again = provider.post(
        match.group(1), data=ONE_CLICK_BODY, content_type="application/x-www-form-urlencoded"
    )
    assert again.status_code == 200, "a repeated one-click POST is still fine"
    assert len(outbox(settings)) == before, "no goodbye email for one-click"


def test_one_click_post_as_multipart_form_data(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    reader_id = add_reader(db, "reader@example.com")
    response = app.test_client(use_cookies=False).post(
        f"/unsubscribe/{token(app, Purpose.UNSUBSCRIBE, reader_id)}",
        data={"List-Unsubscribe": "One-Click"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.UNSUBSCRIBED


def test_one_click_with_a_tampered_token_changes_nothing(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    reader_id = add_reader(db, "reader@example.com")
    good = token(app, Purpose.UNSUBSCRIBE, reader_id)
    response = app.test_client(use_cookies=False).post(
        f"/unsubscribe/{tampered(good)}",
        data=ONE_CLICK_BODY,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 404
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.CONFIRMED


def test_get_shows_a_button_and_never_unsubscribes(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    reader_id = add_reader(db, "reader@example.com")
    page = client.get(f"/unsubscribe/{token(app, Purpose.UNSUBSCRIBE, reader_id)}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Stop all digests to reader@example.com?" in html
    assert '<button type="submit">Unsubscribe</button>' in html
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.CONFIRMED


def test_button_unsubscribes_sends_goodbye_and_offers_resubscribe(
    app: Flask, client: FlaskClient, db: Database, settings: Settings
) -> None:
    reader_id = add_reader(db, "reader@example.com")
    path = f"/unsubscribe/{token(app, Purpose.UNSUBSCRIBE, reader_id)}"
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert (response.status_code, response.headers["Location"]) == (303, path)
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.UNSUBSCRIBED
    [goodbye] = outbox(settings)
    assert goodbye["Subject"] == "You have unsubscribed from AI Daily Digest"
    resubscribe_token = link_in(goodbye, "unsubscribe").rpartition("/")[2]
    claim = Tokens(settings.secret_key).read(Purpose.UNSUBSCRIBE, resubscribe_token)
    assert claim.subscriber_id == reader_id
    page = client.get(path).get_data(as_text=True)
    assert "You are unsubscribed" in page and "Resubscribe" in page

    back = client.post(f"{path}/resubscribe", data={"csrf_token": csrf_token(client, path)})
    assert back.status_code == 303
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.CONFIRMED
    assert "Welcome back" in client.get(path).get_data(as_text=True)


def test_button_post_without_csrf_is_refused(app: Flask, client: FlaskClient, db: Database) -> None:
    reader_id = add_reader(db, "reader@example.com")
    path = f"/unsubscribe/{token(app, Purpose.UNSUBSCRIBE, reader_id)}"
    assert client.post(path, data={"anything": "else"}).status_code == 400
    assert client.post(f"{path}/resubscribe").status_code == 400
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.CONFIRMED


def test_unsubscribe_tokens_never_expire(
    app: Flask, client: FlaskClient, db: Database, monkeypatch
) -> None:
    reader_id = add_reader(db, "reader@example.com")
    with monkeypatch.context() as patch:
        patch.setattr(
            TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 5 * 365 * 86400
        )
        old = token(app, Purpose.UNSUBSCRIBE, reader_id)
    response = app.test_client(use_cookies=False).post(
        f"/unsubscribe/{old}", data=ONE_CLICK_BODY, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    with db.session() as session:
        assert session.scalar(select(Subscriber.status)) == SubscriberStatus.UNSUBSCRIBED


def test_link_of_a_deleted_subscriber_still_answers(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    gone = Tokens(settings.secret_key).make(Purpose.UNSUBSCRIBE, 424242, "key-of-a-deleted-row")
    path = f"/unsubscribe/{gone}"
    assert "receives no email from us" in client.get(path).get_data(as_text=True)
    response = app.test_client(use_cookies=False).post(
        path, data=ONE_CLICK_BODY, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200


def test_a_preferences_token_cannot_unsubscribe(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    reader_id = add_reader(db, "reader@example.com")
    wrong = token(app, Purpose.PREFERENCES, reader_id)
    response = app.test_client(use_cookies=False).post(
        f"/unsubscribe/{wrong}",
        data=ONE_CLICK_BODY,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 404
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.CONFIRMED
