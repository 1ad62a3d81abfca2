"""Send the notices (confirm, already subscribed, welcome, goodbye, fresh links) through
the transport.

The site hands them to an rq job (``daily.jobs.send_notice``, ``sign_up``,
``fresh_links``) when workers run, so a request never waits for a relay; without Redis
the same functions run inside the request.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery.dkim_sign import signer_for
from newsletter.delivery.transports import TransportError, make_transport
from newsletter.models import Subscriber, Topic, utcnow
from newsletter.render.email import RenderedEmail
from newsletter.render.links import PublicLinks, privacy_url
from newsletter.render.notices import Kind, NoticeContext, render_notice
from newsletter.subscriptions import (
    SignupNotice,
    SignupRequest,
    release_confirmation,
    request_fresh_links,
    request_signup,
)
from newsletter.tokens import Choices


def _links(
    settings: Settings, kind: Kind, subscriber: Subscriber, choices: Choices
) -> dict[str, str]:
    """The notice's links: its own, and the privacy page, which every email links."""
    links = PublicLinks(settings)
    privacy = {"privacy": privacy_url(settings.base_url)}
    if kind is Kind.CONFIRM:
        return {"confirm": links.confirm(subscriber.id, subscriber.link_key, choices), **privacy}
    key = subscriber.link_key
    if kind is Kind.GOODBYE:
        return {"resubscribe": links.unsubscribe(subscriber.id, key), **privacy}
    return {
        "preferences": links.preferences(subscriber.id, key),
        "unsubscribe": links.unsubscribe(subscriber.id, key),
        **privacy,
    }


def build_notice(settings: Settings, rendered: RenderedEmail, recipient: str) -> bytes:
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


def _current_choices(subscriber: Subscriber) -> Choices:
    return Choices(subscriber.language, tuple(topic.slug for topic in subscriber.topics))


def send_notice(
    session: Session,
    settings: Settings,
    kind: Kind,
    subscriber: Subscriber,
    choices: Choices | None = None,
) -> None:
    """Render and send one notice to ``subscriber``; TransportError if it cannot go out.

    ``choices`` (a signup's, not yet applied) set the language and topics of a
    confirmation and travel in its link; otherwise the subscriber's own are used.
    """
    choices = choices or _current_choices(subscriber)
    chosen = select(Topic.name).where(Topic.slug.in_(choices.topic_slugs)).order_by(Topic.slug)
    context = NoticeContext(
        language=choices.language,
        site=settings.from_name,
        topic_names=list(session.scalars(chosen)),
        postal_address=settings.postal_address,
        links=_links(settings, kind, subscriber, choices),
        confirm_days=settings.confirm_max_age_days,
    )
    rendered = render_notice(kind, context)
    message = build_notice(settings, rendered, subscriber.email)
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


def notify_subscriber(
    db: Database,
    settings: Settings,
    kind: Kind,
    subscriber_id: int,
    choices: Choices | None = None,
) -> bool:
    """Send ``kind`` to the subscriber; False if they were deleted meanwhile.

    Raises ``TransportError`` if it cannot go out; a confirmation that failed lifts its
    resend throttle first, so that asking again works at once.
    """
    with db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            return False
        try:
            send_notice(session, settings, kind, subscriber, choices)
        except TransportError:
            if kind in (Kind.CONFIRM, Kind.ALREADY):
                release_confirmation(session, subscriber_id)
                session.commit()
            raise
    return True


def sign_up(db: Database, settings: Settings, signup: SignupRequest) -> bool:
    """Record a checked signup, then send its one email (confirm, or "already subscribed").

    False when no email was due (too soon after the last one, or a suppressed address).
    ``InputError`` (nothing changed) when a topic went away since the form was read;
    ``TransportError`` as ``notify_subscriber``.
    """
    with db.session() as session:
        notice = request_signup(
            session,
            signup,
            resend_interval=settings.resend_interval,
            hash_key=settings.suppression_key,
        )
    if notice is None:
        return False
    kind = signup_notice_kind(notice)
    return notify_subscriber(db, settings, kind, notice.subscriber_id, notice.choices)


def fresh_links(db: Database, settings: Settings, address: str) -> bool:
    """Send fresh preferences and unsubscribe links to ``address`` if it is a reader's
    (not suppressed by a bounce or complaint, not written to too recently).

    False when nothing was due; ``TransportError`` as ``notify_subscriber``.
    """
    with db.session() as session:
        subscriber_id = request_fresh_links(
            session,
            address,
            resend_interval=settings.resend_interval,
            hash_key=settings.suppression_key,
        )
    if subscriber_id is None:
        return False
    return notify_subscriber(db, settings, Kind.LINKS, subscriber_id)
