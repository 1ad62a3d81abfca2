"""Fixtures for the console's tests: an operator, and a client signed in as them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.admins import add_admin
from newsletter.catalog import topic_by_slug
from newsletter.config import Settings
from newsletter.daily import jobs
from newsletter.db import Database
from newsletter.models import ReviewMode
from tests.digest.news_items import DAY, ITEMS, add_items
from tests.web.admin.console_helpers import OPERATOR, PASSWORD, sign_in
from tests.web.admin.linkserver import news_site
from tests.web.site_helpers import add_reader


@pytest.fixture
def operator(db: Database) -> str:
    with db.session() as session:
        add_admin(session, OPERATOR, PASSWORD)
    return OPERATOR


@pytest.fixture
def console(app: Flask, topics: list[str], operator: str) -> FlaskClient:
    """A test client signed in as the operator."""
    client = app.test_client()
    sign_in(client)
    return client


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The console's tests approve digests of a fixed past day: a grace long enough; their
    news site is on loopback."""
    return replace(
        settings, review_grace_minutes=100 * 365 * 24 * 60, link_check_private_hosts=True
    )


@pytest.fixture
def link_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with news_site(tmp_path) as (base, certificate):
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
        yield base


@pytest.fixture
def day_news(db: Database, topics: list[str], link_site: str) -> date:
    """The 'claude' topic's news of the day on the local site (the last story's link is
    gone) and a reader in each language."""
    with db.session() as session:
        topic = topic_by_slug(session, "claude")
        topic.send_time = time(8, 0)
        stories = [
            (item_id, outlet, title, f"{link_site}/story/{item_id}", summary)
            for item_id, outlet, title, _url, summary in ITEMS
        ]
        last = stories[-1]
        stories[-1] = (*last[:3], f"{link_site}/gone/{last[0]}", last[4])
        add_items(session, topic, tuple(stories))
    add_reader(db, "reader@example.com")
    add_reader(db, "lector@example.com", language="zh-TW")
    return DAY


@pytest.fixture
def review_day(app: Flask, db: Database, operator: str, day_news: date) -> date:
    """The day's chain run with review required: the digests wait for review."""
    with db.session() as session:
        topic_by_slug(session, "claude").review = ReviewMode.REQUIRED
    with app.app_context():
        assert jobs.build("claude", day_news.isoformat()) == []
    return day_news


@pytest.fixture
def sent_day(app: Flask, day_news: date) -> date:
    """The day's chain run without review: both digests sent (to the outbox)."""
    with app.app_context():
        assert len(jobs.build("claude", day_news.isoformat())) == 2
    return day_news
