"""Signup and resend: double opt-in, nothing revealed, throttled resends, bad input."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.models import Subscriber, SubscriberStatus, Suppression, email_hash, utcnow
from tests.web.site_helpers import csrf_token, link_in, outbox, subscriber, text_of


def signup(client: FlaskClient, **fields: object) -> object:
    data = {"email": "reader@example.com", "topics": ["claude"], "language": "en", **fields}
    data.setdefault("csrf_token", csrf_token(client))
    return client.post("/", data=data)


def count_subscribers(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Subscriber)) or 0


def test_signup_page_lists_topics_and_labels_every_input(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<label for="email">Email address</label>' in page
    for slug, name in (("claude", "Claude"), ("openai", "OpenAI")):
        assert f'id="topic-{slug}"' in page
        assert f'<label for="topic-{slug}">{name}</label>' in page
    assert "<h1>" in page and '<html lang="en">' in page


def test_signup_creates_a_pending_subscriber_and_mails_a_confirm_link(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    response = signup(client, email=" Reader@Example.COM ", topics=["claude", "openai"])
    assert response.status_code == 303
    assert response.headers["Location"] == "/signup/sent"
    reader = subscriber(db, "reader@example.com")
    assert reader is not None
    assert reader.status == SubscriberStatus.PENDING
    assert [topic.slug for topic in reader.topics] == ["claude", "openai"]
    [message] = outbox(settings)
    assert message["To"] == "reader@example.com"
    assert message["Subject"] == "Confirm your subscription to AI Daily Digest"
    assert message.get_body(("html",)) is not None
    assert link_in(message, "confirm").startswith("/confirm/")
    assert "Claude, OpenAI" in text_of(message)


def test_signup_in_chinese_gets_a_chinese_confirmation(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    assert signup(client, language="zh-TW").status_code == 303
    [message] = outbox(settings)
    assert message["Subject"] == "請確認訂閱 AI Daily Digest"
    assert "確認訂閱" in text_of(message)


def test_signup_never_reveals_a_known_address(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    first = signup(client)
    with db.session() as session:
        reader = session.scalar(select(Subscriber))
        assert reader is not None
        reader.status = SubscriberStatus.CONFIRMED
        reader.confirmation_sent_at = None
    again = signup(client, topics=["openai"])
    assert (first.status_code, first.headers["Location"]) == (
        again.status_code,
        again.headers["Location"],
    )
    confirmed = subscriber(db, "reader@example.com")
    assert confirmed is not None
    assert [topic.slug for topic in confirmed.topics] == ["claude"], "a stranger changed it"
    reminder = outbox(settings)[-1]
    assert reminder["Subject"] == "You are already subscribed to AI Daily Digest"
    assert link_in(reminder, "preferences")
    signup(client, topics=["openai"])
    assert len(outbox(settings)) == 2, "the reminder is throttled like a confirmation"


def test_signing_up_again_resends_at_most_once_per_interval(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    signup(client)
    signup(client)
    assert len(outbox(settings)) == 1
    with db.session() as session:
        reader = session.scalar(select(Subscriber))
        assert reader is not None
        reader.confirmation_sent_at = utcnow() - timedelta(
            minutes=settings.resend_interval_minutes + 1
        )
    signup(client)
    assert len(outbox(settings)) == 2


def test_resend_form_sends_a_new_link_only_to_pending_addresses(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    signup(client)
    with db.session() as session:
        reader = session.scalar(select(Subscriber))
        assert reader is not None
        reader.confirmation_sent_at = None
    token = csrf_token(client, "/resend")
    response = client.post("/resend", data={"csrf_token": token, "email": "reader@example.com"})
    assert response.status_code == 303
    assert len(outbox(settings)) == 2
    stranger = client.post("/resend", data={"csrf_token": token, "email": "who@example.com"})
    assert (stranger.status_code, stranger.headers["Location"]) == (303, "/signup/sent")
    assert len(outbox(settings)) == 2
    assert count_subscribers(db) == 1


def test_suppressed_address_gets_the_same_answer_and_no_mail(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    with db.session() as session:
        hashed = email_hash("gone@example.com", settings.suppression_key)
        session.add(Suppression(email_hash=hashed, reason="bounced"))
    response = signup(client, email="gone@example.com")
    assert (response.status_code, response.headers["Location"]) == (303, "/signup/sent")
    assert outbox(settings) == []
    assert count_subscribers(db) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": ""}, "Enter your email address."),
        ({"email": "not-an-address"}, "Enter a valid email address"),
        ({"email": "a@example.com\r\nBcc: victim@example.net"}, "Enter a valid email address"),
        ({"email": "a@example.com\nSubject: hi"}, "Enter a valid email address"),
        ({"email": "x" * 250 + "@example.com"}, "Enter a valid email address"),
        ({"email": "用戶@example.com"}, "Enter a valid email address"),
        ({"topics": []}, "Choose at least one topic."),
        ({"topics": ["claude", "no-such-topic"]}, "Choose topics from the list."),
        ({"language": "fr"}, "Choose a language from the list."),
    ],
)
def test_bad_input_gets_the_form_back_and_creates_nothing(
    client: FlaskClient, db: Database, settings: Settings, fields: dict, message: str
) -> None:
    response = signup(client, **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'role="alert"' in page
    assert count_subscribers(db) == 0
    assert outbox(settings) == []


def test_bad_input_keeps_what_was_typed(client: FlaskClient) -> None:
    page = signup(client, email="bad@", topics=["openai"]).get_data(as_text=True)
    assert 'value="bad@"' in page
    assert 'value="openai" checked' in page
    assert 'aria-invalid="true"' in page


def test_oversize_request_is_refused(client: FlaskClient, db: Database) -> None:
    response = signup(client, email="a@example.com", padding="x" * 100_000)
    assert response.status_code == 413
    assert "Too much input" in response.get_data(as_text=True)
    assert count_subscribers(db) == 0


def test_missing_csrf_token_is_refused(client: FlaskClient, db: Database) -> None:
    response = client.post(
        "/", data={"email": "reader@example.com", "topics": ["claude"], "language": "en"}
    )
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert count_subscribers(db) == 0


def test_forged_csrf_token_is_refused(client: FlaskClient, db: Database) -> None:
    assert signup(client, csrf_token="forged").status_code == 400
    assert count_subscribers(db) == 0


def test_filled_honeypot_looks_like_success_but_creates_nothing(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    response = signup(client, website="http://spam.example")
    assert (response.status_code, response.headers["Location"]) == (303, "/signup/sent")
    assert count_subscribers(db) == 0
    assert outbox(settings) == []


def test_sent_page_promises_nothing_about_the_address(client: FlaskClient) -> None:
    page = client.get("/signup/sent").get_data(as_text=True)
    assert "If this address can receive our digest" in page
    assert 'href="/resend"' in page


def test_transport_failure_says_so_and_allows_a_retry(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    object.__setattr__(settings, "transport", "smtp")
    object.__setattr__(settings, "smtp_host", "127.0.0.1")
    object.__setattr__(settings, "smtp_port", closed_port)
    response = signup(client)
    assert response.status_code == 503
    assert "could not send the email" in response.get_data(as_text=True)
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.confirmation_sent_at is None


def test_an_international_domain_is_stored_and_mailed_in_ascii(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    assert signup(client, email="Reader@Bücher.de").status_code == 303
    assert subscriber(db, "reader@xn--bcher-kva.de") is not None
    [message] = outbox(settings)
    assert message["To"] == "reader@xn--bcher-kva.de"
