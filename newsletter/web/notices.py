"""The site's signups and notices: handed to a worker when there are workers.

With Redis a signup request only checks the form and enqueues ``jobs.sign_up``: it
touches no database and waits for no relay, and it looks the same whether the address
was known or not. Confirm, welcome and goodbye emails are enqueued as
``jobs.send_notice``; rq retries a transient failure. Without Redis, or while the queue
is unreachable, the work is done inside the request and the page can say when the
email could not go out.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError

from newsletter.daily import jobs
from newsletter.daily.dispatch import JobFunction, dispatcher_for
from newsletter.delivery import notices
from newsletter.delivery.transports import TransportError
from newsletter.render.notices import Kind
from newsletter.services import current
from newsletter.subscriptions import SignupRequest

log = logging.getLogger(__name__)


def sign_up(signup: SignupRequest) -> bool:
    """Record a checked signup and send its email; False if sending it now failed.

    InputError (nothing changed) if a topic went away since the form was read.
    """
    if _queued(jobs.sign_up, signup.address, signup.language, signup.topic_slugs, personal=True):
        return True
    app = current()
    try:
        notices.sign_up(app.db, app.settings, signup)
    except TransportError as error:
        log.warning("could not send the signup email: %s", error)
        return False
    return True


def send_fresh_links(address: str) -> None:
    """Queue or send fresh links to ``address`` if it is a reader's. With workers the
    request reads no subscriber, so known and unknown addresses take the same time."""
    if _queued(jobs.fresh_links, address, personal=True):
        return
    app = current()
    try:  # the page is the same whether it went out
        notices.fresh_links(app.db, app.settings, address)
    except TransportError as error:
        log.warning("could not send fresh links: %s", error)


def notify(kind: Kind, subscriber_id: int) -> bool:
    """Queue or send ``kind`` to the subscriber; False if sending it now failed."""
    return _queued(jobs.send_notice, kind.value, subscriber_id) or _send_now(kind, subscriber_id)


def _queued(job: JobFunction, *args: Any, personal: bool = False) -> bool:
    settings = current().settings
    if settings.inline_jobs:
        return False
    try:
        dispatcher_for(settings).enqueue(job, *args, personal=personal)
    except RedisError as error:
        log.warning("queue unreachable, doing %s in the request: %s", job.__name__, error)
        return False
    return True


def _send_now(kind: Kind, subscriber_id: int) -> bool:
    app = current()
    try:
        notices.notify_subscriber(app.db, app.settings, kind, subscriber_id)
    except TransportError as error:
        log.warning("could not send the %s email to subscriber %s: %s", kind, subscriber_id, error)
        return False
    return True
