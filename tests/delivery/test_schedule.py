"""The cron: a daily job per topic at its send time in its own time zone, and the sweeper."""

from __future__ import annotations

from datetime import UTC, datetime

from redis import Redis

from newsletter.catalog import add_topic
from newsletter.config import Settings
from newsletter.daily import jobs
from newsletter.daily.cron import ZonedCronJob, build_scheduler
from newsletter.db import Database


def test_each_topic_runs_at_its_send_time_in_its_time_zone(
    db: Database, settings: Settings, redis: Redis
) -> None:
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
        add_topic(
            session,
            "openai",
            "OpenAI",
            keywords=["OpenAI"],
            languages=["en"],
            timezone="America/New_York",
            send_time="06:00",
        )
    with db.session() as session:
        scheduler = build_scheduler(session, settings, redis)

    by_name = {job.name: job for job in scheduler.get_jobs()}
    assert set(by_name) == {
        "newsletter-daily-claude",
        "newsletter-daily-openai",
        "newsletter-sweep",
    }
    claude = by_name["newsletter-daily-claude"]
    assert claude.func is jobs.run_topic and claude.args == ("claude",)
    assert claude.queue_name == settings.queue_name
    assert by_name["newsletter-sweep"].interval == settings.sweep_interval
    assert by_name["newsletter-sweep"].func is jobs.sweep


def test_the_next_run_follows_the_zone_and_its_daylight_saving() -> None:
    job = ZonedCronJob(
        "q", func=jobs.run_topic, args=("x",), cron="0 6 * * *", timezone="America/New_York"
    )
    job.latest_enqueue_time = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)  # before DST starts
    assert job.get_next_enqueue_time() == datetime(2026, 3, 8, 10, 0, tzinfo=UTC)  # EDT
    job.latest_enqueue_time = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert job.get_next_enqueue_time() == datetime(2026, 1, 11, 11, 0, tzinfo=UTC)  # EST
    taipei = ZonedCronJob("q", func=jobs.run_topic, cron="30 7 * * *", timezone="Asia/Taipei")
    taipei.latest_enqueue_time = datetime(2026, 1, 10, 0, 0, tzinfo=UTC)
    assert taipei.get_next_enqueue_time() == datetime(2026, 1, 10, 23, 30, tzinfo=UTC)
