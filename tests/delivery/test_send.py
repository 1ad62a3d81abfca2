"""Sending over a real SMTP server on loopback, jobs inline: retries, bounces, eligibility."""

from __future__ import annotations

import asyncio
import threading
import time
import zlib
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update

from newsletter.config import Settings
from newsletter.daily import jobs
from newsletter.db import Database
from newsletter.delivery.rows import fan_out
from newsletter.delivery.transports.smtp import close_pools
from newsletter.demo import SAMPLE_DATE
from newsletter.models import (
    Delivery,
    DeliveryState,
    Digest,
    Subscriber,
    SubscriberStatus,
    Subscription,
    Suppression,
    email_hash,
)
from newsletter.services import Services
from newsletter.subscriptions import unsubscribe
from tests.delivery.conftest import SmtpServer, add_readers, build_digests, make_topic
from tests.support import send_day


@pytest.fixture(autouse=True)
def _fresh_pools():
    yield
    close_pools()


@pytest.fixture
def topic(db: Database, settings: Settings) -> dict[str, int]:
    """The 'claude' topic in two languages, with both digests built: language -> digest id."""
    make_topic(db, "claude", ["en", "zh-TW"])
    return build_digests(db, settings, "claude")


def readers(db: Database, count: int) -> dict[str, tuple[str, list[int]]]:
    with db.session() as session:
        topic_id = session.scalar(select(Digest.topic_id))
    return add_readers(db, count, lambda n: [topic_id], lambda n: ("en", "zh-TW")[n % 2])


def states(db: Database) -> Counter[str]:
    with db.session() as session:
        rows = session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
        return Counter({state.value: count for state, count in rows})


def test_every_reader_gets_one_message_in_their_language(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer, topic: dict[str, int]
) -> None:
    people = readers(db, 40)
    results = send_day(Services(smtp_settings, db), "claude", SAMPLE_DATE)

    assert sum(r.report.sent for r in results) == 40
    assert smtp_server.sink.counts() == Counter({address: 1 for address in people})
    for message in smtp_server.sink.messages():
        language = people[message["To"]][0]
        digest_id = topic[language]
        assert message["Feedback-ID"] == f"{digest_id}:claude:{language}:newsletter"
        assert message["Message-ID"].endswith("@news.example.org>")
        assert f"-{digest_id}-" not in message["Message-ID"]  # no internal id shows
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with db.session() as session:
        sent = session.scalars(select(Delivery)).all()
        assert {d.state for d in sent} == {DeliveryState.SENT}
        assert all(d.sent_at and d.attempts == 1 for d in sent)
    headers = {m["Message-ID"] for m in smtp_server.sink.messages()}
    assert {d.message_id for d in sent} == headers


def test_451_replies_are_retried_with_backoff_until_delivered(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer, topic: dict[str, int]
) -> None:
    people = readers(db, 30)
    unlucky = {a for a in people if zlib.crc32(a.encode()) % 3 == 0}
    assert unlucky

    def greylist(address: str) -> str | None:
        if address in unlucky and smtp_server.sink.refused[address] < 2:
            return "451 4.7.1 Greylisted, try again later"
        return None

    smtp_server.sink.on_rcpt = greylist
    settings = replace(smtp_settings, retry_base_seconds=0.05)
    first = send_day(Services(settings, db), "claude", SAMPLE_DATE)
    assert sum(r.report.deferred for r in first) == len(unlucky)
    with db.session() as session:
        waiting = session.scalars(select(Delivery).where(Delivery.state == "pending")).all()
        assert all(d.next_attempt_at and d.last_error.startswith("451") for d in waiting)

    with _app_context(settings, db):
        deadline = time.monotonic() + 20
        while states(db)["pending"] and time.monotonic() < deadline:
            time.sleep(0.05)
            jobs.sweep()
    assert states(db) == Counter({"sent": 30})
    assert smtp_server.sink.counts() == Counter({address: 1 for address in people})
    with db.session() as session:
        attempts = {
            address: count
            for address, count in session.execute(
                select(Subscriber.email, Delivery.attempts).join(
                    Delivery, Delivery.subscriber_id == Subscriber.id
                )
            )
        }
    assert {a for a, n in attempts.items() if n == 3} == unlucky


