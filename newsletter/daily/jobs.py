"""rq entry points: thin shells that run one step and enqueue the next, in chain order.

Every step is idempotent, so running one twice is harmless. Arguments are plain ids,
slugs, ISO dates and, for a signup, the address. ``sweep`` runs on a timer and
re-enqueues what a crash or a lost Redis left behind; ``sign_up``, ``fresh_links`` and
``send_notice`` take the site's signups and notices off the request.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from newsletter.catalog import topic_by_slug
from newsletter.daily import review, runs, steps
from newsletter.daily.alerts import alert_day
from newsletter.daily.dispatch import Dispatcher, dispatcher_for, redis_connection
from newsletter.delivery import notices, rows
from newsletter.delivery.ratelimit import make_rate_limiter
from newsletter.delivery.rows import SendRange
from newsletter.delivery.send import close_journals
from newsletter.delivery.sweeper import SweepReport
from newsletter.delivery.transports import TransportError
from newsletter.delivery.transports.smtp import close_pools
from newsletter.digest.build import NothingToWrite
from newsletter.errors import InputError
from newsletter.models import RunOutcome
from newsletter.render.notices import Kind
from newsletter.services import Services, current
from newsletter.stats import keep_tallies
from newsletter.subscriptions import SignupRequest

log = logging.getLogger(__name__)


def run_topic(slug: str, day: str | None = None) -> None:
    """The daily run of a topic (what the cron enqueues): today in the topic's time zone."""
    app = current()
    if day is None:
        with app.db.session() as session:
            zone = ZoneInfo(topic_by_slug(session, slug).timezone)
        day = datetime.now(zone).date().isoformat()
    start_day(_dispatcher(), slug, day)


def start_day(dispatcher: Dispatcher, slug: str, day: str) -> None:
    """Enqueue the first step of the topic's day (not while it waits to run already)."""
    dispatcher.enqueue(fetch, slug, day, job_id=f"fetch-{slug}-{day}")


def fetch(slug: str, day: str) -> None:
    app = current()
    try:
        results = steps.fetch(app, slug)
    except Exception as error:
        _failed(app, slug, day, "fetch", error)
        raise
    outcome, detail = runs.fetch_outcome(results)
    runs.record(app.db, slug, date.fromisoformat(day), "fetch", outcome, detail)
    _dispatcher().enqueue(build, slug, day, job_id=f"build-{slug}-{day}")


def build(slug: str, day: str) -> list[int]:
    """Build each language's digest; deliver the ready ones (a digest awaiting review
    waits for ``approve``; the operators are told). Returns the ids delivered."""
    app = current()
    when = date.fromisoformat(day)
    try:
        outcomes = steps.build(app, slug, when)
    except NothingToWrite as error:  # no news today: nothing to send, not an error to retry
        alert_day(app, runs.record(app.db, slug, when, "build", RunOutcome.EMPTY, str(error)))
        return []
    except Exception as error:
        _failed(app, slug, day, "build", error)
        raise
    for run in runs.record_build(app.db, slug, when, outcomes):
        if run.outcome == RunOutcome.FAILED:
            alert_day(app, run)
    review.request_reviews(app, outcomes)
    ready = steps.ready(outcomes)
    deliver(ready)
    return ready


def approve(digest_id: int, reviewer: str) -> None:
    """An operator approved a digest awaiting review: fan it out as a build would have."""
    review.approve(current(), digest_id, reviewer)
    deliver([digest_id])


def deliver(digest_ids: list[int]) -> None:
    """Fan the digests out (``newsletter send`` starts here too)."""
    steps.request_fan_out(current(), digest_ids)
    for digest_id in digest_ids:
        enqueue_fan_out(_dispatcher(), digest_id)


def fan_out(digest_id: int) -> int:
    """Create the digest's delivery rows; one send job per block of them."""
    app = current()
    dispatcher = _dispatcher()

    def enqueue_sends(blocks: list[SendRange]) -> None:
        for block in blocks:
            enqueue_send(dispatcher, block)

    created = steps.fan_out(app, digest_id, on_blocks=enqueue_sends)
    slug, when, language, counts = steps.digest_summary(app, digest_id)
    if created:
        detail = f"{language}: {created} delivery(ies) to send"
        runs.record(app.db, slug, when, "fan-out", RunOutcome.OK, detail, digest_id)
    elif not counts.total:
        detail = f"{language}: no eligible reader (confirmed, subscribed, not suppressed)"
        runs.record(app.db, slug, when, "fan-out", RunOutcome.SKIPPED, detail, digest_id)
    return created


def send(digest_id: int, first_id: int, last_id: int) -> int:
    """Send the due deliveries of the digest with ids in [first_id, last_id]; how many went."""
    app = current()
    settings = app.settings
    redis = None if settings.inline_jobs else redis_connection(settings.redis_url)
    limiter = make_rate_limiter(settings.rate_limit, redis, settings.transport)
    report = steps.send_block(app, SendRange(digest_id, first_id, last_id), limiter=limiter)
    log.info(
        "digest #%s ids %s-%s: %s sent, %s failed, %s skipped, %s to retry",
        digest_id,
        first_id,
        last_id,
        report.sent,
        report.failed,
        report.skipped,
        report.deferred,
    )
    if report.failed:
        slug, when, language, _ = steps.digest_summary(app, digest_id)
        reasons = "; ".join(report.errors[:5])
        detail = f"{language}: {report.failed} failed ({reasons})"
        runs.record(app.db, slug, when, "send", RunOutcome.FAILED, detail, digest_id)
    return report.sent


