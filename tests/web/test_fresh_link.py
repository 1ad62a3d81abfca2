"""A cut-off or dead reader link offers fresh links by email (issue 15, item 8): the same
answer for known and unknown addresses, one email at most per resend interval."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.models import Subscriber, SubscriberStatus
from newsletter.subscriptions import unsubscribe
from newsletter.tokens import Purpose
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


def ask(client: FlaskClient, address: str) -> tuple[int, str]:
    response = client.post(
        "/links", data={"csrf_token": csrf_token(client, "/links"), "email": address}
    )
    return response.status_code, response.headers.get("Location", "")


def test_a_cut_off_link_offers_the_fresh_link_form(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    reader_id = add_reader(db, "reader@example.com")
    for purpose in (Purpose.PREFERENCES, Purpose.UNSUBSCRIBE):
        good = token(app, purpose, reader_id)
        for broken in (good[: len(good) // 2], tampered(good)):
            page = client.get(f"/{purpose}/{broken}")
            assert page.status_code == 404
            html = page.get_data(as_text=True)
            assert "This link does not work any more" in html
            assert 'action="/links"' in html and 'name="email"' in html


def test_known_and_unknown_addresses_get_the_same_answer(
    app: Flask, client: FlaskClient, db: Database, settings: Settings
) -> None:
    add_reader(db, "reader@example.com")
    known = ask(client, "reader@example.com")
    unknown = ask(client, "stranger@example.com")
    assert known == unknown == (303, "/links/sent")
    [sent] = outbox(settings)
    assert sent["To"] == "reader@example.com"
    assert sent["Subject"] == "Your links for AI Daily Digest"
    # the fresh links work
    preferences = link_in(sent, "preferences")
    assert client.get(preferences).status_code == 200
    assert "/unsubscribe/" in text_of(sent)
    assert "/privacy" in text_of(sent)
    # and a second request within the interval sends nothing more
    assert ask(client, "reader@example.com") == (303, "/links/sent")
    assert len(outbox(settings)) == 1


def test_an_unsubscribed_reader_gets_links_to_come_back(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    reader_id = add_reader(db, "reader@example.com")
    with db.session() as session:
        unsubscribe(session.get_one(Subscriber, reader_id))
    ask(client, "reader@example.com")
    [sent] = outbox(settings)
    page = client.get(link_in(sent, "preferences")).get_data(as_text=True)
    assert "You are unsubscribed" in page
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.UNSUBSCRIBED


def test_a_bad_address_is_an_error_on_the_form(client: FlaskClient, settings: Settings) -> None:
    status, _ = ask(client, "not an address")
    assert status == 400
    assert outbox(settings) == []


def test_the_privacy_page_is_linked_from_every_page(client: FlaskClient) -> None:
    for path in ("/", "/links", "/resend"):
        assert 'href="/privacy"' in client.get(path).get_data(as_text=True), path
    page = client.get("/privacy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for topic in ("What we store", "For how long", "No tracking", "Download or delete"):
        assert topic in html
