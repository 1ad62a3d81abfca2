"""Sending a notice from a request: the page says so when the mail could not go out."""

from __future__ import annotations

import logging

from newsletter.app import services
from newsletter.delivery.notify import send_notice
from newsletter.delivery.transport import TransportError
from newsletter.models import Subscriber
from newsletter.render.transactional import Kind

log = logging.getLogger(__name__)


def try_send(kind: Kind, subscriber_id: int) -> bool:
    """Send ``kind`` to the subscriber; False (and logged) if the transport failed."""
    app = services()
    with app.db.session() as session:
        subscriber = session.get_one(Subscriber, subscriber_id)
        try:
            send_notice(app.settings, kind, subscriber)
        except TransportError as error:
            log.warning(
                "could not send the %s email to subscriber %s: %s", kind, subscriber_id, error
            )
            return False
    return True
