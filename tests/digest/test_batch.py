"""The Message Batches API (half price) for a build well before the send time, through
the real SDK against the fake API on loopback."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from newsletter.catalog import topic_by_slug
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.digest.batch import BatchPolicy, batch_policy
from newsletter.digest.build import build_digest
from newsletter.digest.choose import choose_writer
from newsletter.digest.claude import ClaudeWriter
from newsletter.models import Digest, DigestStatus
from tests.digest.anthropic_fake import FakeAnthropic
from tests.digest.news_items import DAY

SEND_AT = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
BATCH = "msgbatch_01HkT3vQ9wLm4XcR7pNb2sYe"
# Sonnet at half price: $1.5/MTok in (x1.25 for cache writes), $7.5/MTok out
HALF_PRICE = (1187 * 1.5 + 2346 * 1.875 + 1984 * 7.5) / 1e6


def clock(*times: datetime) -> Iterator[datetime]:
    yield from times
    while True:
        yield times[-1]


def build(db: Database, settings: Settings, policy: BatchPolicy) -> Digest:
    writer = ClaudeWriter.from_settings(settings, batch=policy)
    with db.session() as session:
        topic = topic_by_slug(session, "claude")
        build_digest(session, topic, DAY, "zh-TW", writer)
    with db.session() as session:
        digest = session.scalars(select(Digest)).one()
        session.expunge(digest)
        return digest


def test_a_batch_is_polled_until_it_ends_and_costs_half(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer(
        "batch_created", "batch_in_progress", "batch_ended", "batch_ended",
        "batch_results_good_zh_tw",
    )  # fmt: skip
    naps: list[float] = []
    times = clock(SEND_AT - timedelta(hours=3))
    policy = BatchPolicy(SEND_AT - timedelta(minutes=30), 5.0, lambda: next(times), naps.append)
    digest = build(db, claude_settings, policy)

    assert digest.status == DigestStatus.READY, digest.error
    assert digest.cost_usd == pytest.approx(HALF_PRICE, abs=1e-6)
    calls = [(r["method"], r["path"]) for r in fake_anthropic.requests]
    assert calls == [
        ("POST", "/v1/messages/batches"),
        ("GET", f"/v1/messages/batches/{BATCH}"),
        ("GET", f"/v1/messages/batches/{BATCH}"),
        ("GET", f"/v1/messages/batches/{BATCH}"),
        ("GET", f"/v1/messages/batches/{BATCH}/results"),
    ]
    assert naps == [5.0, 5.0]
    (request,) = fake_anthropic.bodies[0]["requests"]
    assert request["custom_id"] == "digest"
    assert request["params"]["tool_choice"]["name"] == "write_digest"
    assert request["params"]["model"] == "claude-sonnet-5-5"


def test_a_batch_not_done_by_the_deadline_is_cancelled_and_the_request_sent_directly(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("batch_created", "batch_canceling", "good_zh_tw")
    deadline = SEND_AT - timedelta(minutes=30)
    times = clock(deadline - timedelta(minutes=1), deadline)
    policy = BatchPolicy(deadline, 5.0, lambda: next(times), lambda _: None)
    digest = build(db, claude_settings, policy)

    assert digest.status == DigestStatus.READY, digest.error
    assert digest.cost_usd == pytest.approx(HALF_PRICE * 2, abs=1e-6)  # full price
    calls = [(r["method"], r["path"]) for r in fake_anthropic.requests]
    assert calls == [
        ("POST", "/v1/messages/batches"),
        ("POST", f"/v1/messages/batches/{BATCH}/cancel"),
        ("POST", "/v1/messages"),
    ]


@pytest.mark.parametrize(
    ("lead_minutes", "before_send", "deadline"),
    [
        (0, timedelta(hours=12), None),  # batches off
        (120, timedelta(minutes=90), None),  # too close to the send
        (120, timedelta(hours=3), SEND_AT - timedelta(minutes=30)),
        (20, timedelta(minutes=25), SEND_AT - timedelta(minutes=10)),
    ],
)
def test_batches_are_offered_only_early_enough_before_the_send(
    lead_minutes: int, before_send: timedelta, deadline: datetime | None
) -> None:
    policy = batch_policy(lead_minutes, SEND_AT, SEND_AT - before_send)
    assert (policy and policy.deadline) == deadline


def test_the_pipeline_batches_a_build_long_before_the_send(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    """The news topic sends at 08:00 UTC on 2026-01-12: long past, so no batch; a send
    day far ahead leaves hours, so the build goes through the batch endpoint."""
    early = dataclasses.replace(claude_settings, anthropic_batch_lead_minutes=60)
    assert choose_writer(early, SEND_AT).batch is None
    later = datetime.now(UTC) + timedelta(hours=5)
    writer = choose_writer(early, later)
    assert writer.batch is not None
    assert writer.batch.deadline == later - timedelta(minutes=30)
    assert choose_writer(claude_settings, later).batch is None  # the setting is 0
