"""Send the notices (confirm, already subscribed, welcome, goodbye) through the transport.

The site hands them to an rq job (``jobs.send_notice``) when workers run, so a request
never waits for a relay; without Redis they go out inside the request.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery.dkim_sign import signer_for
from newsletter.delivery.links import LinkMaker
from newsletter.delivery.message import RenderedEmail
from newsletter.delivery.transport import TransportError, make_transport
from newsletter.models import Subscriber, utcnow
from newsletter.render.transactional import Kind, TransactionalContext, render_transactional
from newsletter.subscriptions import SignupNotice, release_confirmation
from newsletter.tokens import Purpose, Tokens


def _links(settings: Settings, kind: Kind, subscriber_id: int) -> dict[str, str]:
    if kind is Kind.CONFIRM:
        token = Tokens(settings.secret_key).make(Purpose.CONFIRM, subscriber_id)
        return {"confirm": f"{settings.base_url}/confirm/{token}"}
    links = LinkMaker(settings).links(subscriber_id)
    if kind is Kind.GOODBYE:
        return {"resubscribe": links.unsubscribe}
    return {"preferences": links.preferences, "unsubscribe": links.unsubscribe}


def build_transactional(settings: Settings, rendered: RenderedEmail, recipient: str) -> bytes:
    """A multipart/alternative message; the email policy refuses line breaks in headers."""
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((settings.from_name, settings.from_address))
    message["To"] = recipient
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=settings.sender_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    # base64: the HTML has long lines, and choosing between encodings costs more than it saves
    message.add_alternative(rendered.html, subtype="html", cte="base64")
    return message.as_bytes()


def send_notice(settings: Settings, kind: Kind, subscriber: Subscriber) -> None:
    """Render and send one notice to ``subscriber``; TransportError if it cannot go out."""
    context = TransactionalContext(
        language=subscriber.language,
        site=settings.from_name,
        topic_names=[topic.name for topic in subscriber.topics],
        postal_address=settings.postal_address,
        links=_links(settings, kind, subscriber.id),
        confirm_days=settings.confirm_max_age_days,
    )
    rendered = render_transactional(kind, context)
    message = build_transactional(settings, rendered, subscriber.email)
    if (signer := signer_for(settings)) is not None:
        message = signer.sign(message)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    with make_transport(settings) as transport:
        transport.send(
            message, settings.from_address, subscriber.email, name=f"{kind}-{subscriber.id}-{stamp}"
        )


def signup_notice_kind(notice: SignupNotice) -> Kind:
    """A new or returning reader is asked to confirm; a confirmed one is reminded."""
    return Kind.ALREADY if notice.already_subscribed else Kind.CONFIRM


def notify_subscriber(db: Database, settings: Settings, kind: Kind, subscriber_id: int) -> bool:
    """Send ``kind`` to the subscriber; False if they were deleted meanwhile.

    Raises ``TransportError`` if it cannot go out; a confirmation that failed lifts its
    resend throttle first, so that asking again works at once.
    """
    with db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            return False
        try:
            send_notice(settings, kind, subscriber)
        except TransportError:
            if kind in (Kind.CONFIRM, Kind.ALREADY):
                release_confirmation(session, subscriber_id)
                session.commit()
            raise
    return True