def test_retries_stop_at_the_attempt_limit(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer, topic: dict[str, int]
) -> None:
    readers(db, 2)
    smtp_server.sink.on_rcpt = lambda address: "421 4.3.2 System not accepting mail"
    settings = replace(smtp_settings, retry_base_seconds=0.01, max_attempts=2)
    send_day(Services(settings, db), "claude", SAMPLE_DATE)
    time.sleep(0.05)
    send_day(Services(settings, db), "claude", SAMPLE_DATE)
    assert states(db) == Counter({"failed": 2})
    assert smtp_server.sink.counts() == Counter()


def test_550_recipients_are_suppressed_never_retried_and_not_mailed_next_day(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer, topic: dict[str, int]
) -> None:
    people = readers(db, 20)
    gone = sorted(people)[:3]
    smtp_server.sink.on_rcpt = lambda a: "550 5.1.1 No such user" if a in gone else None
    settings = replace(smtp_settings, retry_base_seconds=0.0)

    send_day(Services(settings, db), "claude", SAMPLE_DATE)
    send_day(Services(settings, db), "claude", SAMPLE_DATE)  # nothing left to retry

    assert smtp_server.sink.refused == Counter({address: 1 for address in gone})
    assert states(db) == Counter({"sent": 17, "suppressed": 3})
    with db.session() as session:
        entries = session.scalars(select(Suppression)).all()
        assert {(s.email, s.email_hash) for s in entries} == {
            (a, email_hash(a, smtp_settings.suppression_key)) for a in gone
        }
        assert all(s.reason.startswith("bounced: 550") for s in entries)
        # the next day's digest is not even queued for them
        today = session.get_one(Digest, topic["en"])
        tomorrow = Digest(
            topic_id=today.topic_id,
            date=today.date + timedelta(days=1),
            language="en",
            status=today.status,
            content=today.content,
            writer=today.writer,
        )
        session.add(tomorrow)
        session.flush()
        fan_out(session, tomorrow)
        queued = set(
            session.scalars(
                select(Subscriber.email)
                .join(Delivery, Delivery.subscriber_id == Subscriber.id)
                .where(Delivery.digest_id == tomorrow.id)
            )
        )
    assert queued == {a for a, (language, _) in people.items() if language == "en"} - set(gone)


def test_a_reader_who_unsubscribes_after_fan_out_is_not_sent_to(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer, topic: dict[str, int]
) -> None:
    people = readers(db, 6)
    with db.session() as session:
        for digest in session.scalars(select(Digest)):
            fan_out(session, digest)
    leaver = sorted(people)[0]
    with db.session() as session:
        unsubscribe(session.scalars(select(Subscriber).where(Subscriber.email == leaver)).one())

    send_day(Services(smtp_settings, db), "claude", SAMPLE_DATE)

    assert smtp_server.sink.counts() == Counter({a: 1 for a in people if a != leaver})
    with db.session() as session:
        row = session.scalars(
            select(Delivery).join(Subscriber).where(Subscriber.email == leaver)
        ).one()
    assert row.state == DeliveryState.SUPPRESSED
    assert row.last_error == "no longer eligible at send time"


def test_an_address_unfit_for_a_header_fails_its_row_and_nothing_is_sent(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer, topic: dict[str, int]
) -> None:
    hostile = "eve@example.com\r\nBcc: victim@example.net"
    with db.session() as session:
        session.execute(
            insert(Subscriber),
            [{"email": hostile, "language": "en", "status": SubscriberStatus.CONFIRMED}],
        )
        subscriber_id = session.scalar(select(Subscriber.id))
        topic_id = session.scalar(select(Digest.topic_id))
        session.execute(
            insert(Subscription), [{"subscriber_id": subscriber_id, "topic_id": topic_id}]
        )

    send_day(Services(smtp_settings, db), "claude", SAMPLE_DATE)

    assert smtp_server.sink.counts() == Counter()
    with db.session() as session:
        row = session.scalars(select(Delivery)).one()
    assert row.state == DeliveryState.FAILED
    assert "cannot be written in a header" in (row.last_error or "")


