"""Assemble one recipient's multipart/alternative message with list headers.

Header values come from our settings and validated addresses only; ``_checked`` refuses
anything with a line break, so nothing can inject a header.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from newsletter.models import utcnow
from newsletter.render.placeholders import RecipientLinks, personalize_html, personalize_text


@dataclass(frozen=True)
class RenderedEmail:
    """The per-language part of a message, rendered once: recipients differ only by links."""

    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class Envelope:
    from_address: str
    from_name: str
    list_id: str
    message_id: str


def _checked(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"line break in a header value: {value!r}")
    return value


def build_message(
    rendered: RenderedEmail, envelope: Envelope, recipient: str, links: RecipientLinks
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((_checked(envelope.from_name), _checked(envelope.from_address)))
    message["To"] = _checked(recipient)
    message["Subject"] = _checked(rendered.subject)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = _checked(envelope.message_id)
    message["List-Id"] = _checked(envelope.list_id)
    message["List-Unsubscribe"] = _checked(
        f"<{links.unsubscribe}>, <mailto:{envelope.from_address}?subject=unsubscribe>"
    )
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Precedence"] = "bulk"
    message.set_content(personalize_text(rendered.text, links))
    message.add_alternative(personalize_html(rendered.html, links), subtype="html")
    return message.as_bytes()
