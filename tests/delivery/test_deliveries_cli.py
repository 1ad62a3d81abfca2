"""`newsletter deliveries DIGEST_ID [--failed]`, `deliveries retry DIGEST_ID` and
`test-send`, against a real SMTP server on loopback."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from newsletter.app import create_app
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.models import Delivery, DeliveryState, Digest, Subscriber
from newsletter.services import Services
from tests.delivery.conftest import REDIS_URL, SmtpServer
from tests.support import DEV_HASH_KEY, cli_runner


def smtp_app(settings: Settings, db: Database, **changes: object) -> Flask:
    app = create_app(services=Services(replace(settings, **changes), db))  # type: ignore[arg-type]
    app.config["TESTING"] = True
    return app


def en_digest(db: Database) -> int:
    with db.session() as session:
        return session.scalars(select(Digest.id).where(Digest.language == "en")).one()


@pytest.fixture
def troubled_day(
    smtp_settings: Settings, smtp_server: SmtpServer, db: Database, caplog: pytest.LogCaptureFixture
) -> Flask:
    """The demo readers' day: grace's relay says 451 until it gives up (one attempt
    allowed), ada's refuses the message for good (554), mei gets hers."""
    sink = smtp_server.sink
    sink.on_rcpt = lambda address: "451 4.7.1 try later" if address.startswith("grace") else None
    sink.on_data = lambda first: "554 5.7.1 refused" if first.startswith("ada") else None
    app = smtp_app(smtp_settings, db, max_attempts=1)
    with db.session() as session:
        seed_demo(session, DEV_HASH_KEY)
    with caplog.at_level(logging.INFO, logger="newsletter.daily.jobs"):
        result = cli_runner(app).invoke(args=["daily", "claude", "--date", SAMPLE_DATE.isoformat()])
    assert result.exit_code == 0, result.output
    return app


def test_deliveries_show_each_state_and_the_kind_of_failure(
    troubled_day: Flask, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    digest_id = en_digest(db)
    runner = cli_runner(troubled_day)
    result = runner.invoke(args=["deliveries", str(digest_id)])
    assert result.exit_code == 0, result.output
    assert f"Digest #{digest_id} (2026-01-12 en): 0 sent, 2 failed, 0 pending" in result.output
    assert "failed (temporary)" in result.output and "451 4.7.1 try later" in result.output
    assert "failed (permanent)" in result.output and "554 5.7.1 refused" in result.output
    # each send job logs its counts; the failure is in the runs
    logged = [record.getMessage() for record in caplog.get_records("setup")]
    assert f"digest #{digest_id} ids 0-499: 0 sent, 2 failed, 0 skipped, 0 to retry" in logged
    runs = runner.invoke(args=["runs"]).output
    assert "send #" in runs and "en: 2 failed" in runs

    with db.session() as session:
        zh_id = session.scalars(select(Digest.id).where(Digest.language == "zh-TW")).one()
    zh = runner.invoke(args=["deliveries", str(zh_id)])
    assert "1 sent, 0 failed" in zh.output and "mei@example.com" in zh.output
    zh_failed = runner.invoke(args=["deliveries", str(zh_id), "--failed"])
    assert "1 sent, 0 failed" in zh_failed.output
    assert "mei@example.com" not in zh_failed.output  # --failed lists only failures


def test_retry_sends_the_temporary_failures_again(
    troubled_day: Flask, db: Database, smtp_server: SmtpServer
) -> None:
    smtp_server.sink.on_rcpt = None  # the relay took its break
    digest_id = en_digest(db)
    runner = cli_runner(troubled_day)
    result = runner.invoke(args=["deliveries", "retry", str(digest_id)])
    assert result.exit_code == 0, result.output
    assert "1 delivery(ies) back to pending, 1 send job(s) sent." in result.output
    assert "Now 1 sent, 1 failed, 0 pending." in result.output
    assert smtp_server.sink.counts()["grace@example.com"] == 1
    again = runner.invoke(args=["deliveries", "retry", str(digest_id)])
    assert "no delivery that failed on a temporary error" in again.output


def test_retry_with_redis_enqueues_the_send_jobs(
    smtp_settings: Settings, db: Database, redis: Redis
) -> None:
    app = smtp_app(smtp_settings, db, max_attempts=1)
    with db.session() as session:
        seed_demo(session, DEV_HASH_KEY)
        reader = session.scalars(select(Subscriber).where(Subscriber.email == "ada@example.com"))
        subscriber_id = reader.one().id
    assert cli_runner(app).invoke(args=["fetch", "claude"]).exit_code == 0
    assert cli_runner(app).invoke(args=["build", "claude", "--date", "2026-01-12"]).exit_code == 0
    digest_id = en_digest(db)
    with db.session() as session:
        session.add(
            Delivery(
                digest_id=digest_id,
                subscriber_id=subscriber_id,
                state=DeliveryState.FAILED,
                attempts=1,
                last_error="451 later",
            )
        )
    redis_app = smtp_app(smtp_settings, db, redis_url=REDIS_URL)
    result = cli_runner(redis_app).invoke(args=["deliveries", "retry", str(digest_id)])
    assert result.exit_code == 0, result.output
    assert "1 send job(s) enqueued" in result.output
    queued = Queue(smtp_settings.queue_name, connection=redis).get_job_ids()
    assert [job for job in queued if job.startswith(f"send-{digest_id}-")]


def test_deliveries_of_an_unknown_digest(app: Flask) -> None:
    for args in (["deliveries", "999"], ["deliveries", "retry", "999"]):
        result = cli_runner(app).invoke(args=args)
        assert result.exit_code == 1
        assert result.output.startswith("Error: no digest #999")


def test_test_send_goes_to_one_address_marked_and_unrecorded(
    smtp_settings: Settings, smtp_server: SmtpServer, db: Database
) -> None:
    app = smtp_app(smtp_settings, db)
    with db.session() as session:
        seed_demo(session, DEV_HASH_KEY)
    runner = cli_runner(app)
    assert runner.invoke(args=["fetch", "claude"]).exit_code == 0
    assert runner.invoke(args=["build", "claude", "--date", SAMPLE_DATE.isoformat()]).exit_code == 0
    digest_id = en_digest(db)

    result = runner.invoke(args=["test-send", str(digest_id), "--to", "Boss@Example.org"])
    assert result.exit_code == 0, result.output
    [message] = smtp_server.sink.messages()
    assert message["Subject"].startswith("[TEST] ")
    assert message["To"] == "boss@example.org"
    assert "/unsubscribe/preview" in message["List-Unsubscribe"]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
        assert session.scalar(select(Subscriber.id).where(Subscriber.email.like("boss%"))) is None

    bad = runner.invoke(args=["test-send", "424242", "--to", "boss@example.org"])
    assert bad.exit_code == 1 and bad.output.startswith("Error: no digest #424242 with content")
    smtp_server.sink.on_rcpt = lambda address: "550 5.1.1 no such user"
    refused = runner.invoke(args=["test-send", str(digest_id), "--to", "boss@example.org"])
    assert refused.exit_code == 1
    assert refused.output.startswith("Error: the test was not sent: 550")
