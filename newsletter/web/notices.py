"""The site's notices (confirm, welcome, goodbye): to a worker when there are workers.

With Redis the request only enqueues ``jobs.send_notice`` and never waits for a relay;
a worker sends it and rq retries a transient failure. Without Redis, or if the queue is
unreachable, the email goes out inside the request and the page can say when it failed.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from newsletter import jobs
from newsletter.app import services
from newsletter.delivery.notify import notify_subscriber
from newsletter.delivery.transport import TransportError
from newsletter.dispatch import dispatcher_for
from newsletter.render.transactional import Kind

log = logging.getLogger(__name__)


def notify(kind: Kind, subscriber_id: int) -> bool:
    """Queue or send ``kind`` to the subscriber; False if sending it now failed (logged)."""
    app = services()
    if not app.settings.inline_jobs:
        try:
            dispatcher_for(app.settings).enqueue(jobs.send_notice, kind.value, subscriber_id)
            return True
        except RedisError as error:
            log.warning("queue unreachable, sending the %s email now: %s", kind, error)
    try:
        notify_subscriber(app.db, app.settings, kind, subscriber_id)
    except TransportError as error:
        log.warning("could not send the %s email to subscriber %s: %s", kind, subscriber_id, error)
        return False
    return True
