"""The baseline the benchmarks compare the per-reader path against: building a whole
``email.message.EmailMessage`` for every reader, as a straightforward sender would."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from newsletter.models import utcnow
from newsletter.render.email import RenderedEmail
from newsletter.render.placeholders import RecipientLinks, personalize_html, personalize_text


@dataclass(frozen=True)
class Envelope:
    from_address: str
    from_name: str
    list_id: str
    message_id: str


def build_message(
    rendered: RenderedEmail, envelope: Envelope, recipient: str, links: RecipientLinks
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((envelope.from_name, envelope.from_address))
    message["To"] = recipient
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = envelope.message_id
    message["List-Id"] = envelope.list_id
    message["List-Unsubscribe"] = (
        f"<{links.unsubscribe}>, <mailto:{envelope.from_address}?subject=unsubscribe>"
    )
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Precedence"] = "bulk"
    message.set_content(personalize_text(rendered.text, links))
    message.add_alternative(personalize_html(rendered.html, links), subtype="html")
    return message.as_bytes()
