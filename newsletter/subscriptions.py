"""What readers do to their own subscription: sign up, confirm, change, leave, be forgotten.

The web views call these; they never say whether an address was known before, so a
signup for a stranger's address reveals nothing and changes nothing that matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.addresses import normalize_email
from newsletter.errors import InputError
from newsletter.i18n import SUPPORTED_LANGUAGES
from newsletter.models import (
    Delivery,
    Digest,
    Subscriber,
    SubscriberStatus,
    Suppression,
    Topic,
    email_hash,
    utcnow,
)
from newsletter.tokens import Choices, Claim

FORGOTTEN_REASON = "personal data deleted at the reader's request"


@dataclass(frozen=True)
class SignupNotice:
    """Who to write to after a signup, whether they were confirmed already, and (for a
    confirmation) the choices its link carries until the owner confirms them."""

    subscriber_id: int
    already_subscribed: bool
    choices: Choices | None = None


@dataclass(frozen=True)
class SignupRequest:
    address: str
    language: str
    topic_slugs: list[str]


def _choose_topics(session: Session, slugs: list[str]) -> list[Topic]:
    wanted = list(dict.fromkeys(slugs))
    if not wanted:
        raise InputError("choose at least one topic")
    topics = list(session.scalars(select(Topic).where(Topic.slug.in_(wanted))))
    if len(topics) != len(wanted):
        raise InputError("choose topics from the list")
    return topics


def _check_language(language: str) -> None:
    if language not in SUPPORTED_LANGUAGES:
        raise InputError(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}")


def suppression_of(session: Session, address: str, hash_key: bytes) -> Suppression | None:
    hashed = email_hash(address, hash_key)
    return session.scalar(select(Suppression).where(Suppression.email_hash == hashed))


def is_suppressed(session: Session, address: str, hash_key: bytes) -> bool:
    return suppression_of(session, address, hash_key) is not None


def blocks_signup(suppression: Suppression | None) -> bool:
    """Bounces, complaints and imports keep an address out for good; a reader's own
    request to be forgotten does not: they may come back through a new double opt-in."""
    return suppression is not None and suppression.reason != FORGOTTEN_REASON


def _claim_confirmation(subscriber: Subscriber, resend_interval: timedelta) -> bool:
    """Record that a signup notice goes out now, unless one went out too recently."""
    now = utcnow()
    last = subscriber.confirmation_sent_at
    if last is not None and now - last < resend_interval:
        return False
    subscriber.confirmation_sent_at = now
    return True


def request_signup(
    session: Session,
    request: SignupRequest,
    *,
    resend_interval: timedelta,
    hash_key: bytes,
) -> SignupNotice | None:
    """Record a signup; who to write to now, or None (too soon, or suppressed).

    A new address becomes a pending subscriber. A pending or unsubscribed one is left
    exactly as it is: the choices travel in the confirmation link and are applied only
    when the owner of the address confirms (a stranger's signup changes nothing). A
    confirmed one is left as it is too and is told it is subscribed already, so that
    every known or unknown address gets one email, at most once per
    ``resend_interval`` (the time of that email is the one thing recorded). Addresses
    suppressed by a bounce, a complaint or an import get nothing; a reader who had their
    data deleted may sign up again. InputError (nothing changed) for a bad address,
    language or topic.
    """
    email = normalize_email(request.address)  # checked by the form; canonical here
    _check_language(request.language)
    topics = _choose_topics(session, request.topic_slugs)
    if blocks_signup(suppression_of(session, email, hash_key)):
        return None
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if subscriber is None:
        subscriber = Subscriber(email=email, language=request.language, topics=topics)
        session.add(subscriber)
    claimed = _claim_confirmation(subscriber, resend_interval)
    session.flush()
    if not claimed:
        return None
    if subscriber.status == SubscriberStatus.CONFIRMED:
        return SignupNotice(subscriber.id, already_subscribed=True)
    choices = Choices(request.language, tuple(topic.slug for topic in topics))
    return SignupNotice(subscriber.id, already_subscribed=False, choices=choices)


def request_resend(
    session: Session, address: str, *, resend_interval: timedelta, hash_key: bytes
) -> int | None:
    """The pending subscriber to send a new confirmation to, if any and not too soon."""
    email = normalize_email(address)  # no DNS: only an address we hold matters
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if subscriber is None or subscriber.status != SubscriberStatus.PENDING:
        return None
    if blocks_signup(suppression_of(session, email, hash_key)):
        return None
    if not _claim_confirmation(subscriber, resend_interval):
        return None
    return subscriber.id


def request_fresh_links(
    session: Session, address: str, *, resend_interval: timedelta, hash_key: bytes
) -> int | None:
    """The subscriber to send fresh links to, if the address is known, not suppressed by
    a bounce or complaint, and was not written to too recently."""
    email = normalize_email(address)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if subscriber is None or blocks_signup(suppression_of(session, email, hash_key)):
        return None
    if not _claim_confirmation(subscriber, resend_interval):
        return None
    return subscriber.id


def release_confirmation(session: Session, subscriber_id: int) -> None:
    """Forget a confirmation that could not be sent, so that a retry is not throttled."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is not None:
        subscriber.confirmation_sent_at = None


def confirm(session: Session, claim: Claim, *, hash_key: bytes) -> Subscriber | None:
    """Confirm the subscriber of a confirmation link; None if there is nothing to confirm.

    The link's choices (language, topics) are applied now, not at signup. A reader who
    left is subscribed again only by a link issued after they left. Returns the
    subscriber when this call confirmed it, so the caller sends the welcome email once;
    a second click finds it confirmed already and gets None.
    """
    subscriber = session.get(Subscriber, claim.subscriber_id)
    if subscriber is None or not claim.belongs_to(subscriber):
        return None
    if subscriber.status == SubscriberStatus.CONFIRMED:
        return None
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED and not link_is_newer(
        claim, subscriber.unsubscribed_at
    ):
        return None
    suppression = suppression_of(session, subscriber.email, hash_key)
    if blocks_signup(suppression):
        return None
    if suppression is not None:  # forgotten once, back through a new double opt-in
        session.delete(suppression)
    if claim.choices is not None:
        _apply(session, subscriber, claim.choices)
    subscriber.status = SubscriberStatus.CONFIRMED
    subscriber.confirmed_at = utcnow()
    subscriber.unsubscribed_at = None
    subscriber.paused = False
    return subscriber


def link_is_newer(claim: Claim, moment: datetime | None) -> bool:
    """Whether the link was made after ``moment``. Tokens are stamped in whole seconds: a
    link made in the same second as ``moment`` counts as older (refused, never wrongly
    honoured)."""
    if moment is None:
        return True
    return claim.issued_at is not None and claim.issued_at > moment


def _apply(session: Session, subscriber: Subscriber, choices: Choices) -> None:
    """The choices of a confirmation link, less any topic or language gone since."""
    if choices.language in SUPPORTED_LANGUAGES:
        subscriber.language = choices.language
    wanted = list(dict.fromkeys(choices.topic_slugs))
    topics = list(session.scalars(select(Topic).where(Topic.slug.in_(wanted))))
    if topics:
        subscriber.topics = sorted(topics, key=lambda topic: topic.slug)


def update_preferences(
    session: Session, subscriber: Subscriber, *, language: str, topic_slugs: list[str], paused: bool
) -> None:
    _check_language(language)
    subscriber.topics = _choose_topics(session, topic_slugs)
    subscriber.language = language
    subscriber.paused = paused


def unsubscribe(subscriber: Subscriber) -> bool:
    """Stop all mail to the subscriber; False if they had left already."""
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return False
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    subscriber.unsubscribed_at = utcnow()
    return True


def resubscribe(subscriber: Subscriber) -> None:
    """Undo an unsubscribe. Only reachable through a link mailed to the address itself."""
    subscriber.status = SubscriberStatus.CONFIRMED
    subscriber.unsubscribed_at = None
    subscriber.paused = False
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = utcnow()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export_data(session: Session, subscriber: Subscriber) -> dict[str, Any]:
    """Everything we hold about the subscriber, as plain JSON-able data."""
    deliveries = session.execute(
        select(Delivery, Digest)
        .join(Digest, Digest.id == Delivery.digest_id)
        .where(Delivery.subscriber_id == subscriber.id)
        .order_by(Delivery.id)
    ).all()
    return {
        "email": subscriber.email,
        "language": subscriber.language,
        "status": subscriber.status.value,
        "paused": subscriber.paused,
        "topics": [topic.slug for topic in subscriber.topics],
        "created_at": _iso(subscriber.created_at),
        "confirmation_sent_at": _iso(subscriber.confirmation_sent_at),
        "confirmed_at": _iso(subscriber.confirmed_at),
        "unsubscribed_at": _iso(subscriber.unsubscribed_at),
        "deliveries": [
            {
                "topic": digest.topic.slug,
                "date": digest.date.isoformat(),
                "language": digest.language,
                "state": delivery.state.value,
                "sent_at": _iso(delivery.sent_at),
            }
            for delivery, digest in deliveries
        ],
    }


def forget(session: Session, subscriber: Subscriber, *, hash_key: bytes) -> None:
    """Delete the subscriber and their deliveries; keep only a keyed-hash suppression
    entry (its link key goes with the row, so every link they were sent dies too)."""
    hashed = email_hash(subscriber.email, hash_key)
    suppression = session.scalar(select(Suppression).where(Suppression.email_hash == hashed))
    if suppression is None:
        session.add(Suppression(email_hash=hashed, email=None, reason=FORGOTTEN_REASON))
    else:
        suppression.email = None
    session.delete(subscriber)
    session.flush()
