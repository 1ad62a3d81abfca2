"""The site's settings: read from the environment, refused with a clear message."""

from __future__ import annotations

import pytest

from newsletter.config import ConfigError, Settings


def test_site_settings_from_the_environment(tmp_path) -> None:
    settings = Settings.from_env(
        {
            "NEWSLETTER_INSTANCE_DIR": str(tmp_path),
            "NEWSLETTER_CHECK_DELIVERABILITY": "yes",
            "NEWSLETTER_CONFIRM_MAX_AGE_DAYS": "3",
            "NEWSLETTER_RESEND_INTERVAL_MINUTES": "0",
            "NEWSLETTER_SIGNUP_RATE_LIMIT": "5/minute",
            "NEWSLETTER_SIGNUP_ADDRESS_RATE_LIMIT": "2/hour;5/day",
            "NEWSLETTER_PROXY_HOPS": "1",
        }
    )
    assert settings.check_deliverability is True
    assert (settings.confirm_max_age_days, settings.resend_interval_minutes) == (3, 0)
    assert settings.signup_address_rate_limit == "2/hour;5/day"
    assert settings.proxy_hops == 1


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CHECK_DELIVERABILITY", "maybe", "NEWSLETTER_CHECK_DELIVERABILITY must be true or false"),
        ("CONFIRM_MAX_AGE_DAYS", "0", "NEWSLETTER_CONFIRM_MAX_AGE_DAYS must be at least 1"),
        ("CONFIRM_MAX_AGE_DAYS", "week", "NEWSLETTER_CONFIRM_MAX_AGE_DAYS must be an integer"),
        ("RESEND_INTERVAL_MINUTES", "-1", "must not be negative"),
        ("SIGNUP_RATE_LIMIT", "lots", "NEWSLETTER_SIGNUP_RATE_LIMIT must look like"),
        ("SIGNUP_ADDRESS_RATE_LIMIT", "3 per fortnight", "NEWSLETTER_SIGNUP_ADDRESS_RATE_LIMIT"),
        ("PROXY_HOPS", "9", "NEWSLETTER_PROXY_HOPS must be between 0 and 5"),
    ],
)
def test_bad_site_settings_are_refused(tmp_path, name: str, value: str, message: str) -> None:
    environ = {"NEWSLETTER_INSTANCE_DIR": str(tmp_path), f"NEWSLETTER_{name}": value}
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ)
