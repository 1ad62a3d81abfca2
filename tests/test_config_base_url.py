"""NEWSLETTER_BASE_URL becomes every link in every email, so it is checked at start-up."""

from __future__ import annotations

import pytest

from newsletter.config import ConfigError, Settings


@pytest.mark.parametrize(
    "good", ["http://localhost:5000", "https://news.example.org", "https://example.org/news/"]
)
def test_absolute_http_urls_are_accepted_without_a_trailing_slash(good: str) -> None:
    assert Settings.from_env({"NEWSLETTER_BASE_URL": good}).base_url == good.rstrip("/")


@pytest.mark.parametrize(
    "bad", ["localhost:5000", "news.example.org", "/relative", "ftp://x.org", "https://a b.org"]
)
def test_anything_else_is_refused_with_the_variable_named(bad: str) -> None:
    with pytest.raises(ConfigError, match="NEWSLETTER_BASE_URL"):
        Settings.from_env({"NEWSLETTER_BASE_URL": bad})


PRODUCTION = {
    "NEWSLETTER_ENV": "production",
    "NEWSLETTER_SECRET_KEY": "s" * 40,
    "NEWSLETTER_POSTAL_ADDRESS": "News Ltd, 5 Harbour Road, Keelung",
}


def test_production_refuses_a_plain_http_base_url() -> None:
    """One-click unsubscribe (RFC 8058) and the readers' private links need https."""
    with pytest.raises(ConfigError, match="NEWSLETTER_BASE_URL must be an https:// URL"):
        Settings.from_env({**PRODUCTION, "NEWSLETTER_BASE_URL": "http://news.example.org"})
    https = Settings.from_env({**PRODUCTION, "NEWSLETTER_BASE_URL": "https://news.example.org"})
    assert https.production


def test_production_refuses_the_placeholder_postal_address() -> None:
    environ = {**PRODUCTION, "NEWSLETTER_BASE_URL": "https://news.example.org"}
    del environ["NEWSLETTER_POSTAL_ADDRESS"]
    with pytest.raises(ConfigError, match="NEWSLETTER_POSTAL_ADDRESS"):
        Settings.from_env(environ)
