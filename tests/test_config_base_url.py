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