def test_a_dropped_connection_is_replaced(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer, topic: dict[str, int]
) -> None:
    people = readers(db, 4)
    with db.session() as session:
        for digest in session.scalars(select(Digest)):
            fan_out(session, digest)
    en, zh = topic["en"], topic["zh-TW"]
    pipeline_settings = replace(smtp_settings, smtp_pool_size=1)
    from newsletter.delivery.send import send_range
    from newsletter.delivery.transports import make_transport

    first = send_range(db, pipeline_settings, en, make_transport(pipeline_settings))
    smtp_server.restart()  # the pooled connection is now dead
    second = send_range(db, pipeline_settings, zh, make_transport(pipeline_settings))
    assert first.sent + second.sent == 4
    assert smtp_server.sink.counts() == Counter({a: 1 for a in people})


class _AppContext:
    def __init__(self, settings: Settings, db: Database) -> None:
        from newsletter.app import create_app

        self.app = create_app(settings)
        self.app.extensions["newsletter"] = Services(settings, db)
        self.context = self.app.app_context()

    def __enter__(self) -> None:
        self.context.push()

    def __exit__(self, *exc: object) -> None:
        self.context.pop()


def _app_context(settings: Settings, db: Database) -> _AppContext:
    return _AppContext(settings, db)


def test_acceptances_a_failed_record_left_in_the_journal_are_recorded_not_resent(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer, topic: dict[str, int]
) -> None:
    from newsletter.delivery.rows import claim
    from newsletter.delivery.send import process_journal, send_range
    from newsletter.delivery.transports import make_transport

    readers(db, 4)
    with db.session() as session:
        fan_out(session, session.get_one(Digest, topic["en"]))
    ids, _ = claim(db, smtp_settings, topic["en"])
    # this process sent ids[0], then the transaction recording its batch failed
    process_journal(smtp_settings).accepted(ids[0])
    with db.session() as session:
        session.execute(
            Delivery.__table__.update()
            .where(Delivery.id.in_(ids[1:]))
            .values(state="pending", lease_expires_at=None)
        )

    report = send_range(db, smtp_settings, topic["en"], make_transport(smtp_settings))

    assert report.sent == len(ids) - 1
    assert sum(smtp_server.sink.counts().values()) == len(ids) - 1
    with db.session() as session:
        first = session.get_one(Delivery, ids[0])
    assert first.state == DeliveryState.SENT and first.message_id
    assert process_journal(smtp_settings).entries() == []


def test_a_relay_that_goes_away_mid_batch_defers_the_rest_of_the_batch(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer, topic: dict[str, int]
) -> None:
    from newsletter.delivery.send import send_range
    from newsletter.delivery.transports import make_transport

    readers(db, 8)
    with db.session() as session:
        fan_out(session, session.get_one(Digest, topic["en"]))
    mails = []

    async def handle_MAIL(server, session, envelope, address, mail_options):
        mails.append(address)
        if len(mails) == 2:  # the relay shuts down for good after its first message
            threading.Thread(target=smtp_server.controller.stop).start()
            await asyncio.sleep(5)
        envelope.mail_from = address
        return "250 OK"

    smtp_server.sink.handle_MAIL = handle_MAIL  # type: ignore[attr-defined]
    settings = replace(smtp_settings, smtp_pool_size=1)
    report = send_range(db, settings, topic["en"], make_transport(settings))

    assert report.sent == 1
    assert report.deferred == 3
    assert states(db) == Counter({"sent": 1, "pending": 3})
    with db.session() as session:
        pending = select(Delivery.attempts).where(Delivery.state == DeliveryState.PENDING)
        # the one that met the dead relay used an attempt; the two never tried did not
        assert sorted(session.scalars(pending)) == [0, 0, 1]
    smtp_server.controller = type(smtp_server.controller)(
        smtp_server.sink, hostname="127.0.0.1", port=smtp_server.port
    )
    smtp_server.controller.start()  # for the fixture's teardown


