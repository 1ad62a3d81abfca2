"""A relay connection that breaks mid-transaction (a real aiosmtpd server aborting it):
before the message's final dot it is sent again at once; after it (the relay may have
the message and its 250 was lost) it is deferred to a later attempt, or given up under
NEWSLETTER_AMBIGUOUS=drop. Never an immediate second copy."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from sqlalchemy import select, update

from newsletter.config import ConfigError, Settings
from newsletter.db import Database
from newsletter.delivery.rows import fan_out
from newsletter.delivery.send import close_journals, send_range
from newsletter.delivery.transports import make_transport
from newsletter.delivery.transports.smtp import close_pools
from newsletter.models import Delivery, DeliveryState, Digest, utcnow
from tests.delivery.conftest import SmtpServer, add_readers, build_digests, make_topic

READERS = 6


@pytest.fixture(autouse=True)
def _fresh():
    yield
    close_pools()
    close_journals()


def fanned_out(db: Database, settings: Settings) -> int:
    topic_id = make_topic(db, "claude", ["en"])
    digest_id = build_digests(db, settings, "claude")["en"]
    add_readers(db, READERS, lambda n: [topic_id], lambda n: "en")
    with db.session() as session:
        fan_out(session, session.get_one(Digest, digest_id))
    return digest_id


def drop_once(phase: str, odd_only: bool = False):
    """Drop each (odd-numbered) reader's first transaction at ``phase``."""
    seen: set[str] = set()

    def drop(at: str, address: str) -> bool:
        if at != phase or address in seen:
            return False
        if odd_only and int(address[6:11]) % 2 == 0:
            return False
        seen.add(address)
        return True

    return drop


def rows(db: Database) -> dict[DeliveryState, int]:
    with db.session() as session:
        return Counter(session.scalars(select(Delivery.state)))


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "stepwise"])
@pytest.mark.parametrize("phase", ["mail", "rcpt"])
def test_a_drop_before_the_payload_is_sent_again_at_once(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer, phase: str, pipelining: bool
) -> None:
    smtp_server.sink.pipelining = pipelining
    smtp_server.sink.drop = drop_once(phase)
    digest_id = fanned_out(db, smtp_settings)

    report = send_range(db, smtp_settings, digest_id, make_transport(smtp_settings))

    assert report.sent == READERS
    assert set(smtp_server.sink.counts().values()) == {1}
    assert len(smtp_server.sink.counts()) == READERS
    assert rows(db) == {DeliveryState.SENT: READERS}


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "stepwise"])
def test_a_drop_after_the_final_dot_is_deferred_not_resent(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer, pipelining: bool
) -> None:
    smtp_server.sink.pipelining = pipelining
    smtp_server.sink.drop = drop_once("data", odd_only=True)
    digest_id = fanned_out(db, smtp_settings)

    report = send_range(db, smtp_settings, digest_id, make_transport(smtp_settings))

    # every reader got exactly one copy: the three ambiguous ones were not sent again
    assert set(smtp_server.sink.counts().values()) == {1}
    assert len(smtp_server.sink.counts()) == READERS
    assert (report.sent, report.deferred) == (3, 3)
    with db.session() as session:
        deferred = session.scalars(
            select(Delivery).where(Delivery.state == DeliveryState.PENDING)
        ).all()
    assert len(deferred) == 3
    assert all(d.next_attempt_at is not None and d.next_attempt_at > utcnow() for d in deferred)
    assert all("after the message, before the reply" in (d.last_error or "") for d in deferred)

    # at the later attempt they go again (the price of never losing one): same Message-ID
    with db.session() as session:
        session.execute(update(Delivery).values(next_attempt_at=utcnow()))
    again = send_range(db, smtp_settings, digest_id, make_transport(smtp_settings))
    assert again.sent == 3
    assert rows(db) == {DeliveryState.SENT: READERS}
    assert sorted(smtp_server.sink.counts().values()) == [1, 1, 1, 2, 2, 2]
    ids: dict[str, set[str]] = {}
    for message in smtp_server.sink.messages():
        ids.setdefault(message["To"], set()).add(message["Message-ID"])
    assert all(len(message_ids) == 1 for message_ids in ids.values())


def test_at_most_once_gives_an_ambiguous_message_up(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = replace(smtp_settings, ambiguous="drop")
    smtp_server.sink.drop = drop_once("data", odd_only=True)
    digest_id = fanned_out(db, settings)

    report = send_range(db, settings, digest_id, make_transport(settings))

    assert (report.sent, report.failed, report.deferred) == (3, 3, 0)
    assert set(smtp_server.sink.counts().values()) == {1}
    assert rows(db) == {DeliveryState.SENT: 3, DeliveryState.FAILED: 3}
    with db.session() as session:
        session.execute(update(Delivery).values(next_attempt_at=None))
    assert send_range(db, settings, digest_id, make_transport(settings)).sent == 0
    assert set(smtp_server.sink.counts().values()) == {1}


def test_the_policy_setting_is_checked() -> None:
    assert Settings.from_env({"NEWSLETTER_AMBIGUOUS": "drop"}).ambiguous == "drop"
    assert Settings().ambiguous == "retry"
    with pytest.raises(ConfigError, match="NEWSLETTER_AMBIGUOUS"):
        Settings.from_env({"NEWSLETTER_AMBIGUOUS": "maybe"})
