"""Settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import ConfigError, Settings


def test_embedded_defaults_need_no_environment(tmp_path: Path) -> None:
    settings = Settings.from_env({"NEWSLETTER_INSTANCE_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'newsletter.db'}"
    assert settings.outbox_dir == tmp_path / "outbox"
    assert settings.transport == "outbox"
    assert settings.inline_jobs


def test_values_are_converted() -> None:
    settings = Settings.from_env(
        {"NEWSLETTER_SMTP_PORT": "2525", "NEWSLETTER_CHECK_DELIVERABILITY": "yes"}
    )
    assert settings.smtp_port == 2525
    assert settings.check_deliverability is True


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"NEWSLETTER_ENV": "production"}, "NEWSLETTER_SECRET_KEY"),
        ({"NEWSLETTER_ENV": "staging"}, "NEWSLETTER_ENV"),
        ({"NEWSLETTER_TRANSPORT": "pigeon"}, "NEWSLETTER_TRANSPORT"),
        ({"NEWSLETTER_SMTP_PORT": "x"}, "NEWSLETTER_SMTP_PORT must be an integer"),
        ({"NEWSLETTER_SMTP_SECURITY": "tls"}, "NEWSLETTER_SMTP_SECURITY"),
        ({"NEWSLETTER_SEND_BATCH_SIZE": "0"}, "NEWSLETTER_SEND_BATCH_SIZE must be at least 1"),
        ({"NEWSLETTER_LEASE_SECONDS": "0"}, "NEWSLETTER_LEASE_SECONDS must be at least 1"),
        ({"NEWSLETTER_MAX_ATTEMPTS": "0"}, "NEWSLETTER_MAX_ATTEMPTS must be at least 1"),
        ({"NEWSLETTER_SMTP_POOL_SIZE": "0"}, "NEWSLETTER_SMTP_POOL_SIZE must be at least 1"),
        ({"NEWSLETTER_RATE_LIMIT": "-1"}, "NEWSLETTER_RATE_LIMIT"),
        ({"NEWSLETTER_RETRY_BASE_SECONDS": "-1"}, "NEWSLETTER_RETRY_BASE_SECONDS"),
        ({"NEWSLETTER_SMTP_TIMEOUT": "0"}, "NEWSLETTER_SMTP_TIMEOUT"),
        ({"NEWSLETTER_ANTHROPIC_BATCH_LEAD_MINUTES": "-5"}, "BATCH_LEAD_MINUTES must be 0"),
    ],
)
def test_bad_settings_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ)


def test_production_accepts_a_real_secret() -> None:
    settings = Settings.from_env(
        {"NEWSLETTER_ENV": "production", "NEWSLETTER_SECRET_KEY": "s" * 40}
    )
    assert settings.production


def test_the_sender_domain_comes_from_the_from_address() -> None:
    assert Settings.from_env({"NEWSLETTER_FROM_ADDRESS": "d@mail.example"}).sender_domain == (
        "mail.example"
    )
