"""The NEWSLETTER_FETCH_* settings reach the fetch policy; bad values are refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.app import create_app
from newsletter.config import ConfigError, Settings
from newsletter.daily import jobs
from newsletter.daily.steps import fetch_policy
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.models import Item, Source
from newsletter.services import Services


def test_fetch_settings_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "NEWSLETTER_INSTANCE_DIR": str(tmp_path),
            "NEWSLETTER_FETCH_TIMEOUT": "2.5",
            "NEWSLETTER_FETCH_RETRIES": "0",
            "NEWSLETTER_FETCH_PER_HOST": "1",
            "NEWSLETTER_FETCH_MAX_BYTES": "2048",
        }
    )
    policy = fetch_policy(settings)
    assert (policy.timeout, policy.retries, policy.per_host, policy.max_bytes) == (2.5, 0, 1, 2048)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FETCH_TIMEOUT", "0", "NEWSLETTER_FETCH_TIMEOUT must be > 0"),
        ("FETCH_RETRIES", "-1", "NEWSLETTER_FETCH_RETRIES >= 0"),
        ("FETCH_PER_HOST", "0", "NEWSLETTER_FETCH_PER_HOST >= 1"),
        ("FETCH_MAX_BYTES", "10", "NEWSLETTER_FETCH_MAX_BYTES must be at least 1024"),
        ("FETCH_TIMEOUT", "soon", "NEWSLETTER_FETCH_TIMEOUT must be a number"),
    ],
)
def test_bad_fetch_settings(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"NEWSLETTER_INSTANCE_DIR": str(tmp_path), f"NEWSLETTER_{name}": value})


def test_the_fetch_job_uses_the_settings(settings: Settings, db: Database) -> None:
    """The daily run's fetch (an rq job, or inline) applies them too, not only the CLI."""
    with db.session() as session:
        seed_demo(session, settings.suppression_key)
    tiny = replace(settings, fetch_max_bytes=1024)  # every sample feed is larger
    app = create_app(services=Services(tiny, db))
    with app.app_context():
        jobs.fetch("claude", SAMPLE_DATE.isoformat())  # enqueues the build: inline, no items
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0
        statuses = set(session.scalars(select(Source.last_status)))
    assert statuses == {"failed"}
