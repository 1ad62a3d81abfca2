"""rq entry points: thin shells that call one pipeline step and enqueue the next.

run_topic -> fetch -> build (one digest per language with readers) -> fan_out -> send
(one job per batch of delivery rows); ``sweep`` runs on a timer and re-enqueues what a
crash or a lost Redis left behind. Every step is idempotent, so running one twice is
harmless. ``sign_up`` and ``send_notice`` take the site's signups and its confirm,
welcome and goodbye emails off the request. Arguments are plain ids, slugs, ISO dates
and, for a signup, the address.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import has_app_context

from newsletter import pipeline
from newsletter.app import Services, services
from newsletter.catalog import InputError, topic_by_slug
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery.fanout import fan_out as fan_out_digest
from newsletter.delivery.fanout import request_fan_out
from newsletter.delivery.notify import notify_subscriber, signup_notice_kind
from newsletter.delivery.ratelimit import make_rate_limiter
from newsletter.delivery.send import send_range
from newsletter.delivery.sweeper import SendRange, SweepReport, block_of
from newsletter.delivery.sweeper import recover as recover_deliveries
from newsletter.delivery.sweeper import sweep as sweep_deliveries
from newsletter.delivery.transport import TransportError, make_transport
from newsletter.digest.build import NothingToWrite
from newsletter.dispatch import Dispatcher, dispatcher_for, redis_connection
from newsletter.models import Digest, DigestStatus
from newsletter.render.transactional import Kind
from newsletter.subscriptions import SignupRequest, request_signup

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _services_from_env() -> Services:
    settings = Settings.from_env()
    return Services(settings, Database(settings.database_url))


def current() -> Services:
    """The app's services inside ``newsletter`` commands, else from the environment."""
    return services() if has_app_context() else _services_from_env()


def run_topic(slug: str, day: str | None = None) -> None:
    """The daily run of a topic (what the cron enqueues): today in the topic's time zone."""
    app = current()
    if day is None:
        with app.db.session() as session:
            zone = ZoneInfo(topic_by_slug(session, slug).timezone)
        day = datetime.now(zone).date().isoformat()
    dispatcher_for(app.settings).enqueue(fetch, slug, day, job_id=f"fetch-{slug}-{day}")


def fetch(slug: str, day: str) -> None:
    app = current()
    pipeline.fetch(app.db, app.settings, slug)
    dispatcher_for(app.settings).enqueue(build, slug, day, job_id=f"build-{slug}-{day}")


def build(slug: str, day: str) -> list[int]:
    """Build each language's digest; fan out the ready ones. Returns their ids."""
    app = current()
    try:
        outcomes = pipeline.build(app.db, app.settings, slug, date.fromisoformat(day))
    except NothingToWrite:
        return []  # no news today: nothing to send, and not an error to retry
    ready = [o.digest.id for o in outcomes if o.digest.status == DigestStatus.READY]
    with app.db.session() as session:
        request_fan_out(session, ready)
    for digest_id in ready:
        dispatcher_for(app.settings).enqueue(fan_out, digest_id, job_id=f"fan-out-{digest_id}")
    return ready


def fan_out(digest_id: int) -> int:
    """Create the digest's delivery rows; one send job per batch of them."""
    app = current()
    dispatcher = dispatcher_for(app.settings)
    size = app.settings.send_batch_size

    def enqueue_sends(ids: list[int]) -> None:
        for block in sorted({block_of(digest_id, i, size) for i in ids}, key=_first_id):
            enqueue_send(dispatcher, block)

    with app.db.session() as session:
        digest = session.get_one(Digest, digest_id)
        return fan_out_digest(session, digest, on_batch=enqueue_sends)


def enqueue_send(dispatcher: Dispatcher, block: SendRange) -> None:
    """One job per block of ids, named after it: not queued again while it waits."""
    job_id = f"send-{block.digest_id}-{block.first_id}-{block.last_id}"
    dispatcher.enqueue(send, block.digest_id, block.first_id, block.last_id, job_id=job_id)


def _first_id(block: SendRange) -> int:
    return block.first_id


def send(digest_id: int, first_id: int, last_id: int) -> int:
    """Send the due deliveries of the digest with ids in [first_id, last_id]; how many went."""
    app = current()
    settings = app.settings
    redis = None if settings.inline_jobs else redis_connection(settings.redis_url)
    limiter = make_rate_limiter(settings.rate_limit, redis, settings.transport)
    report = send_range(
        app.db,
        settings,
        digest_id,
        make_transport(settings),
        first_id=first_id,
        last_id=last_id,
        limiter=limiter,
    )
    return report.sent


def sign_up(address: str, language: str, topic_slugs: list[str]) -> bool:
    """A signup the site checked and queued: record it, then send its one email.

    The page did not wait, and says the same whatever happens here (it never tells
    whether an address was known). A topic removed since the form was read drops the
    signup, logged; sending fails as in ``send_notice``.
    """
    app = current()
    signup = SignupRequest(address, language, topic_slugs)
    try:
        with app.db.session() as session:
            notice = request_signup(session, signup, resend_interval=app.settings.resend_interval)
    except InputError as error:
        log.warning("a queued signup was dropped: %s", error)
        return False
    if notice is None:  # too soon after the last email, or a suppressed address
        return False
    return send_notice(signup_notice_kind(notice).value, notice.subscriber_id)


def send_notice(kind: str, subscriber_id: int) -> bool:
    """A notice the site asked for. A transient failure raises, so rq tries again; a
    permanent one (the relay refuses the address) is logged and dropped."""
    app = current()
    try:
        return notify_subscriber(app.db, app.settings, Kind(kind), subscriber_id)
    except TransportError as error:
        if not error.permanent:
            raise
        log.warning("the %s email to subscriber %s was refused: %s", kind, subscriber_id, error)
        return False


def recover() -> SweepReport:
    """Record this host's dead journals and take back expired leases (no enqueueing)."""
    app = current()
    report = SweepReport()
    recover_deliveries(app.db, app.settings, report)
    return report


def sweep() -> SweepReport:
    """Recover from crashes and lost queues; enqueue a send job per range that needs one."""
    app = current()
    report = sweep_deliveries(app.db, app.settings)
    dispatcher = dispatcher_for(app.settings)
    for digest_id in report.fan_outs:
        dispatcher.enqueue(fan_out, digest_id, job_id=f"fan-out-{digest_id}")
    for block in report.ranges:
        enqueue_send(dispatcher, block)
    return report
