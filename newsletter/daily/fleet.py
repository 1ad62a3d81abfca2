"""The long-running processes, ``newsletter worker`` and ``newsletter cron``: they ride out
a Redis outage and stop gracefully on SIGTERM or SIGINT from their first moment.

rq retries a lost connection only while it waits for a job; a fault anywhere else (its
start, a heartbeat, recording a job's result, the cron's bookkeeping) ends its loop or
raises. Losing Redis loses no email (the database is the truth), so these loops wait for
Redis with a doubling, capped backoff, log each failed try, and start rq again. A stop
signal that arrives before rq has installed its own handlers, while the process is still
starting or waiting for Redis, is noted by ``shutdown.STOP`` and honoured at the next
step.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker

from newsletter.daily.shutdown import Shutdown

log = logging.getLogger(__name__)
REDIS_FAULTS = (RedisConnectionError, RedisTimeoutError)
FIRST_WAIT = 0.5
MAX_WAIT = 30.0
STEADY = 60.0  # a worker that ran this long before its loop ended starts again soon


def wait_for_redis(redis: Redis, shutdown: Shutdown) -> bool:
    """Ping Redis until it answers, waiting longer each time; False if told to stop first."""
    wait = FIRST_WAIT
    while not shutdown.requested:
        try:
            redis.ping()
            return True
        except REDIS_FAULTS as error:
            log.warning("Redis unreachable (%s); trying again in %.1f s", error, wait)
        shutdown.sleep(wait)
        wait = min(2 * wait, MAX_WAIT)
    return False


class GracefulWorker(SimpleWorker):
    """rq's in-process worker, told of a stop request that came before its handlers."""

    shutdown: Shutdown

    def _install_signal_handlers(self) -> None:
        super()._install_signal_handlers()
        if self.shutdown.requested:
            self._stop_requested = True  # the loop checks this before taking a job

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.shutdown.requested = True
        super().request_stop(signum, frame)


def run_worker(redis: Redis, queues: list[str], shutdown: Shutdown, *, burst: bool = False) -> None:
    """Work the queues until stopped (or, with ``burst``, until they are empty).

    rq ends its loop on any fault it does not handle; the worker starts again, after a
    wait that doubles while it keeps ending soon after its start (no busy loop on a
    fault that is not Redis's).
    """
    wait = FIRST_WAIT
    while wait_for_redis(redis, shutdown):
        started = time.monotonic()
        try:
            worker = GracefulWorker(queues, connection=redis)
            worker.shutdown = shutdown
            worker.work(burst=burst, with_scheduler=False)
        except REDIS_FAULTS as error:
            log.warning("worker lost Redis: %s", error)
        finally:
            shutdown.install()
        if shutdown.requested or (burst and _answers(redis)):
            return
        wait = FIRST_WAIT if time.monotonic() - started > STEADY else min(2 * wait, MAX_WAIT)
        log.warning("worker loop ended; starting again in %.1f s", wait)
        shutdown.sleep(wait)


def _answers(redis: Redis) -> bool:
    try:
        return bool(redis.ping())
    except REDIS_FAULTS:
        return False
