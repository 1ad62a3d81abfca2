"""Email to the people who run the service (``NEWSLETTER_OPERATOR_EMAILS``), through
the same message builder, DKIM signer and transport as the readers' notices."""

from __future__ import annotations

import logging
from html import escape

from newsletter.config import Settings
from newsletter.delivery.dkim_sign import signer_for
from newsletter.delivery.notices import build_notice
from newsletter.delivery.transports import TransportError, make_transport
from newsletter.models import utcnow
from newsletter.render.email import RenderedEmail

log = logging.getLogger(__name__)


def operators_hear(settings: Settings) -> bool:
    return settings.operator_alerts and bool(settings.operator_emails)


def email_operators(settings: Settings, subject: str, text: str) -> int:
    """Send ``text`` to every operator address; how many took it. A refused or
    unreachable relay is logged, never raised: an alert must not fail the work it is about."""
    if not operators_hear(settings):
        return 0
    rendered = RenderedEmail(
        subject=subject,
        html=f'<pre style="font-family:monospace">{escape(text)}</pre>',
        text=text,
    )
    signer = signer_for(settings)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    delivered = 0
    try:
        with make_transport(settings) as transport:
            for index, address in enumerate(settings.operator_emails):
                message = build_notice(settings, rendered, address)
                if signer is not None:
                    message = signer.sign(message)
                try:
                    transport.send(
                        message, settings.from_address, address, name=f"operators-{stamp}-{index}"
                    )
                    delivered += 1
                except TransportError as error:
                    log.error("the operator alert to %s was refused: %s", address, error)
    except (TransportError, OSError) as error:
        log.error("the operator alert %r could not be sent: %s", subject, error)
    return delivered
