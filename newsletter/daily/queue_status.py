"""How the job queue stands, through rq's public API: waiting jobs, workers, failed jobs."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.job import Job

from newsletter.config import Settings
from newsletter.daily.dispatch import redis_connection

RECENT_FAILURES = 5


@dataclass(frozen=True)
class FailedJob:
    job_id: str
    function: str
    error: str


@dataclass(frozen=True)
class QueueStatus:
    configured: bool
    error: str = ""
    waiting: int = 0
    workers: int = 0
    failed: int = 0
    recent_failures: list[FailedJob] = field(default_factory=list)


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def queue_status(settings: Settings) -> QueueStatus:
    """The queue's figures; ``configured`` is False without Redis (jobs run inline)."""
    if settings.inline_jobs:
        return QueueStatus(configured=False)
    try:
        redis = redis_connection(settings.redis_url)
        queue = Queue(settings.queue_name, connection=redis)
        registry = queue.failed_job_registry
        ids = registry.get_job_ids(0, RECENT_FAILURES - 1)
        failures = []
        for job in Job.fetch_many(ids, connection=redis):
            if job is None:
                continue
            result = job.latest_result()
            error = _last_line(result.exc_string if result is not None else None)
            failures.append(FailedJob(job.id, job.func_name or "", error))
        return QueueStatus(
            configured=True,
            waiting=queue.count,
            workers=Worker.count(queue=queue),
            failed=registry.count,
            recent_failures=failures,
        )
    except RedisError as error:
        return QueueStatus(configured=True, error=str(error))
