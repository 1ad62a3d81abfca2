"""Running the fleet: rq workers, the cron, the sweeper."""

from __future__ import annotations

import logging
import signal
import sys

import click
from rq import SimpleWorker

from newsletter.cli.common import console, reports_errors
from newsletter.config import Settings
from newsletter.daily import cron, jobs
from newsletter.daily.dispatch import redis_connection
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
    settings = _redis_settings()
    jobs.recover()  # journals left on this host by killed workers, before any new send
    worker = SimpleWorker([settings.queue_name], connection=redis_connection(settings.redis_url))
    try:
        worker.work(burst=burst, with_scheduler=False)
    finally:
        jobs.shutdown()


@click.command("cron", help="Start each topic's daily chain at its send time, and the sweeper.")
@reports_errors
def cron_command() -> None:
    settings = _redis_settings()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # SIGTERM (a supervisor stopping it) leaves through the loop's cleanup: the lock is
    # released, so a standby takes over at once
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    cron.run(current(), redis_connection(settings.redis_url))


@click.command("sweep", help="Recover deliveries left by crashed workers or a lost queue.")
@reports_errors
def sweep_command() -> None:
    report = jobs.sweep()
    console.print(
        f"{report.replayed} recorded from journals, {report.released} released, "
        f"{report.expired} failed after their last attempt, "
        f"{len(report.ranges)} send job(s) enqueued."
    )
