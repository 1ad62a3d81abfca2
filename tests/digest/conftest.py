"""Fixtures for the digest tests: the fake Anthropic API and a topic with a day of news."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import pytest

from newsletter.catalog import add_topic
from newsletter.config import Settings
from newsletter.db import Database
from tests.digest.anthropic_fake import FakeAnthropic
from tests.digest.news_items import ITEMS, add_items


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic()
    thread = threading.Thread(
        target=fake.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def claude_settings(settings: Settings, fake_anthropic: FakeAnthropic) -> Settings:
    return dataclasses.replace(
        settings,
        anthropic_api_key="sk-ant-test-key",
        anthropic_base_url=fake_anthropic.url,
        anthropic_max_retries=2,
        anthropic_budget_seconds=30,
    )


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
