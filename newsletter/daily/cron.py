"""The rq cron: each topic's daily run at its send time in its own time zone, and the sweeper.

rq's ``CronJob`` reads cron fields in the scheduler process's local time; a topic in
Asia/Taipei and one in America/New_York need their own zones (and their own daylight
saving rules), so ``ZonedCronJob`` computes its next run in the topic's zone.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter
from redis import Redis
from rq.cron import CronJob, CronScheduler
from rq.utils import now
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.daily import jobs
from newsletter.models import Topic


class ZonedCronJob(CronJob):
    def __init__(self, *args: Any, timezone: str, **kwargs: Any) -> None:
        self.zone = ZoneInfo(timezone)  # set first: CronJob.__init__ asks for the next run
        super().__init__(*args, **kwargs)

    def get_next_enqueue_time(self) -> datetime:
        assert self.cron is not None
        base = (self.latest_enqueue_time or now()).astimezone(self.zone)
        return croniter(self.cron, base).get_next(datetime).astimezone(UTC)


class NewsletterScheduler(CronScheduler):
    def add(self, cron_job: CronJob) -> None:
        self._cron_jobs.append(cron_job)


def daily_cron(topic: Topic) -> str:
    """The cron expression of the topic's send time (read in its time zone)."""
    return f"{topic.send_time.minute} {topic.send_time.hour} * * *"


def build_scheduler(session: Session, settings: Settings, redis: Redis) -> NewsletterScheduler:
    """A scheduler with one daily job per topic and the sweeper every ``sweep_interval``."""
    scheduler = NewsletterScheduler(connection=redis, logging_level=logging.INFO)
    for topic in session.scalars(select(Topic).order_by(Topic.slug)):
        scheduler.add(
            ZonedCronJob(
                settings.queue_name,
                func=jobs.run_topic,
                args=(topic.slug,),
                cron=daily_cron(topic),
                timezone=topic.timezone,
                name=f"newsletter-daily-{topic.slug}",
            )
        )
    scheduler.register(
        jobs.sweep, settings.queue_name, interval=settings.sweep_interval, name="newsletter-sweep"
    )
    return scheduler
