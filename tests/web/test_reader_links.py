"""A reader's links belong to that reader only (issue 15, item 1).

The attack: the newest reader deletes their data, a stranger signs up next and (on
SQLite, which hands out the highest freed id again) is stored under the same id. The
deleted reader's old links must not reach the stranger: not their address, not their
data, not their subscription, and the old confirmation link must not confirm the
stranger's pending signup. Run on SQLite and on Postgres (NEWSLETTER_TEST_DATABASE_URL).
"""

from __future__ import annotations

import time

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import update

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.models import Subscriber, SubscriberStatus
from newsletter.tokens import Purpose
from tests.web.site_helpers import csrf_token, link_in, outbox, subscriber

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def sign_up(client: FlaskClient, settings: Settings, address: str) -> str:
    """Sign ``address`` up through the form; the confirmation link it was sent."""
    before = len(outbox(settings))
    response = client.post(
        "/",
        data={
            "csrf_token": csrf_token(client),
            "email": address,
            "topics": ["claude"],
            "language": "en",
        },
    )
    assert response.status_code == 303
    assert len(outbox(settings)) == before + 1
    return link_in(outbox(settings)[-1], "confirm")


def confirm(client: FlaskClient, link: str) -> None:
    client.post(link, data={"csrf_token": csrf_token(client, "/")})


def test_a_deleted_readers_links_never_reach_the_next_subscriber(
    app: Flask, client: FlaskClient, db: Database, settings: Settings
) -> None:
    old_confirm = sign_up(client, settings, "first@example.com")
    confirm(client, old_confirm)
    welcome = outbox(settings)[-1]
    old_preferences = link_in(welcome, "preferences")
    old_unsubscribe = link_in(welcome, "unsubscribe")
    first = subscriber(db, "first@example.com")
    assert first is not None and first.status == SubscriberStatus.CONFIRMED
    deleted = client.post(
        f"{old_preferences}/delete",
        data={"csrf_token": csrf_token(client, old_preferences), "confirm": "yes"},
    )
    assert deleted.status_code == 200

    sign_up(client, settings, "stranger@example.com")
    stranger = subscriber(db, "stranger@example.com")
    assert stranger is not None and stranger.status == SubscriberStatus.PENDING
    assert stranger.id != first.id, "an id is never handed out twice"

    # every old link answers as a dead link, and shows nothing of the stranger
    for path in (old_preferences, f"{old_preferences}/data.json", f"{old_preferences}/delete"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert "stranger@example.com" not in page.get_data(as_text=True)
    assert "stranger@example.com" not in client.get(old_unsubscribe).get_data(as_text=True)
    assert "stranger@example.com" not in client.get(old_confirm).get_data(as_text=True)
    confirm(client, old_confirm)
    app.test_client(use_cookies=False).post(old_unsubscribe, data=ONE_CLICK)
    after = subscriber(db, "stranger@example.com")
    assert after is not None and after.status == SubscriberStatus.PENDING


def test_a_link_is_refused_once_its_row_holds_another_key(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    """A database restored or reset can hand the same id to someone else: the row's
    random link key, not its id, decides whose link it is."""
    confirm(client, sign_up(client, settings, "reader@example.com"))
    welcome = outbox(settings)[-1]
    preferences, unsubscribe = link_in(welcome, "preferences"), link_in(welcome, "unsubscribe")
    assert client.get(preferences).status_code == 200
    with db.session() as session:
        session.execute(update(Subscriber).values(link_key="someone-elses-key"))
    assert client.get(preferences).status_code == 404
    client.post(
        unsubscribe, data={"csrf_token": csrf_token(client, "/"), **ONE_CLICK}
    )  # one-click, as a mailbox provider sends it
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.CONFIRMED


def test_a_strangers_signup_for_an_unsubscribed_address_changes_nothing_until_confirmed(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    confirm(client, sign_up(client, settings, "reader@example.com"))
    leave = link_in(outbox(settings)[-1], "unsubscribe")
    client.post(leave, data={"csrf_token": csrf_token(client, leave)})
    time.sleep(1)  # links are stamped in seconds: the new one must be newer than the exit
    with db.session() as session:  # days later: past the resend interval
        session.execute(update(Subscriber).values(confirmation_sent_at=None))
    response = client.post(
        "/",
        data={
            "csrf_token": csrf_token(client),
            "email": "reader@example.com",
            "topics": ["openai"],
            "language": "zh-TW",
        },
    )
    assert response.status_code == 303
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.UNSUBSCRIBED
    assert (reader.language, [t.slug for t in reader.topics]) == ("en", ["claude"])
    link = link_in(outbox(settings)[-1], "confirm")
    page = client.get(link).get_data(as_text=True)  # shows what the link would subscribe to
    assert "OpenAI" in page and '<html lang="zh-TW">' in page
    confirm(client, link)
    reader = subscriber(db, "reader@example.com")
    assert reader is not None and reader.status == SubscriberStatus.CONFIRMED
    assert (reader.language, [t.slug for t in reader.topics]) == ("zh-TW", ["openai"])


def legacy_token(settings: Settings, purpose: Purpose, subscriber_id: int) -> str:
    """A link as emails carried it before link keys: the bare id, signed."""
    return URLSafeTimedSerializer(settings.secret_key).dumps(subscriber_id, salt=purpose.value)


def test_old_emails_one_click_unsubscribe_works_for_rows_as_old_only(
    app: Flask, client: FlaskClient, db: Database, settings: Settings
) -> None:
    """Emails sent before the upgrade carry key-less unsubscribe links; a mailbox's
    one-click POST must keep working for the readers of that time, and for no one else."""
    confirm(client, sign_up(client, settings, "old@example.com"))
    confirm(client, sign_up(client, settings, "new@example.com"))
    old, new = subscriber(db, "old@example.com"), subscriber(db, "new@example.com")
    assert old is not None and new is not None
    with db.session() as session:  # what the migration marks: rows stored before it
        session.execute(update(Subscriber).where(Subscriber.id == old.id).values(legacy_links=True))
    one_click = app.test_client(use_cookies=False)
    for reader in (old, new):
        path = f"/unsubscribe/{legacy_token(settings, Purpose.UNSUBSCRIBE, reader.id)}"
        assert one_click.post(path, data=ONE_CLICK).status_code == 200
        page = client.get(path)  # a person gets the fresh-link form, nothing of anyone
        assert page.status_code == 404 and 'action="/links"' in page.get_data(as_text=True)
        assert reader.email not in page.get_data(as_text=True)
        preferences = f"/preferences/{legacy_token(settings, Purpose.PREFERENCES, reader.id)}"
        assert client.get(preferences).status_code == 404
    assert subscriber(db, "old@example.com").status == SubscriberStatus.UNSUBSCRIBED  # type: ignore[union-attr]
    assert subscriber(db, "new@example.com").status == SubscriberStatus.CONFIRMED  # type: ignore[union-attr]
