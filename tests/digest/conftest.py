"""Fixtures for the digest tests: the fake Anthropic API."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import pytest

from newsletter.config import Settings
from tests.digest.anthropic_fake import FakeAnthropic


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