def test_concurrent_claims_share_no_row_and_miss_none(
    db: Database, smtp_settings: Settings, topic: dict[str, int]
) -> None:
    """Eight threads claim small batches of one digest at once, as workers do."""
    from concurrent.futures import ThreadPoolExecutor

    from newsletter.delivery.rows import claim

    readers(db, 240)
    with db.session() as session:
        created = fan_out(session, session.get_one(Digest, topic["en"]))
    small = replace(smtp_settings, send_batch_size=7)

    def claim_all() -> list[int]:
        mine: list[int] = []
        while ids := claim(db, small, topic["en"])[0]:
            mine += ids
        return mine

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(claim_all) for _ in range(8)]
        claimed = [delivery_id for future in futures for delivery_id in future.result()]
    assert len(claimed) == len(set(claimed)) == created
    with db.session() as session:
        states = session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
        assert dict(states.all()) == {DeliveryState.SENDING: created}


def test_a_lease_that_ran_out_mid_send_still_records_what_went_out(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer, topic: dict[str, int]
) -> None:
    """The sweeper handed the rows back while the batch was still sending: the ones
    that went out are recorded as sent, not sent again."""
    from newsletter.delivery.send import send_range
    from newsletter.delivery.transports import make_transport

    readers(db, 8)
    with db.session() as session:
        fan_out(session, session.get_one(Digest, topic["en"]))

    def lease_runs_out(address: str) -> None:
        with db.session() as session:  # what the sweeper does with an expired lease
            session.execute(
                update(Delivery)
                .where(Delivery.state == DeliveryState.SENDING)
                .values(state=DeliveryState.PENDING, lease_expires_at=None)
            )

    smtp_server.sink.on_rcpt = lease_runs_out
    report = send_range(db, smtp_settings, topic["en"], make_transport(smtp_settings))

    assert report.sent == 4
    assert states(db) == Counter({"sent": 4})
    assert sum(smtp_server.sink.counts().values()) == 4


def test_an_error_mid_batch_still_records_what_went_out(
    db: Database, smtp_settings: Settings, smtp_server: SmtpServer, topic: dict[str, int]
) -> None:
    """E.g. the rate limiter's Redis goes away after two messages."""
    from newsletter.delivery.rows import claim
    from newsletter.delivery.send import process_journal, send_batch
    from newsletter.delivery.transports import make_transport

    readers(db, 8)
    with db.session() as session:
        fan_out(session, session.get_one(Digest, topic["en"]))

    class RedisGoesAway:
        calls = 0

        def wait(self) -> None:
            self.calls += 1
            if self.calls == 3:
                raise ConnectionError("Redis went away")

    ids, lease_end = claim(db, smtp_settings, topic["en"])
    journal = process_journal(smtp_settings)
    with pytest.raises(ConnectionError), make_transport(smtp_settings) as transport:
        send_batch(
            db, smtp_settings, topic["en"], ids, lease_end, transport, journal, RedisGoesAway()
        )

    assert states(db) == Counter({"sent": 2, "sending": 2})
    assert journal.entries() == []


def test_recording_sent_rows_takes_the_message_ids_the_send_loop_made(
    db: Database, settings: Settings, topic: dict[str, int]
) -> None:
    """No row is read back and no Message-ID computed again to record a batch: on
    Postgres one statement per thousand rows, on SQLite one executemany."""
    from sqlalchemy import event

    from newsletter.delivery import rows

    readers(db, 1500)
    with db.session() as session:
        fan_out(session, session.get_one(Digest, topic["en"]))
        fan_out(session, session.get_one(Digest, topic["zh-TW"]))
        ids = list(session.scalars(select(Delivery.id).order_by(Delivery.id)))
        session.execute(update(Delivery).values(state=DeliveryState.SENDING))
    outcomes = rows.Outcomes(sent=[(id_, f"<made-by-the-loop-{id_}@x>") for id_ in ids])
    statements: list[tuple[str, bool]] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append((statement.split()[0], executemany))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.session() as session:
            rows.record(session, settings, outcomes)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)

    if db.engine.dialect.name == "postgresql":
        assert statements == [("UPDATE", False), ("UPDATE", False)]
    else:
        assert statements == [("UPDATE", True)]
    with db.session() as session:
        found = session.execute(select(Delivery.id, Delivery.message_id))
        recorded = {delivery_id: message_id for delivery_id, message_id in found}
        assert set(session.scalars(select(Delivery.state))) == {DeliveryState.SENT}
    assert recorded == dict(outcomes.sent)
