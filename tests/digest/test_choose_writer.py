"""Which writer runs, what the CLI says about it, and what it reports it spent."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask

from newsletter.app import create_app
from newsletter.config import ConfigError, Settings, newest_sonnet_alias
from newsletter.db import Database
from newsletter.digest.choose import choose_writer, writer_reason
from newsletter.digest.claude import ClaudeWriter
from newsletter.digest.offline import OfflineWriter
from newsletter.services import Services
from tests.digest.anthropic_fake import FakeAnthropic
from tests.support import cli_runner


def test_offline_writer_without_a_key(settings: Settings) -> None:
    assert isinstance(choose_writer(settings), OfflineWriter)
    assert "offline" in writer_reason(settings)
    assert "ANTHROPIC_API_KEY" in writer_reason(settings)


def test_claude_writer_with_a_key(settings: Settings) -> None:
    keyed = dataclasses.replace(settings, anthropic_api_key="sk-ant-x")
    writer = choose_writer(keyed)
    assert isinstance(writer, ClaudeWriter)
    assert writer.model == newest_sonnet_alias()
    assert writer_reason(keyed) == (
        f"Writer: Claude ({newest_sonnet_alias()}), because an Anthropic API key is set."
    )


def test_key_from_either_variable_and_never_in_the_repr(tmp_path) -> None:
    base = {"NEWSLETTER_INSTANCE_DIR": str(tmp_path)}
    assert Settings.from_env(base).anthropic_api_key == ""
    assert Settings.from_env({**base, "ANTHROPIC_API_KEY": "a"}).anthropic_api_key == "a"
    both = {**base, "ANTHROPIC_API_KEY": "a", "NEWSLETTER_ANTHROPIC_API_KEY": "n"}
    settings = Settings.from_env(both)
    assert settings.anthropic_api_key == "n"
    assert "'n'" not in repr(settings) and "anthropic_api_key" not in repr(settings)


def test_writer_settings_from_the_environment(tmp_path) -> None:
    settings = Settings.from_env(
        {
            "NEWSLETTER_INSTANCE_DIR": str(tmp_path),
            "NEWSLETTER_ANTHROPIC_MODEL": "claude-haiku-4-5",
            "NEWSLETTER_ANTHROPIC_MAX_TOKENS": "4000",
            "NEWSLETTER_ANTHROPIC_EFFORT": "medium",
            "NEWSLETTER_ANTHROPIC_BUDGET_SECONDS": "90",
        }
    )
    assert settings.anthropic_model == "claude-haiku-4-5"
    assert settings.anthropic_max_tokens == 4000
    assert settings.anthropic_effort == "medium"
    assert settings.anthropic_budget_seconds == 90.0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ANTHROPIC_MAX_TOKENS", "0", "NEWSLETTER_ANTHROPIC_MAX_TOKENS"),
        ("ANTHROPIC_MAX_TOKENS", "64000", "NEWSLETTER_ANTHROPIC_MAX_TOKENS"),
        ("ANTHROPIC_MAX_TOKENS", "lots", "NEWSLETTER_ANTHROPIC_MAX_TOKENS must be an integer"),
        ("ANTHROPIC_EFFORT", "extreme", "NEWSLETTER_ANTHROPIC_EFFORT"),
        ("ANTHROPIC_BUDGET_SECONDS", "0", "NEWSLETTER_ANTHROPIC_BUDGET_SECONDS"),
        ("ANTHROPIC_MAX_RETRIES", "-1", "NEWSLETTER_ANTHROPIC_MAX_RETRIES"),
    ],
)
def test_bad_writer_settings_are_named(tmp_path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"NEWSLETTER_INSTANCE_DIR": str(tmp_path), f"NEWSLETTER_{name}": value})


def test_newest_sonnet_alias_is_a_dateless_sonnet_the_sdk_lists() -> None:
    from typing import get_args

    from anthropic.types import ModelParam

    listed = get_args(get_args(ModelParam)[0])
    alias = newest_sonnet_alias()
    assert alias in listed and alias.startswith("claude-sonnet-")
    assert not alias.split("-")[-1].isdigit() or len(alias.split("-")[-1]) <= 2


def test_cli_build_names_the_writer_and_shows_usage(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    app: Flask = create_app(claude_settings)
    app.extensions["newsletter"] = Services(claude_settings, db)
    fake_anthropic.answer("good", "missing_item_id", "missing_item_id")
    runner = cli_runner(app)

    result = runner.invoke(args=["build", "claude", "--date", "2026-01-12", "--language", "en"])
    assert result.exit_code == 0, result.output
    assert "Writer: Claude (claude-sonnet-5-5), because an Anthropic API key is set." in (
        result.output
    )
    assert "ready (writer claude, model claude-sonnet-5-5, 1,187 in / 1,012 out tokens" in (
        result.output.replace("\n", "")
    )
    assert "~$0.0275" in result.output

    result = runner.invoke(args=["build", "claude", "--date", "2026-01-12", "--language", "zh-TW"])
    assert result.exit_code == 1, result.output
    assert "[9999]" in result.output
    assert "1 digest(s) failed and will not be sent" in result.output

    listing = runner.invoke(args=["digests", "list", "--topic", "claude"])
    assert listing.exit_code == 0, listing.output
    failed, error, ready, total = listing.output.splitlines()
    assert "zh-TW  failed claude/claude-sonnet-5-5  2,374 in / 2,018 out tokens" in failed
    assert "do not exist: [9999] (still, after one re-ask)" in error
    assert "claude 2026-01-12 en     ready  claude/claude-sonnet-5-5  1,187 in" in ready
    costs = [float(line.rsplit("~$", 1)[1]) for line in (failed, ready)]
    assert total.startswith("claude 2026-01-12: ~$") and "(2 digest(s), every call)" in total
    assert float(total.split("~$")[1].split()[0]) == pytest.approx(sum(costs), abs=2e-4)


def test_cli_build_says_it_writes_offline(app: Flask, news: int) -> None:
    result = cli_runner(app).invoke(
        args=["build", "claude", "--date", "2026-01-12", "--language", "en"]
    )
    assert result.exit_code == 0, result.output
    assert "Writer: offline" in result.output
    assert "ready (writer offline)" in result.output
