"""Running the fleet: rq workers, the cron, the sweeper."""

from __future__ import annotations

import logging

import click

from newsletter.cli.common import console, reports_errors
from newsletter.config import Settings
from newsletter.daily import cron, jobs
from newsletter.daily.dispatch import redis_connection
from newsletter.daily.shutdown import STOP
from newsletter.errors import InputError
from newsletter.services import current


def _redis_settings() -> Settings:
    settings = current().settings
    if settings.inline_jobs:
        raise InputError("set NEWSLETTER_REDIS_URL: without Redis, jobs run inline in each command")
    return settings


@click.command("worker", help="Run an rq worker for the pipeline's jobs (needs Redis).")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@reports_errors
def worker_command(burst: bool) -> None:
    STOP.install()  # (main did already) a SIGTERM while starting stops it gracefully
    try:
        _work(burst)
    finally:
        STOP.restore()


def _work(burst: bool) -> None:
    _log_to_stderr()
    settings = _redis_settings()
    from newsletter.daily.fleet import run_worker

    jobs.recover()  # journals left on this host by killed workers, before any new send
    try:
        if STOP.requested:
            console.print("Stopped before taking any job.")
            return
        redis = redis_connection(settings.redis_url)
        run_worker(redis, [settings.queue_name], STOP, burst=burst)
    finally:
        jobs.shutdown()


@click.command("cron", help="Start each topic's daily chain at its send time, and the sweeper.")
@reports_errors
def cron_command() -> None:
    STOP.install()
    try:
        _schedule()
    finally:
        STOP.restore()


def _schedule() -> None:
    _log_to_stderr()
    settings = _redis_settings()
    cron.run(
        current(),
        redis_connection(settings.redis_url),
        sleep=STOP.sleep,
        should_stop=lambda: STOP.requested,
    )


def _log_to_stderr() -> None:
    """Our warnings (a lost Redis, a retried database write) with a time, as rq logs."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")


@click.command("sweep", help="Recover deliveries left by crashed workers or a lost queue.")
@reports_errors
def sweep_command() -> None:
    report = jobs.sweep()
    console.print(
        f"{report.replayed} recorded from journals, {report.released} released, "
        f"{report.expired} failed after their last attempt, "
        f"{len(report.ranges)} send job(s) enqueued."
    )
