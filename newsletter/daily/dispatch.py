"""Where jobs run: on rq when NEWSLETTER_REDIS_URL is set, in the calling process otherwise.

Jobs only ever enqueue other jobs through ``dispatcher_for(settings)``, so the same chain
(fetch -> build -> fan-out -> send) runs on a fleet of workers or inside one command.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Protocol

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from newsletter.config import Settings

JobFunction = Callable[..., Any]
# A started job may belong to a worker that was killed: only a waiting one counts.
_WAITING = {JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED}
RESULT_TTL = 3600
FAILURE_TTL = 7 * 24 * 3600
RETRIES = 3  # also what rq does with a job whose worker died (an abandoned job)
PERSONAL_FAILURE_TTL = 24 * 3600  # a failed job whose arguments hold an email address


class Dispatcher(Protocol):
    def enqueue(
        self, func: JobFunction, *args: Any, job_id: str | None = None, personal: bool = False
    ) -> None:
        """Run ``func(*args)`` soon; with ``job_id``, not while a job of that id waits to run.

        ``personal``: the arguments hold personal data (an email address), so the job is
        deleted once done and a failed one is kept for a day, not a week.
        """


class InlineDispatcher:
    """Runs jobs in this process, first in first out, when the outermost one returns."""

    def __init__(self) -> None:
        self._waiting: deque[tuple[JobFunction, tuple[Any, ...]]] = deque()
        self._running = False

    def enqueue(
        self, func: JobFunction, *args: Any, job_id: str | None = None, personal: bool = False
    ) -> None:
        self._waiting.append((func, args))
        if self._running:
            return
        self._running = True
        try:
            while self._waiting:
                job, job_args = self._waiting.popleft()
                job(*job_args)
        finally:
            self._running = False
            self._waiting.clear()


class RqDispatcher:
    def __init__(self, redis: Redis, queue_name: str, job_timeout: int = 600) -> None:
        self.redis = redis
        self.queue = Queue(queue_name, connection=redis)
        self.job_timeout = job_timeout

    def enqueue(
        self, func: JobFunction, *args: Any, job_id: str | None = None, personal: bool = False
    ) -> None:
        if job_id is not None and self._waiting(job_id):
            return
        self.queue.enqueue(
            func,
            args=args,
            job_id=job_id,
            result_ttl=0 if personal else RESULT_TTL,
            failure_ttl=PERSONAL_FAILURE_TTL if personal else FAILURE_TTL,
            retry=Retry(max=RETRIES),
            job_timeout=self.job_timeout,
        )

    def _waiting(self, job_id: str) -> bool:
        try:
            return Job.fetch(job_id, connection=self.redis).get_status() in _WAITING
        except NoSuchJobError:
            return False


@lru_cache(maxsize=8)
def redis_connection(url: str) -> Redis:
    """This process's client. A connect timeout, so that a site request whose queue is
    unreachable falls back to doing the work itself at once (no read timeout: workers
    block on the queue)."""
    return Redis.from_url(url, socket_connect_timeout=2)


@lru_cache(maxsize=8)
def dispatcher_for(settings: Settings) -> Dispatcher:
    if settings.inline_jobs:
        return InlineDispatcher()
    # a send job stops at 80% of its lease; fetching and writing may take minutes
    job_timeout = max(600, 2 * settings.lease_seconds)
    return RqDispatcher(redis_connection(settings.redis_url), settings.queue_name, job_timeout)
