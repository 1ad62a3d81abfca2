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


PRODUCTION = {
    "NEWSLETTER_ENV": "production",
    "NEWSLETTER_SECRET_KEY": "s" * 40,
    "NEWSLETTER_BASE_URL": "https://news.example.org",
    "NEWSLETTER_POSTAL_ADDRESS": "Example Media Ltd, 5 Harbour Road, Keelung 202, Taiwan",
}


def test_production_accepts_a_real_secret_address_and_https() -> None:
    assert Settings.from_env(PRODUCTION).production


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"NEWSLETTER_POSTAL_ADDRESS": ""}, "NEWSLETTER_POSTAL_ADDRESS must be your real"),
        (
            {"NEWSLETTER_POSTAL_ADDRESS": "AI Daily Digest, 1 Example Street, Taipei"},
            "NEWSLETTER_POSTAL_ADDRESS must be your real",
        ),
        ({"NEWSLETTER_BASE_URL": "http://news.example.org"}, "must be an https:// URL"),
        ({"NEWSLETTER_BASE_URL": ""}, "must be an https:// URL"),
    ],
)
def test_production_refuses_the_placeholder_address_and_plain_http(
    change: dict[str, str], message: str
) -> None:
    environ = {k: v for k, v in {**PRODUCTION, **change}.items() if v}
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ)
    development = {k: v for k, v in environ.items() if k != "NEWSLETTER_ENV"}
    assert not Settings.from_env(development).production  # fine outside production


def test_operator_settings() -> None:
    settings = Settings.from_env(
        {"NEWSLETTER_OPERATOR_EMAILS": "ops@example.org, oncall@example.org"}
    )
    assert settings.operator_emails == ("ops@example.org", "oncall@example.org")
    assert settings.operator_alerts
    assert not Settings.from_env({"NEWSLETTER_OPERATOR_ALERTS": "off"}).operator_alerts
    with pytest.raises(ConfigError, match="NEWSLETTER_OPERATOR_EMAILS"):
        Settings.from_env({"NEWSLETTER_OPERATOR_EMAILS": "ops"})
    with pytest.raises(ConfigError, match="NEWSLETTER_CRON_GRACE_MINUTES"):
        Settings.from_env({"NEWSLETTER_CRON_GRACE_MINUTES": "-1"})


def test_the_sender_domain_comes_from_the_from_address() -> None:
    assert Settings.from_env({"NEWSLETTER_FROM_ADDRESS": "d@mail.example"}).sender_domain == (
        "mail.example"
    )
