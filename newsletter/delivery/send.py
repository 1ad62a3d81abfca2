"""Send a digest's pending deliveries: claim a batch, personalise, transmit, record.

Each batch is claimed in its own transaction (pending -> sending, with a lease) before
anything is transmitted, and its outcome recorded in another, so a crash leaves rows
in ``sending`` with an expired lease for the sweeper, never a silent loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery.fanout import eligible
from newsletter.delivery.message import Envelope, RenderedEmail, build_message
from newsletter.delivery.transport import Transport, TransportError
from newsletter.digest.schema import DigestContent
from newsletter.models import Delivery, DeliveryState, Digest, Subscriber, utcnow
from newsletter.render.html import render_digest_html
from newsletter.render.placeholders import RecipientLinks
from newsletter.render.text import render_digest_text
from newsletter.tokens import Purpose, Tokens

LEASE = timedelta(minutes=10)
BATCH_SIZE = 200


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def archive_url(settings: Settings, digest: Digest) -> str:
    base = settings.base_url.rstrip("/")
    return f"{base}/archive/{digest.topic.slug}/{digest.date.isoformat()}?lang={digest.language}"


def render_email(settings: Settings, digest: Digest) -> RenderedEmail:
    """The digest's email, rendered once for all its recipients."""
    assert digest.content is not None
    content = DigestContent.model_validate(digest.content)
    view_online = archive_url(settings, digest)
    return RenderedEmail(
        subject=content.title,
        html=render_digest_html(
            content, view_online_url=view_online, postal_address=settings.postal_address
        ),
        text=render_digest_text(
            content, view_online_url=view_online, postal_address=settings.postal_address
        ),
    )


def recipient_links(settings: Settings, tokens: Tokens, subscriber_id: int) -> RecipientLinks:
    base = settings.base_url.rstrip("/")
    return RecipientLinks(
        unsubscribe=f"{base}/unsubscribe/{tokens.make(Purpose.UNSUBSCRIBE, subscriber_id)}",
        preferences=f"{base}/preferences/{tokens.make(Purpose.PREFERENCES, subscriber_id)}",
    )


def _claim(db: Database, digest_id: int, after_id: int, limit: int) -> list[int]:
    """Move up to ``limit`` pending deliveries with ids above ``after_id`` to sending."""
    with db.session() as session:
        query = (
            select(Delivery.id)
            .where(
                Delivery.digest_id == digest_id,
                Delivery.state == DeliveryState.PENDING,
                Delivery.id > after_id,
            )
            .order_by(Delivery.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if ids:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.state == DeliveryState.PENDING)
                .values(
                    state=DeliveryState.SENDING,
                    lease_expires_at=utcnow() + LEASE,
                    attempts=Delivery.attempts + 1,
                )
            )
        return ids


def send_digest(
    db: Database,
    settings: Settings,
    digest_id: int,
    transport: Transport,
    on_progress: Callable[[int], None] | None = None,
) -> SendReport:
    """Send every pending delivery of the digest through ``transport``, each once per call.

    A transient failure leaves the row pending for a later call; a permanent one fails it.
    """
    tokens = Tokens(settings.secret_key)
    report = SendReport()
    with db.session() as session:
        digest = session.get_one(Digest, digest_id)
        rendered = render_email(settings, digest)
        topic, language = digest.topic, digest.language
        domain = settings.from_address.rpartition("@")[2] or "localhost"
        list_id = f"{topic.name} digest <{topic.slug}.{domain}>"
    last_id = 0
    with transport:
        while ids := _claim(db, digest_id, last_id, BATCH_SIZE):
            last_id = ids[-1]
            with db.session() as session:
                rows = session.execute(
                    select(Delivery, Subscriber)
                    .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                    .where(Delivery.id.in_(ids))
                    .order_by(Delivery.id)
                ).all()
                still_eligible = set(
                    session.scalars(
                        select(Subscriber.id).where(
                            Subscriber.id.in_([s.id for _, s in rows]), eligible(topic, language)
                        )
                    )
                )
                for delivery, subscriber in rows:
                    if subscriber.id not in still_eligible:
                        delivery.state = DeliveryState.SUPPRESSED
                        delivery.last_error = "no longer eligible at send time"
                        report.skipped += 1
                        continue
                    message_id = f"<digest-{digest_id}-{subscriber.id}@{domain}>"
                    envelope = Envelope(
                        settings.from_address, settings.from_name, list_id, message_id
                    )
                    message = build_message(
                        rendered,
                        envelope,
                        subscriber.email,
                        recipient_links(settings, tokens, subscriber.id),
                    )
                    try:
                        transport.send(
                            message,
                            settings.from_address,
                            subscriber.email,
                            name=f"{topic.slug}-{digest.date}-{language}-{delivery.id}",
                        )
                    except TransportError as error:
                        delivery.state = (
                            DeliveryState.FAILED if error.permanent else DeliveryState.PENDING
                        )
                        delivery.last_error = str(error)
                        report.failed += 1
                        report.errors.append(f"{subscriber.email}: {error}")
                        continue
                    delivery.state = DeliveryState.SENT
                    delivery.message_id = message_id
                    delivery.sent_at = utcnow()
                    delivery.lease_expires_at = None
                    report.sent += 1
            if on_progress:
                on_progress(len(ids))
    return report
