"""Preferences: topics, language, pause, unsubscribe from all, download my data, delete me."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from newsletter.catalog import topic_by_slug
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery.rows import eligible
from newsletter.models import (
    Delivery,
    Digest,
    DigestStatus,
    Subscriber,
    SubscriberStatus,
    Subscription,
    Suppression,
    email_hash,
    utcnow,
)
from newsletter.tokens import Purpose
from tests.web.site_helpers import add_reader, csrf_token, outbox, subscriber, tampered, token


def preferences_path(app: Flask, db: Database, **reader: object) -> str:
    reader_id = add_reader(db, "reader@example.com", **reader)  # type: ignore[arg-type]
    return f"/preferences/{token(app, Purpose.PREFERENCES, reader_id)}"


def test_page_shows_current_choices_in_the_readers_language(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    path = preferences_path(app, db, language="zh-TW")
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="zh-TW">' in html
    assert "reader@example.com" in html
    assert 'value="claude" checked' in html and 'value="openai">' in html
    assert 'value="zh-TW" checked' in html
    for field in ("topic-claude", "topic-openai", "language-en", "language-zh-TW", "paused"):
        assert f'<label for="{field}"' in html


def test_saving_changes_topics_language_and_pause(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    path = preferences_path(app, db)
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "topics": ["openai"],
            "language": "zh-TW",
            "paused": "on",
        },
    )
    assert response.status_code == 303
    reader = subscriber(db, "reader@example.com")
    assert reader is not None
    assert [topic.slug for topic in reader.topics] == ["openai"]
    assert (reader.language, reader.paused) == ("zh-TW", True)
    assert "已儲存您的設定" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_paused_reader_gets_no_digest(app: Flask, client: FlaskClient, db: Database) -> None:
    path = preferences_path(app, db)
    client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "topics": ["claude"],
            "language": "en",
            "paused": "on",
        },
    )
    with db.session() as session:
        topic = topic_by_slug(session, "claude")
        query = select(func.count()).select_from(Subscriber).where(eligible(topic, "en"))
        assert session.scalar(query) == 0


def test_no_topic_is_an_error_and_changes_nothing(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    path = preferences_path(app, db)
    response = client.post(
        path, data={"csrf_token": csrf_token(client, path), "language": "zh-TW", "paused": "on"}
    )
    assert response.status_code == 400
    assert "Choose at least one topic." in response.get_data(as_text=True)
    reader = subscriber(db, "reader@example.com")
    assert reader is not None
    assert ([t.slug for t in reader.topics], reader.language, reader.paused) == (
        ["claude"],
        "en",
        False,
    )


def test_saving_without_csrf_is_refused(app: Flask, client: FlaskClient, db: Database) -> None:
    path = preferences_path(app, db)
    assert client.post(path, data={"topics": ["openai"], "language": "en"}).status_code == 400
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and [t.slug for t in reader.topics] == ["claude"]


def test_tampered_or_foreign_tokens_get_404(app: Flask, client: FlaskClient, db: Database) -> None:
    path = preferences_path(app, db)
    assert client.get(tampered(path)).status_code == 404
    reader = subscriber(db, "reader@example.com")
    assert reader is not None
    confirm_token = token(app, Purpose.CONFIRM, reader.id)
    assert client.get(f"/preferences/{confirm_token}").status_code == 404


def test_unsubscribe_from_all(
    app: Flask, client: FlaskClient, db: Database, settings: Settings
) -> None:
    path = preferences_path(app, db)
    response = client.post(f"{path}/unsubscribe", data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/unsubscribe/")
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.UNSUBSCRIBED
    assert [m["Subject"] for m in outbox(settings)] == [
        "You have unsubscribed from AI Daily Digest"
    ]
    page = client.get(path).get_data(as_text=True)
    assert "You are unsubscribed" in page and "Resubscribe" in page


def add_delivery(db: Database) -> None:
    """A delivery row for the only subscriber, of a digest of today."""
    with db.session() as session:
        reader = session.scalar(select(Subscriber))
        assert reader is not None
        digest = Digest(
            topic=topic_by_slug(session, "claude"),
            date=utcnow().date(),
            language="en",
            status=DigestStatus.READY,
            content={},
            writer="offline",
        )
        session.add(digest)
        session.flush()
        session.add(Delivery(digest_id=digest.id, subscriber_id=reader.id))


def test_download_my_data(app: Flask, client: FlaskClient, db: Database) -> None:
    path = preferences_path(app, db)
    add_delivery(db)
    response = client.get(f"{path}/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["email"] == "reader@example.com"
    assert data["topics"] == ["claude"]
    assert data["status"] == "confirmed"
    assert [d["state"] for d in data["deliveries"]] == ["pending"]


def test_delete_needs_the_box_ticked(app: Flask, client: FlaskClient, db: Database) -> None:
    path = preferences_path(app, db)
    assert "cannot be undone" in client.get(f"{path}/delete").get_data(as_text=True)
    response = client.post(f"{path}/delete", data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 400
    assert "Tick the box" in response.get_data(as_text=True)
    assert subscriber(db, "reader@example.com") is not None


def test_the_delete_error_is_in_the_readers_language(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    path = preferences_path(app, db, language="zh-TW")
    token = csrf_token(client, path)
    response = client.post(
        f"{path}/delete", data={"csrf_token": token}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert '<html lang="zh-TW">' in response.get_data(as_text=True)


def test_delete_without_csrf_is_refused(app: Flask, client: FlaskClient, db: Database) -> None:
    path = preferences_path(app, db)
    assert client.post(f"{path}/delete", data={"confirm": "yes"}).status_code == 400
    assert subscriber(db, "reader@example.com") is not None


def test_delete_removes_personal_data_and_keeps_a_hashed_suppression(
    app: Flask, client: FlaskClient, db: Database, settings: Settings
) -> None:
    path = preferences_path(app, db)
    add_delivery(db)
    response = client.post(
        f"{path}/delete", data={"csrf_token": csrf_token(client, path), "confirm": "yes"}
    )
    assert response.status_code == 200
    assert "Your data is deleted" in response.get_data(as_text=True)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
        [suppression] = session.scalars(select(Suppression))
        assert suppression.email is None
        assert suppression.email_hash == email_hash("reader@example.com", settings.suppression_key)
    assert client.get(path).status_code == 404
    again = client.post(
        "/",
        data={
            "csrf_token": csrf_token(client),
            "email": "reader@example.com",
            "topics": ["claude"],
            "language": "en",
        },
    )
    assert again.status_code == 303
    # they may come back, through a new double opt-in: one confirmation, nothing more
    [confirmation] = outbox(settings)
    assert confirmation["Subject"].startswith("Confirm your subscription")
    returning = subscriber(db, "reader@example.com")
    assert returning is not None and returning.status == SubscriberStatus.PENDING
    assert client.get(path).status_code == 404, "the old link does not reach the new row"
