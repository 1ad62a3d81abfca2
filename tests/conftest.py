"""Fixtures that build the real thing: a migrated database (SQLite by default, Postgres
when NEWSLETTER_TEST_DATABASE_URL is set), the Flask app, and its settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from newsletter import migrate
from newsletter.app import create_app
from newsletter.catalog import add_topic
from newsletter.config import Settings
from newsletter.db import Base, Database
from newsletter.services import Services
from tests.digest.news_items import ITEMS, add_items
from tests.loopback import recreate_database

POSTGRES_URL = os.environ.get("NEWSLETTER_TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A freshly migrated database for this test session."""
    if POSTGRES_URL:
        recreate_database(POSTGRES_URL)
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def _session_database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def db(_session_database: Database) -> Iterator[Database]:
    """The session's database, emptied after each test."""
    yield _session_database
    with _session_database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        instance_dir=tmp_path / "instance",
        database_url=database_url,
        outbox_dir=tmp_path / "outbox",
        base_url="https://news.example.org",
        from_address="digest@news.example.org",
    )


@pytest.fixture
def app(settings: Settings, db: Database) -> Flask:
    app = create_app(services=Services(settings, db))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def news(db: Database) -> int:
    """The 'claude' topic (zh-TW first, then en) with five items on 2026-01-11; its id."""
    with db.session() as session:
        topic = add_topic(
            session,
            "claude",
            "Claude",
            keywords=["Claude"],
            languages=["zh-TW", "en"],
            send_time="08:00",
        )
        add_items(session, topic, ITEMS)
        return topic.id
