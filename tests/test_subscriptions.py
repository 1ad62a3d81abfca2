"""The subscription rules themselves, below the web layer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from newsletter.catalog import add_subscriber, add_topic, topic_by_slug
from newsletter.db import Database
from newsletter.errors import InputError
from newsletter.models import Subscriber, SubscriberStatus, Suppression, email_hash
from newsletter.subscriptions import (
    SignupNotice,
    SignupRequest,
    confirm,
    forget,
    request_signup,
    resubscribe,
    unsubscribe,
)

INTERVAL = timedelta(minutes=10)


@pytest.fixture
def topics(db: Database) -> None:
    with db.session() as session:
        add_topic(session, "claude", "Claude", keywords=["Claude"], languages=["en"])
        add_topic(session, "openai", "OpenAI", keywords=["OpenAI"], languages=["en"])


def add_reader(session: Session) -> Subscriber:
    return add_subscriber(
        session,
        "r@example.com",
        language="en",
        topics=[topic_by_slug(session, "claude")],
        confirmed=True,
    )


def signup(db: Database, address: str = "r@example.com", **changes: object) -> SignupNotice | None:
    fields = {"address": address, "language": "en", "topic_slugs": ["claude"], **changes}
    with db.session() as session:
        return request_signup(session, SignupRequest(**fields), resend_interval=INTERVAL)  # type: ignore[arg-type]


def test_an_unsubscribed_reader_signing_up_again_must_confirm_again(
    db: Database, topics: None
) -> None:
    with db.session() as session:
        reader = add_reader(session)
        unsubscribe(reader)
    assert signup(db, topic_slugs=["openai"], language="zh-TW") is not None
    with db.session() as session:
        reader = session.query(Subscriber).one()
        assert reader.status == SubscriberStatus.PENDING
        assert ([t.slug for t in reader.topics], reader.language) == (["openai"], "zh-TW")


@pytest.mark.parametrize(
    "changes",
    [{"address": "nope"}, {"language": "xx"}, {"topic_slugs": []}, {"topic_slugs": ["gone"]}],
)
def test_bad_signups_raise_and_create_nothing(
    db: Database, topics: None, changes: dict[str, object]
) -> None:
    with pytest.raises(InputError):
        signup(db, **changes)
    with db.session() as session:
        assert session.query(Subscriber).count() == 0


def test_confirm_only_confirms_pending_readers_once(db: Database, topics: None) -> None:
    notice = signup(db)
    assert notice is not None and not notice.already_subscribed
    reader_id = notice.subscriber_id
    with db.session() as session:
        assert confirm(session, reader_id) is not None
    with db.session() as session:
        assert confirm(session, reader_id) is None
        assert confirm(session, reader_id + 1000) is None


def test_a_suppressed_pending_reader_cannot_be_confirmed(db: Database, topics: None) -> None:
    notice = signup(db)
    assert notice is not None and not notice.already_subscribed
    reader_id = notice.subscriber_id
    with db.session() as session:
        session.add(Suppression(email_hash=email_hash("r@example.com"), reason="bounced"))
    with db.session() as session:
        assert confirm(session, reader_id) is None
        assert session.get_one(Subscriber, reader_id).status == SubscriberStatus.PENDING


def test_unsubscribe_is_idempotent_and_resubscribe_undoes_it(db: Database, topics: None) -> None:
    with db.session() as session:
        reader = add_reader(session)
        reader.paused = True
        assert unsubscribe(reader) is True
        first = reader.unsubscribed_at
        assert unsubscribe(reader) is False
        assert reader.unsubscribed_at == first
        resubscribe(reader)
        assert (reader.status, reader.unsubscribed_at, reader.paused) == (
            SubscriberStatus.CONFIRMED,
            None,
            False,
        )


def test_forget_scrubs_an_existing_suppression_entry(db: Database, topics: None) -> None:
    with db.session() as session:
        reader = add_reader(session)
        session.add(
            Suppression(email_hash=email_hash("r@example.com"), email="r@example.com", reason="x")
        )
        session.flush()
        forget(session, reader)
    with db.session() as session:
        [entry] = session.query(Suppression).all()
        assert (entry.email, entry.reason) == (None, "x")
        assert session.query(Subscriber).count() == 0
