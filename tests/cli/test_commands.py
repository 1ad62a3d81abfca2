"""The `newsletter` command as a person runs it: bad input gets one line and status 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from newsletter.db import Base
from newsletter.services import current
from tests.support import cli_runner

NEWSLETTER = str(Path(sys.executable).with_name("newsletter"))


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    return subprocess.run(
        [NEWSLETTER, *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def row_counts(app: Flask) -> dict[str, int]:
    with app.app_context(), current().db.session() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


def test_demo_on_embedded_defaults_in_a_fresh_folder(tmp_path: Path) -> None:
    result = run(["demo"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "instance" / "newsletter.db").is_file()
    assert len(list((tmp_path / "instance" / "outbox").glob("*.eml"))) == 3
    assert str(tmp_path / "instance" / "outbox") in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fetch", "nope"], "Error: unknown topic 'nope'"),
        (["build", "nope"], "Error: unknown topic 'nope'"),
        (["send", "nope"], "Error: unknown topic 'nope'"),
        (["build", "claude", "--date", "2026-13-45"], "Error: bad date '2026-13-45'"),
        (["send", "claude", "--date", "yesterday"], "Error: bad date 'yesterday'"),
        (["subscribers", "add", "not-an-address", "--topic", "claude"], "Error: "),
        (["topics", "add", "Bad Slug!", "Bad"], "Error: a topic slug is"),
        (["preview", "12345"], "Error: no ready digest #12345"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    app: Flask, args: list[str], message: str
) -> None:
    runner = cli_runner(app)
    assert runner.invoke(args=["demo", "--force"]).exit_code == 0
    before = row_counts(app)
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert result.output.startswith(message), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert row_counts(app) == before


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = run(
        ["build", "claude"],
        cwd=tmp_path,
        NEWSLETTER_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none",
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot reach the database")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "instance").exists()


def test_production_refuses_the_development_secret(tmp_path: Path) -> None:
    result = run(["topics", "list"], cwd=tmp_path, NEWSLETTER_ENV="production")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: NEWSLETTER_SECRET_KEY must be set to a random value of 32+ characters in production"
    )


def test_a_malformed_setting_names_the_variable(tmp_path: Path) -> None:
    result = run(["topics", "list"], cwd=tmp_path, NEWSLETTER_SMTP_PORT="twenty-five")
    assert result.returncode == 1
    assert "NEWSLETTER_SMTP_PORT must be an integer" in result.stderr


def test_every_command_is_reachable_through_the_newsletter_command(app: Flask) -> None:
    """Flask's own commands (run, shell, routes) must not shadow one of ours."""
    import click

    from newsletter.cli import cli

    # as a context manager: get_command pushes an app context that must be popped again
    with click.Context(cli, obj=ScriptInfo(create_app=lambda: app)) as context:
        for name, command in app.cli.commands.items():
            assert cli.get_command(context, name) is command, name


@pytest.mark.parametrize(
    "args", [["--help"], ["topics", "--help"], ["subscribers", "import", "-h"]]
)
def test_help_creates_no_instance_folder(tmp_path: Path, args: list[str]) -> None:
    result = run(args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "instance").exists()
    assert list(tmp_path.iterdir()) == []


def test_the_help_lists_the_operator_commands(tmp_path: Path) -> None:
    output = run(["--help"], cwd=tmp_path).stdout
    for command in ("runs", "deliveries", "test-send"):
        assert f"  {command} " in output


def test_the_demo_refuses_anything_but_the_embedded_default(tmp_path: Path) -> None:
    elsewhere = f"sqlite:///{tmp_path / 'shared' / 'newsletter.db'}"
    for env, reason in [
        ({"NEWSLETTER_DATABASE_URL": elsewhere}, "this is sqlite with the outbox transport"),
        ({"NEWSLETTER_TRANSPORT": "smtp"}, "this is sqlite with the smtp transport"),
        ({"NEWSLETTER_REDIS_URL": "redis://127.0.0.1:1/0"}, "transport and Redis"),
    ]:
        result = run(["demo"], cwd=tmp_path, **env)
        assert result.returncode == 1, result.stdout
        assert result.stderr.startswith("Error: the demo seeds sample readers")
        assert reason in result.stderr and "Use --force" in result.stderr
        assert not (tmp_path / "shared" / "newsletter.db").exists()  # not even an empty one
    production = {
        "NEWSLETTER_ENV": "production",
        "NEWSLETTER_SECRET_KEY": "s" * 40,
        "NEWSLETTER_BASE_URL": "https://news.example.org",
        "NEWSLETTER_POSTAL_ADDRESS": "5 Harbour Road, Keelung",
    }
    result = run(["demo", "--force"], cwd=tmp_path, **production)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: the demo never runs in production")
    assert not (tmp_path / "instance" / "newsletter.db").exists()


def test_demo_today_moves_the_sample_news_to_today(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    result = run(["demo", "--today"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    today = datetime.now(UTC).date()
    assert f"to {today}." in result.stdout
    assert f"Building the claude digest for {today}" in result.stdout
    assert len(list((tmp_path / "instance" / "outbox").glob("*.eml"))) == 3
