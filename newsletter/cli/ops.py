"""Running the fleet: rq workers, the cron, the sweeper."""

from __future__ import annotations

import logging

import click

from newsletter.cli.common import console, reports_errors
from newsletter.config import Settings
from newsletter.daily import cron, jobs
from newsletter.daily.dispatch import redis_connection
from newsletter.daily.fleet import Shutdown, run_worker
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
    shutdown = Shutdown().install()  # first: a SIGTERM while starting stops it gracefully
    _log_to_stderr()
    settings = _redis_settings()
    jobs.recover()  # journals left on this host by killed workers, before any new send
    try:
        if not shutdown.requested:
            run_worker(
                redis_connection(settings.redis_url), [settings.queue_name], shutdown, burst=burst
            )
    finally:
        jobs.shutdown()


@click.command("cron", help="Start each topic's daily chain at its send time, and the sweeper.")
@reports_errors
def cron_command() -> None:
    shutdown = Shutdown().install()
    _log_to_stderr()
    settings = _redis_settings()
    cron.run(
        current(),
        redis_connection(settings.redis_url),
        sleep=shutdown.sleep,
        should_stop=lambda: shutdown.requested,
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
