"""`newsletter suppressions ...`, `sweep`, and the Redis-only `worker` and `cron`."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.models import Suppression, email_hash
from newsletter.services import current
from tests.support import cli_runner


def _suppressed(app: Flask) -> dict[str, str]:
    with app.app_context(), current().db.session() as session:
        return {s.email: s.reason for s in session.scalars(select(Suppression))}


def test_import_list_and_remove_suppressions(app: Flask, tmp_path: Path) -> None:
    listing = tmp_path / "bounces.csv"
    listing.write_text(
        "# from the old provider\nAda@Example.com,hard bounce\n\ngrace@example.com\n"
    )
    runner = cli_runner(app)

    result = runner.invoke(args=["suppressions", "import", str(listing)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 new suppression(s) from 2 line(s)" in result.output
    assert _suppressed(app) == {"ada@example.com": "hard bounce", "grace@example.com": "imported"}
    again = runner.invoke(args=["suppressions", "import", str(listing)])
    assert "Imported 0 new" in again.output

    shown = runner.invoke(args=["suppressions", "list"])
    assert "ada@example.com" in shown.output and "hard bounce" in shown.output

    removed = runner.invoke(args=["suppressions", "remove", "ADA@example.com"])
    assert removed.exit_code == 0, removed.output
    assert set(_suppressed(app)) == {"grace@example.com"}
    missing = runner.invoke(args=["suppressions", "remove", "ada@example.com"])
    assert missing.exit_code == 1
    assert "not on the suppression list" in missing.output


def test_an_import_with_a_bad_line_changes_nothing(app: Flask, tmp_path: Path) -> None:
    listing = tmp_path / "bounces.txt"
    listing.write_text("ok@example.com\nnot an address\n")
    result = cli_runner(app).invoke(args=["suppressions", "import", str(listing)])
    assert result.exit_code == 1
    assert "line 2" in result.output
    assert _suppressed(app) == {}


def test_suppression_rows_carry_the_email_hash(app: Flask, tmp_path: Path) -> None:
    listing = tmp_path / "one.txt"
    listing.write_text("mei@example.com\n")
    cli_runner(app).invoke(args=["suppressions", "import", str(listing)])
    with app.app_context(), current().db.session() as session:
        row = session.scalars(select(Suppression)).one()
    with app.app_context():
        key = current().settings.suppression_key
    assert row.email_hash == email_hash("mei@example.com", key)


def test_worker_and_cron_need_redis(app: Flask) -> None:
    runner = cli_runner(app)
    for command in ("worker", "cron"):
        result = runner.invoke(args=[command])
        assert result.exit_code == 1
        assert "NEWSLETTER_REDIS_URL" in result.output


def test_sweep_reports_what_it_did(app: Flask) -> None:
    result = cli_runner(app).invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    assert "0 recorded from journals, 0 released" in result.output


def test_run_chains_the_daily_jobs_inline_without_redis(app: Flask, settings: Settings) -> None:
    from newsletter.demo import SAMPLE_DATE, seed_demo

    with app.app_context(), current().db.session() as session:
        seed_demo(session, settings.suppression_key)
    runner = cli_runner(app)
    result = runner.invoke(args=["daily", "claude", "--date", SAMPLE_DATE.isoformat()])
    assert result.exit_code == 0, result.output
    assert "Ran claude inline: 3 email(s) sent in all." in result.output
    assert len(list(Path(settings.outbox_dir).glob("*.eml"))) == 3

    again = runner.invoke(args=["daily", "claude", "--date", SAMPLE_DATE.isoformat()])
    assert "3 email(s) sent in all" in again.output  # nothing sent twice
    assert len(list(Path(settings.outbox_dir).glob("*.eml"))) == 3


def test_run_refuses_an_unknown_topic(app: Flask) -> None:
    result = cli_runner(app).invoke(args=["daily", "nope"])
    assert result.exit_code == 1
    assert "unknown topic 'nope'" in result.output
