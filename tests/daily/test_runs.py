"""A day that sends nothing is never silent: each step is logged and stored with its
reason, `newsletter runs` shows them, and the operators get one email about the day."""

from __future__ import annotations

import email
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest
from flask import Flask

from newsletter.app import create_app
from newsletter.catalog import add_source, add_topic
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.models import Item
from newsletter.services import Services
from tests.delivery.conftest import SmtpServer, smtp_server, smtp_settings
from tests.digest.anthropic_fake import FakeAnthropic
from tests.support import DEV_HASH_KEY, cli_runner

__all__ = ["smtp_server", "smtp_settings"]  # the SMTP sink fixtures, used below

OPERATORS = ("ops@example.org", "oncall@example.org")


def make_app(settings: Settings, db: Database, **changes: object) -> Flask:
    app = create_app(services=Services(replace(settings, **changes), db))  # type: ignore[arg-type]
    app.config["TESTING"] = True
    return app


def operator_emails(settings: Settings) -> list[email.message.EmailMessage]:
    assert settings.outbox_dir is not None
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted(Path(settings.outbox_dir).glob("operators-*.eml"))
    ]


def test_an_empty_day_is_recorded_shown_and_emailed_once(
    settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(settings, db, operator_emails=OPERATORS)
    with db.session() as session:
        seed_demo(session, DEV_HASH_KEY)
    runner = cli_runner(app)
    quiet_day = "2026-03-01"  # the bundled news is from January

    result = runner.invoke(args=["daily", "claude", "--date", quiet_day])
    assert result.exit_code == 0, result.output
    assert "no claude news between" in caplog.text  # logged with its reason

    shown = runner.invoke(args=["runs", "--topic", "claude"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert "build empty: no claude news between 2026-02-28 08:00 and 2026-03-01 08:00" in lines[0]
    assert "fetch ok:" in lines[1] and "new item(s) from 5 source(s)" in lines[1]

    alerts = operator_emails(app.extensions["newsletter"].settings)
    assert sorted(message["To"] for message in alerts) == sorted(OPERATORS)
    assert "claude 2026-03-01: the day sent nothing" in alerts[0]["Subject"]
    assert "no claude news between" in alerts[0].get_body(("plain",)).get_content()

    again = runner.invoke(args=["daily", "claude", "--date", quiet_day])
    assert again.exit_code == 0, again.output
    assert len(operator_emails(app.extensions["newsletter"].settings)) == 2  # not again


def test_every_source_failing_is_recorded_with_each_reason(
    settings: Settings, db: Database
) -> None:
    app = make_app(settings, db, operator_emails=OPERATORS, fetch_retries=0, fetch_timeout=2.0)
    with db.session() as session:
        topic = add_topic(
            session, "gemini", "Gemini", keywords=["Gemini"], languages=["en"], send_time="06:00"
        )
        add_source(session, topic, "rss", "Down", "http://127.0.0.1:9/feed.xml")
    runner = cli_runner(app)
    assert runner.invoke(args=["daily", "gemini", "--date", "2026-03-01"]).exit_code == 0

    shown = runner.invoke(args=["runs"])
    assert "gemini 2026-03-01 fetch failed: every source failed: Down:" in shown.output
    assert "gemini 2026-03-01 build empty" in shown.output
    body = operator_emails(app.extensions["newsletter"].settings)[0]
    assert "every source failed: Down:" in body.get_body(("plain",)).get_content()


def test_a_good_day_records_each_step_and_alerts_nobody(settings: Settings, db: Database) -> None:
    app = make_app(settings, db, operator_emails=OPERATORS)
    with db.session() as session:
        seed_demo(session, DEV_HASH_KEY)
    runner = cli_runner(app)
    assert runner.invoke(args=["daily", "claude", "--date", SAMPLE_DATE.isoformat()]).exit_code == 0
    shown = runner.invoke(args=["runs", "--limit", "20"]).output
    assert "build #" in shown and "en built by offline" in shown
    assert "fan-out #" in shown and "2 delivery(ies) to send" in shown
    assert "failed" not in shown and "empty" not in shown
    assert operator_emails(app.extensions["newsletter"].settings) == []


def test_alerts_can_be_turned_off(settings: Settings, db: Database) -> None:
    app = make_app(settings, db, operator_emails=OPERATORS, operator_alerts=False)
    with db.session() as session:
        seed_demo(session, DEV_HASH_KEY)
    assert cli_runner(app).invoke(args=["daily", "claude", "--date", "2026-03-01"]).exit_code == 0
    assert operator_emails(app.extensions["newsletter"].settings) == []
    shown = cli_runner(app).invoke(args=["runs"]).output
    assert "build empty" in shown  # still recorded


def test_runs_without_any_yet(app: Flask) -> None:
    result = cli_runner(app).invoke(args=["runs", "--topic", "claude"])
    assert result.exit_code == 0
    assert "No runs of claude yet." in result.output


def test_the_operators_hear_over_smtp_too(
    smtp_settings: Settings, smtp_server: SmtpServer, db: Database
) -> None:
    app = make_app(smtp_settings, db, operator_emails=OPERATORS)
    with db.session() as session:
        seed_demo(session, DEV_HASH_KEY)
    assert cli_runner(app).invoke(args=["daily", "claude", "--date", "2026-03-01"]).exit_code == 0
    received = smtp_server.sink.messages()
    assert sorted(message["To"] for message in received) == sorted(OPERATORS)
    assert all("the day sent nothing" in message["Subject"] for message in received)


def test_a_writer_failure_is_recorded_and_the_operators_hear_once(
    settings: Settings, db: Database
) -> None:
    fake = FakeAnthropic()  # answers 401: the key is refused
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        app = make_app(
            settings,
            db,
            operator_emails=OPERATORS[:1],
            anthropic_api_key="sk-ant-test-key",
            anthropic_base_url=fake.url,
            anthropic_max_retries=0,
        )
        with db.session() as session:
            seed_demo(session, DEV_HASH_KEY)
        result = cli_runner(app).invoke(args=["daily", "claude", "--date", "2026-01-12"])
        assert result.exit_code == 0, result.output
    finally:
        fake.server.shutdown()
        fake.server.server_close()
    shown = cli_runner(app).invoke(args=["runs"]).output
    assert shown.count("claude 2026-01-12 build #") == 2 and shown.count(" failed: ") == 2
    [alert] = operator_emails(app.extensions["newsletter"].settings)
    assert "claude 2026-01-12: the day failed" in alert["Subject"]


def test_daily_status_shows_the_topic_runs(settings: Settings, db: Database) -> None:
    app = make_app(settings, db)
    with db.session() as session:
        seed_demo(session, DEV_HASH_KEY)
    runner = cli_runner(app)
    runner.invoke(args=["daily", "claude", "--date", "2026-03-01"])
    shown = runner.invoke(args=["daily", "claude", "--status"])
    assert shown.exit_code == 0, shown.output
    assert "claude 2026-03-01 build empty" in shown.output
    assert "Ran claude" not in shown.output  # it only shows


def test_a_build_before_the_window_closes_says_so(settings: Settings, db: Database) -> None:
    now = datetime.now(UTC)
    closes = now + timedelta(hours=1)  # the window of that day ends in an hour
    with db.session() as session:
        topic = add_topic(
            session,
            "early",
            "Claude",
            keywords=["Claude"],
            languages=["en"],
            send_time=f"{closes:%H:%M}",
        )
        source = add_source(session, topic, "rss", "Feed", "https://example.org/feed.xml")
        for n in range(3):
            session.add(
                Item(
                    topic_id=topic.id,
                    source_id=source.id,
                    canonical_url=f"https://example.org/{n}",
                    url=f"https://example.org/{n}",
                    title=f"Claude news number {n}",
                    outlet="Example",
                    published_at=now - timedelta(minutes=10 + n),
                    summary="Claude did something new today.",
                )
            )
    app = make_app(settings, db)
    result = cli_runner(app).invoke(args=["build", "early", "--date", f"{closes:%Y-%m-%d}"])
    assert result.exit_code == 0, result.output
    assert "Built before its news window closes" in result.output
    assert "The daily run writes it again then" in result.output
