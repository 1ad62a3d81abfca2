"""The cron follows the database, catches up a missed send time once, logs each topic's
next run, sweeps, and lets only one cron work at a time. Driven with an injected clock
on a real Redis."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue

from newsletter.catalog import add_topic, topic_by_slug
from newsletter.config import Settings
from newsletter.daily.cron import LOCK_NAME, Cron, Schedule, run
from newsletter.db import Database
from newsletter.services import Services
from tests.delivery.conftest import REDIS_URL
from tests.loopback import free_port

TAIPEI_0730 = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # 07:30 on the 30th in Taipei


@pytest.fixture
def redis() -> Iterator[Redis]:
    connection = Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture
def cron_app(settings: Settings, db: Database) -> Services:
    with db.session() as session:
        add_topic(
            session,
            "claude",
            "Claude",
            keywords=["Claude"],
            languages=["zh-TW"],
            timezone="Asia/Taipei",
            send_time="07:30",
        )
    return Services(replace(settings, redis_url=REDIS_URL, cron_grace_minutes=60), db)


def queued(app: Services, redis: Redis) -> list[str]:
    return Queue(app.settings.queue_name, connection=redis).get_job_ids()


def test_the_next_run_follows_the_zone_and_its_daylight_saving() -> None:
    new_york = Schedule("x", time(6, 0), "America/New_York")
    before_dst = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    assert new_york.next_run(before_dst) == datetime(2026, 3, 8, 10, 0, tzinfo=UTC)  # EDT
    winter = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert new_york.next_run(winter) == datetime(2026, 1, 11, 11, 0, tzinfo=UTC)  # EST
    taipei = Schedule("y", time(7, 30), "Asia/Taipei")
    assert taipei.next_run(datetime(2026, 1, 10, 0, 0, tzinfo=UTC)) == datetime(
        2026, 1, 10, 23, 30, tzinfo=UTC
    )
    assert taipei.due_day(TAIPEI_0730, timedelta(minutes=60)) == date(2026, 11, 30)
    assert taipei.due_day(TAIPEI_0730 - timedelta(seconds=1), timedelta(minutes=60)) is None


def test_a_send_time_starts_the_chain_once_and_a_restart_does_not_again(
    cron_app: Services, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="newsletter.daily.cron")
    cron = Cron(cron_app, redis)
    assert cron.step(TAIPEI_0730 - timedelta(minutes=1)) == []
    assert "claude: scheduled, next run 2026-11-30 07:30 Asia/Taipei (2026-11-29 23:30 UTC)" in (
        caplog.text
    )
    assert cron.step(TAIPEI_0730) == [("claude", date(2026, 11, 30))]
    assert "fetch-claude-2026-11-30" in queued(cron_app, redis)
    assert "newsletter-sweep" in queued(cron_app, redis)
    assert cron.step(TAIPEI_0730 + timedelta(seconds=30)) == []
    cron.release()

    restarted = Cron(cron_app, redis)  # a restart at the send minute
    assert restarted.step(TAIPEI_0730 + timedelta(seconds=40)) == []
    assert queued(cron_app, redis).count("fetch-claude-2026-11-30") == 1


def test_a_missed_send_time_is_caught_up_within_the_grace_window_only(
    cron_app: Services, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="newsletter.daily.cron")
    late = Cron(cron_app, redis)  # started 20 minutes after the send time
    assert late.step(TAIPEI_0730 + timedelta(minutes=20)) == [("claude", date(2026, 11, 30))]
    assert "(20 min late, caught up)" in caplog.text
    late.release()
    redis.flushdb()

    too_late = Cron(cron_app, redis)
    assert too_late.step(TAIPEI_0730 + timedelta(minutes=61)) == []
    assert queued(cron_app, redis) == ["newsletter-sweep"]


def test_the_cron_follows_topics_added_and_changed_without_a_restart(
    cron_app: Services, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="newsletter.daily.cron")
    cron = Cron(cron_app, redis)
    now = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    cron.step(now)
    with cron_app.db.session() as session:
        add_topic(
            session,
            "openai",
            "OpenAI",
            keywords=["OpenAI"],
            languages=["en"],
            timezone="America/New_York",
            send_time="06:00",
        )
        topic_by_slug(session, "claude").send_time = time(8, 15)
    cron.step(now + timedelta(seconds=10))
    assert "openai: scheduled, next run 2026-11-30 06:00 America/New_York" in caplog.text
    assert "claude: schedule changed, next run 2026-12-01 08:15 Asia/Taipei" in caplog.text
    assert cron.step(datetime(2026, 11, 30, 11, 0, tzinfo=UTC)) == [("openai", date(2026, 11, 30))]
    with cron_app.db.session() as session:
        session.delete(topic_by_slug(session, "openai"))
    cron.step(datetime(2026, 11, 30, 11, 1, tzinfo=UTC))
    assert "openai: removed, no longer scheduled" in caplog.text


def test_a_second_cron_waits_as_a_hot_standby(cron_app: Services, redis: Redis) -> None:
    first, second = Cron(cron_app, redis), Cron(cron_app, redis)
    assert first.step(TAIPEI_0730 - timedelta(minutes=5)) == [] and first.active
    assert second.step(TAIPEI_0730) == [] and not second.active
    assert redis.ttl(LOCK_NAME) > 0
    assert "fetch-claude-2026-11-30" not in queued(cron_app, redis)
    first.release()  # stopped (or its lock expired)
    assert second.step(TAIPEI_0730 + timedelta(seconds=30)) == [("claude", date(2026, 11, 30))]
    assert second.active
    assert first.step(TAIPEI_0730 + timedelta(seconds=40)) == [] and not first.active


def test_the_loop_runs_a_simulated_day_with_sweeps(cron_app: Services, redis: Redis) -> None:
    now = [TAIPEI_0730 - timedelta(hours=1)]

    def sleep(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)

    steps = iter(range(1000))  # two simulated hours of 10-second steps
    run(cron_app, redis, clock=lambda: now[0], sleep=sleep, should_stop=lambda: next(steps) >= 720)
    assert now[0] == TAIPEI_0730 + timedelta(hours=1)
    assert "newsletter-sweep" in queued(cron_app, redis)
    assert queued(cron_app, redis).count("fetch-claude-2026-11-30") == 1
    assert redis.get(LOCK_NAME) is None  # released on the way out


def test_the_loop_survives_an_unreachable_redis(
    cron_app: Services, caplog: pytest.LogCaptureFixture
) -> None:
    down = Redis(
        host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    steps = iter(range(3))
    run(cron_app, down, sleep=lambda seconds: None, should_stop=lambda: next(steps, 9) >= 2)
    assert caplog.text.count("Redis is unreachable") == 2


def test_a_topic_with_an_unknown_zone_is_logged_and_the_others_run(
    cron_app: Services, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    with cron_app.db.session() as session:
        add_topic(session, "moon", "Moon", keywords=["Moon"], languages=["en"])
        topic_by_slug(session, "moon").timezone = "Moon/Tranquility"  # e.g. a host without it
    assert Cron(cron_app, redis).step(TAIPEI_0730) == [("claude", date(2026, 11, 30))]
    assert "moon: unknown time zone 'Moon/Tranquility', not scheduled" in caplog.text
