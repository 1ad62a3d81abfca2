"""The cron: each topic's daily chain at its send time in its own time zone, and the sweeper.

It follows the database: topics are read again at every step (a few seconds apart), so a
new topic or a changed send time needs no restart, and each topic's next run is logged
at start and whenever it changes. A send time missed by up to
``NEWSLETTER_CRON_GRACE_MINUTES`` (the cron was down or restarting) is caught up. A day is
started at most once: a ``SET NX`` key per topic and day in Redis, on top of jobs that are
idempotent themselves (the delivery rows are unique per digest and reader).

Only one cron works at a time: it holds a Redis lock whose expiry it keeps pushing back;
a second one waits as a hot standby and takes over within the lock's TTL if the first
dies. A lost Redis connection is logged and retried, never fatal.
"""

from __future__ import annotations

import logging
import os
import socket
import time as clock_time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.lock import Lock
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from newsletter.daily import jobs
from newsletter.daily.dispatch import Dispatcher, dispatcher_for
from newsletter.models import Topic
from newsletter.services import Services

log = logging.getLogger(__name__)

LOCK_NAME = "newsletter:cron:lock"
LOCK_SECONDS = 30  # a standby takes over at most this long after the active cron died
STARTED_KEY = "newsletter:cron:started:{slug}:{day}"
STARTED_TTL = int(timedelta(days=3).total_seconds())
MAX_STEP_SECONDS = 10  # topics are read, and the lock renewed, at least this often
SWEEP_JOB_ID = "newsletter-sweep"

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Schedule:
    """When a topic's chain starts: a wall-clock time in a time zone, every day."""

    slug: str
    send_time: time
    timezone: str

    def at(self, day: date) -> datetime:
        """The send time of ``day`` (a local date) as a UTC instant."""
        return datetime.combine(day, self.send_time, tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)

    def next_run(self, after: datetime) -> datetime:
        """The first send time strictly after ``after``."""
        local_day = after.astimezone(ZoneInfo(self.timezone)).date()
        for offset in range(3):
            when = self.at(local_day + timedelta(days=offset))
            if when > after:
                return when
        raise AssertionError("a daily send time always comes within three days")

    def due_day(self, now: datetime, grace: timedelta) -> date | None:
        """The local day whose send time has come and is at most ``grace`` ago, if any."""
        local_day = now.astimezone(ZoneInfo(self.timezone)).date()
        for day in (local_day, local_day - timedelta(days=1)):
            when = self.at(day)
            if when <= now <= when + grace:
                return day
        return None

    def describe(self, after: datetime) -> str:
        when = self.next_run(after)
        local = when.astimezone(ZoneInfo(self.timezone))
        return f"{local:%Y-%m-%d %H:%M} {self.timezone} ({when:%Y-%m-%d %H:%M} UTC)"


def read_schedules(app: Services) -> dict[str, Schedule]:
    """Every topic's schedule, read from the database now; a topic whose time zone this
    host does not know is logged and left out (the others run)."""
    schedules = {}
    with app.db.session() as session:
        for slug, at, zone in session.execute(select(Topic.slug, Topic.send_time, Topic.timezone)):
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                log.error("%s: unknown time zone %r, not scheduled", slug, zone)
                continue
            schedules[slug] = Schedule(slug, at, zone)
    return schedules


class Cron:
    """One cron process. ``step(now)`` does everything that is due at ``now``;
    ``run`` calls it in a loop. Tests drive ``step`` with their own clock."""

    def __init__(self, app: Services, redis: Redis, dispatcher: Dispatcher | None = None) -> None:
        self.app = app
        self.redis = redis
        self.dispatcher = dispatcher or dispatcher_for(app.settings)
        self.grace = timedelta(minutes=max(1, app.settings.cron_grace_minutes))
        self.sweep_every = timedelta(seconds=app.settings.sweep_interval)
        self.lock = Lock(redis, LOCK_NAME, timeout=LOCK_SECONDS, thread_local=False)
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"
        self.active = False
        self.known: dict[str, Schedule] = {}
        self.next_sweep: datetime | None = None

    def step(self, now: datetime) -> list[tuple[str, date]]:
        """Hold the lock (or stand by), follow the topics, start what is due, sweep when
        it is time. Returns the (topic, day) chains started."""
        if not self._hold_lock():
            return []
        self._follow(read_schedules(self.app), now)
        started = []
        for schedule in self.known.values():
            day = schedule.due_day(now, self.grace)
            if day is not None and self._first_start(schedule.slug, day):
                jobs.start_day(self.dispatcher, schedule.slug, day.isoformat())
                late = int((now - schedule.at(day)).total_seconds() // 60)
                log.info(
                    "%s: started the chain of %s%s; next run %s",
                    schedule.slug,
                    day,
                    f" ({late} min late, caught up)" if late else "",
                    schedule.describe(now),
                )
                started.append((schedule.slug, day))
        if self.next_sweep is None or now >= self.next_sweep:
            self.dispatcher.enqueue(jobs.sweep, job_id=SWEEP_JOB_ID)
            self.next_sweep = now + self.sweep_every
        return started

    def release(self) -> None:
        if self.active:
            # expired or unreachable: the standby takes over after the TTL
            with suppress(LockError, RedisConnectionError, RedisTimeoutError):
                self.lock.release()
            self.active = False

    def _hold_lock(self) -> bool:
        if self.active:
            try:
                self.lock.reacquire()
                return True
            except LockError:
                log.warning("the cron lock was lost (expired or Redis emptied); taking it again")
                self.active = False
        if self.lock.acquire(blocking=False, token=self.identity):
            self.active = True
            self.known = {}  # log every topic's next run again: this cron starts work
            log.info("this cron holds the lock and schedules the topics")
            return True
        return False

    def _follow(self, schedules: dict[str, Schedule], now: datetime) -> None:
        """Log each new or changed topic's next run and each topic gone."""
        for slug, schedule in schedules.items():
            before = self.known.get(slug)
            if before != schedule:
                change = "scheduled" if before is None else "schedule changed"
                log.info("%s: %s, next run %s", slug, change, schedule.describe(now))
        for slug in self.known.keys() - schedules.keys():
            log.info("%s: removed, no longer scheduled", slug)
        self.known = schedules

    def _first_start(self, slug: str, day: date) -> bool:
        key = STARTED_KEY.format(slug=slug, day=day.isoformat())
        return bool(self.redis.set(key, self.identity, nx=True, ex=STARTED_TTL))


def utcnow() -> datetime:
    return datetime.now(UTC)


def run(
    app: Services,
    redis: Redis,
    *,
    clock: Clock = utcnow,
    sleep: Callable[[float], None] = clock_time.sleep,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """The cron loop: a step every few seconds (never longer apart than the sweep
    interval) until ``should_stop``. Redis or the database being unreachable is
    logged and the step tried again."""
    cron = Cron(app, redis)
    period = min(MAX_STEP_SECONDS, app.settings.sweep_interval)
    waiting_logged = False
    try:
        while not should_stop():
            try:
                cron.step(clock())
                if not cron.active and not waiting_logged:
                    log.info("another cron holds the lock: waiting as a hot standby")
                waiting_logged = not cron.active
            except (RedisConnectionError, RedisTimeoutError) as error:
                log.warning("Redis is unreachable (%s); trying again in %s s", error, period)
                cron.active = False
            except OperationalError as error:
                log.warning("the database is unreachable (%s); trying again", error.orig)
            sleep(period)
    finally:
        cron.release()
