"""Fixtures for the site's tests: real topics and a test client."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.catalog import add_topic
from newsletter.db import Database


@pytest.fixture
def topics(db: Database) -> list[str]:
    with db.session() as session:
        for slug, name in (("claude", "Claude"), ("openai", "OpenAI")):
            add_topic(session, slug, name, keywords=[name], languages=["en", "zh-TW"])
    return ["claude", "openai"]


@pytest.fixture
def client(app: Flask, topics: list[str]) -> FlaskClient:
    return app.test_client()
