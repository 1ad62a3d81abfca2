"""Emails to the operators: a digest awaits review, or one expired unapproved.

Plain text in both languages of the console, sent through the configured transport to
every operator; a failure is logged and does not stop the daily chain (the console shows
the same state).
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from newsletter.config import Settings
from newsletter.delivery.dkim_sign import signer_for
from newsletter.delivery.transports import TransportError, make_transport
from newsletter.i18n.admin import admin_wording
from newsletter.models import utcnow

log = logging.getLogger(__name__)


def _message(settings: Settings, recipient: str, subject: str, body: str) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((settings.from_name, settings.from_address))
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=settings.sender_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message.as_bytes()


def notify_operators(
    settings: Settings, operators: list[str], kind: str, lines: list[dict[str, str]]
) -> int:
    """Send the ``kind`` notice ("review" or "expired") about ``lines`` (one per digest:
    topic, date, language, deadline, link) to each operator; how many went out."""
    if not operators or not lines:
        return 0
    en, zh = admin_wording("en"), admin_wording("zh-TW")
    subject = en[f"notice_{kind}_subject"].format(count=len(lines))
    body = "\n\n".join(
        wording[f"notice_{kind}_intro"]
        + "\n\n"
        + "\n".join(wording[f"notice_{kind}_line"].format(**line) for line in lines)
        for wording in (en, zh)
    )
    signer = signer_for(settings)
    sent = 0
    with make_transport(settings) as transport:
        for address in operators:
            message = _message(settings, address, subject, body + "\n")
            if signer is not None:
                message = signer.sign(message)
            stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
            try:
                transport.send(message, settings.from_address, address, name=f"ops-{kind}-{stamp}")
                sent += 1
            except TransportError as error:
                log.warning("the %s notice to an operator failed: %s", kind, error)
    return sent
