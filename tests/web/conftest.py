"""Fixtures for the site's tests: real topics, a test client, and an empty Redis db."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from newsletter.catalog import add_topic
from newsletter.db import Database
from tests.loopback import flush_redis
from tests.web.site_helpers import REDIS_URL


@pytest.fixture
def topics(db: Database) -> list[str]:
    with db.session() as session:
        for slug, name in (("claude", "Claude"), ("openai", "OpenAI")):
            add_topic(session, slug, name, keywords=[name], languages=["en", "zh-TW"])
    return ["claude", "openai"]


@pytest.fixture
def client(app: Flask, topics: list[str]) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def redis_db() -> Iterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    flush_redis(client)
    yield client
    flush_redis(client)
    client.close()