def _failed(app: Services, slug: str, day: str, step: str, error: Exception) -> None:
    """Record and report a step that raised (rq retries it; the operators hear once)."""
    detail = f"{type(error).__name__}: {error}"
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return
    alert_day(app, runs.record(app.db, slug, when, step, RunOutcome.FAILED, detail))


def enqueue_fan_out(dispatcher: Dispatcher, digest_id: int) -> None:
    dispatcher.enqueue(fan_out, digest_id, job_id=f"fan-out-{digest_id}")


def enqueue_send(dispatcher: Dispatcher, block: SendRange) -> None:
    """One job per block of ids, named after it: not queued again while it waits."""
    job_id = f"send-{block.digest_id}-{block.first_id}-{block.last_id}"
    dispatcher.enqueue(send, block.digest_id, block.first_id, block.last_id, job_id=job_id)


def retry_sends(blocks: list[SendRange]) -> None:
    """Send jobs for blocks an operator put back to pending (``deliveries retry``)."""
    dispatcher = _dispatcher()
    for block in blocks:
        enqueue_send(dispatcher, block)


def recover() -> SweepReport:
    """Record this host's dead journals and take back expired leases (no enqueueing)."""
    return steps.recover_crashes(current())


def sweep() -> SweepReport:
    """Recover from crashes and lost queues; enqueue a job per fan-out or block that needs one."""
    report = steps.sweep_deliveries(current())
    review.expire_overdue(current())  # past their deadline unapproved: never sent
    with current().db.session() as session:
        keep_tallies(session)  # finished digests counted once, for the console
    dispatcher = _dispatcher()
    for digest_id in report.fan_outs:
        enqueue_fan_out(dispatcher, digest_id)
    for block in report.ranges:
        enqueue_send(dispatcher, block)
    return report


def shutdown() -> None:
    """On a worker's clean exit: close this process's SMTP connections; every journal
    entry is recorded by then, so its journals go too."""
    close_pools()
    close_journals()


def sign_up(address: str, language: str, topic_slugs: list[str]) -> bool:
    """A signup the site checked and queued: record it, then send its one email.

    The page did not wait, and says the same whatever happens here (it never tells
    whether an address was known). A transient relay failure raises so rq tries again.
    """
    app = current()
    signup = SignupRequest(address, language, topic_slugs)
    try:
        return notices.sign_up(app.db, app.settings, signup)
    except InputError as error:
        log.warning("a queued signup was dropped: %s", error)
        return False
    except TransportError as error:
        return _dropped_if_permanent(error, "confirmation")


def fresh_links(address: str) -> bool:
    """A request for fresh links the site queued: send them if the address is a reader's
    (the page said the same either way). A transient relay failure raises so rq tries
    again."""
    app = current()
    try:
        return notices.fresh_links(app.db, app.settings, address)
    except TransportError as error:
        return _dropped_if_permanent(error, "fresh links")


def send_notice(kind: str, subscriber_id: int) -> bool:
    """A notice the site asked for. A transient failure raises, so rq tries again; a
    permanent one (the relay refuses the address) is logged and dropped."""
    app = current()
    try:
        return notices.notify_subscriber(app.db, app.settings, Kind(kind), subscriber_id)
    except TransportError as error:
        return _dropped_if_permanent(error, kind)


CONFIRMATIONS_PER_JOB = 500


def confirm_imported(subscriber_ids: list[int]) -> None:
    """Queue the confirmation emails of imported readers, a job per block of them."""
    dispatcher = _dispatcher()
    for start in range(0, len(subscriber_ids), CONFIRMATIONS_PER_JOB):
        dispatcher.enqueue(
            send_confirmations, subscriber_ids[start : start + CONFIRMATIONS_PER_JOB]
        )


def send_confirmations(subscriber_ids: list[int]) -> int:
    """Send each reader their confirmation email; how many went. A reader whose email
    met a transient failure gets a ``send_notice`` job of their own (retried by rq) when
    there are workers, or is logged (and may ask again) when there are none."""
    app = current()
    sent = 0
    for subscriber_id in subscriber_ids:
        try:
            sent += notices.notify_subscriber(app.db, app.settings, Kind.CONFIRM, subscriber_id)
        except TransportError as error:
            if error.permanent or app.settings.inline_jobs:
                log.warning("the confirmation to reader #%s was not sent: %s", subscriber_id, error)
            else:
                _dispatcher().enqueue(send_notice, Kind.CONFIRM.value, subscriber_id)
    return sent


def _dropped_if_permanent(error: TransportError, kind: str) -> bool:
    """Raise a transient error, so rq tries again; log and drop a permanent one, and
    an ambiguous one (it may have arrived) under NEWSLETTER_AMBIGUOUS=drop."""
    at_most_once = error.ambiguous and current().settings.ambiguous == "drop"
    if not (error.permanent or at_most_once):
        raise error
    log.warning("the %s email was refused: %s", kind, error)
    return False


def _dispatcher() -> Dispatcher:
    return dispatcher_for(current().settings)


def retry_failed(digest_id: int) -> int:
    """An operator asked to retry the digest's temporary failures: back to pending, and a
    send job per block of them. How many."""
    app = current()
    with app.db.session() as session:
        retried = rows.retry_temporary_failures(session, digest_id, app.settings.send_batch_size)
    retry_sends(retried.blocks)
    return retried.count
