"""The subscription rules themselves, below the web layer."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from newsletter.catalog import add_subscriber, add_topic, topic_by_slug
from newsletter.db import Database
from newsletter.errors import InputError
from newsletter.models import Subscriber, SubscriberStatus, Suppression, email_hash
from newsletter.subscriptions import (
    FORGOTTEN_REASON,
    SignupNotice,
    SignupRequest,
    confirm,
    forget,
    request_signup,
    resubscribe,
    unsubscribe,
)
from newsletter.tokens import Claim, Purpose, Tokens

INTERVAL = timedelta(minutes=10)
KEY = b"k" * 32
TOKENS = Tokens("s" * 32)


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
        hash_key=KEY,
        confirmed=True,
    )


def signup(db: Database, address: str = "r@example.com", **changes: object) -> SignupNotice | None:
    fields = {"address": address, "language": "en", "topic_slugs": ["claude"], **changes}
    with db.session() as session:
        request = SignupRequest(**fields)  # type: ignore[arg-type]
        return request_signup(session, request, resend_interval=INTERVAL, hash_key=KEY)


def link_of(db: Database, notice: SignupNotice) -> Claim:
    """The claim of the confirmation link the notice's email would carry."""
    with db.session() as session:
        link_key = session.get_one(Subscriber, notice.subscriber_id).link_key
    token = TOKENS.make(Purpose.CONFIRM, notice.subscriber_id, link_key, notice.choices)
    return TOKENS.read(Purpose.CONFIRM, token)


def confirm_link(db: Database, claim: Claim) -> bool:
    with db.session() as session:
        return confirm(session, claim, hash_key=KEY) is not None


def test_an_unsubscribed_readers_record_changes_only_when_they_confirm(
    db: Database, topics: None
) -> None:
    with db.session() as session:
        reader = add_reader(session)
        unsubscribe(reader)
    time.sleep(1)  # the new link is stamped after the unsubscribe (tokens count seconds)
    notice = signup(db, topic_slugs=["openai"], language="zh-TW")
    assert notice is not None and not notice.already_subscribed
    with db.session() as session:  # a stranger's signup: nothing changed yet
        reader = session.query(Subscriber).one()
        assert reader.status == SubscriberStatus.UNSUBSCRIBED
        assert ([t.slug for t in reader.topics], reader.language) == (["claude"], "en")
    assert confirm_link(db, link_of(db, notice))
    with db.session() as session:
        reader = session.query(Subscriber).one()
        assert reader.status == SubscriberStatus.CONFIRMED
        assert ([t.slug for t in reader.topics], reader.language) == (["openai"], "zh-TW")


def test_a_confirmation_link_from_before_an_unsubscribe_does_not_resubscribe(
    db: Database, topics: None
) -> None:
    notice = signup(db)
    assert notice is not None
    old_link = link_of(db, notice)
    assert confirm_link(db, old_link)
    with db.session() as session:
        unsubscribe(session.query(Subscriber).one())
    assert not confirm_link(db, old_link)
    with db.session() as session:
        assert session.query(Subscriber).one().status == SubscriberStatus.UNSUBSCRIBED


def test_a_pending_readers_choices_wait_for_the_confirmation_too(
    db: Database, topics: None
) -> None:
    first = signup(db)
    with db.session() as session:
        session.query(Subscriber).one().confirmation_sent_at = None  # past the interval
    second = signup(db, topic_slugs=["openai"], language="zh-TW")
    assert first is not None and second is not None
    with db.session() as session:
        reader = session.query(Subscriber).one()
        assert ([t.slug for t in reader.topics], reader.language) == (["claude"], "en")
    assert confirm_link(db, link_of(db, second))
    with db.session() as session:
        reader = session.query(Subscriber).one()
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
    claim = link_of(db, notice)
    assert confirm_link(db, claim)
    assert not confirm_link(db, claim)
    assert not confirm_link(db, Claim(claim.subscriber_id + 1000, claim.link_key))


def test_a_link_naming_another_key_confirms_nothing(db: Database, topics: None) -> None:
    notice = signup(db)
    assert notice is not None
    assert not confirm_link(db, Claim(notice.subscriber_id, "someone-elses-key"))


def test_a_suppressed_pending_reader_cannot_be_confirmed(db: Database, topics: None) -> None:
    notice = signup(db)
    assert notice is not None and not notice.already_subscribed
    with db.session() as session:
        session.add(Suppression(email_hash=email_hash("r@example.com", KEY), reason="bounced"))
    assert not confirm_link(db, link_of(db, notice))
    with db.session() as session:
        assert session.get_one(Subscriber, notice.subscriber_id).status == (
            SubscriberStatus.PENDING
        )


def test_a_reader_who_deleted_their_data_may_come_back_through_double_opt_in(
    db: Database, topics: None
) -> None:
    with db.session() as session:
        forget(session, add_reader(session), hash_key=KEY)
    notice = signup(db, language="zh-TW")
    assert notice is not None and not notice.already_subscribed
    with db.session() as session:  # still suppressed until the owner confirms
        assert session.query(Suppression).count() == 1
        assert session.query(Subscriber).one().status == SubscriberStatus.PENDING
    assert confirm_link(db, link_of(db, notice))
    with db.session() as session:
        assert session.query(Suppression).count() == 0
        reader = session.query(Subscriber).one()
        assert (reader.status, reader.language) == (SubscriberStatus.CONFIRMED, "zh-TW")


@pytest.mark.parametrize("reason", ["bounced: 550 5.1.1 no such user", "complaint", "imported"])
def test_bounce_and_complaint_suppressions_are_never_lifted_by_a_signup(
    db: Database, topics: None, reason: str
) -> None:
    with db.session() as session:
        reader = add_reader(session)
        session.add(Suppression(email_hash=email_hash(reader.email, KEY), reason=reason))
        session.flush()
        forget(session, reader, hash_key=KEY)  # deleted afterwards: the bounce stays
    assert signup(db) is None
    with db.session() as session:
        assert session.query(Subscriber).count() == 0
        assert session.query(Suppression).one().reason == reason


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
        hashed = email_hash("r@example.com", KEY)
        session.add(Suppression(email_hash=hashed, email="r@example.com", reason="x"))
        session.flush()
        forget(session, reader, hash_key=KEY)
    with db.session() as session:
        [entry] = session.query(Suppression).all()
        assert (entry.email, entry.reason) == (None, "x")
        assert session.query(Subscriber).count() == 0


def test_a_forgotten_address_is_kept_as_a_keyed_hash_only() -> None:
    """Without the secret, hashing a list of addresses finds none of them."""
    import hashlib

    address = "r@example.com"
    plain = hashlib.sha256(address.encode()).hexdigest()
    assert email_hash(address, KEY) != plain
    assert email_hash(address, KEY) != email_hash(address, b"o" * 32)
    assert email_hash(" R@Example.com ", KEY) == email_hash(address, KEY)
    assert FORGOTTEN_REASON  # the reason that marks a reader's own deletion
