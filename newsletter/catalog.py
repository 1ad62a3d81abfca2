"""Topics and subscribers: looking them up and adding them, with input checked first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.addresses import normalize_email
from newsletter.errors import InputError
from newsletter.i18n import SUPPORTED_LANGUAGES
from newsletter.models import (
    Source,
    Subscriber,
    SubscriberStatus,
    Subscription,
    Suppression,
    Topic,
    email_hash,
    utcnow,
)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def topic_by_slug(session: Session, slug: str) -> Topic:
    topic = session.scalar(select(Topic).where(Topic.slug == slug))
    if topic is None:
        known = ", ".join(session.scalars(select(Topic.slug).order_by(Topic.slug))) or "none yet"
        raise InputError(f"unknown topic {slug!r} (known: {known})")
    return topic


def list_topics(session: Session) -> list[Topic]:
    return list(session.scalars(select(Topic).order_by(Topic.slug)))


def add_topic(
    session: Session,
    slug: str,
    name: str,
    *,
    keywords: list[str],
    languages: list[str],
    timezone: str = "UTC",
    send_time: str = "07:00",
) -> Topic:
    if not _SLUG.match(slug):
        raise InputError("a topic slug is 1-40 lowercase letters, digits and dashes")
    if session.scalar(select(Topic.id).where(Topic.slug == slug)) is not None:
        raise InputError(f"topic {slug!r} exists already")
    _check_languages(languages)
    _check_timezone(timezone)
    at = _send_time(send_time)
    topic = Topic(
        slug=slug,
        name=name.strip() or slug,
        keywords=[k.strip() for k in keywords if k.strip()],
        languages=languages,
        timezone=timezone,
        send_time=at,
    )
    session.add(topic)
    session.flush()
    return topic


def _check_languages(languages: list[str]) -> None:
    unknown = [language for language in languages if language not in SUPPORTED_LANGUAGES]
    if not languages or unknown:
        raise InputError(f"languages must be among {', '.join(SUPPORTED_LANGUAGES)}")


def _check_timezone(timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {timezone!r}") from None


def _send_time(value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise InputError(f"send time must be HH:MM, got {value!r}") from None


def edit_topic(
    session: Session,
    slug: str,
    *,
    name: str | None = None,
    keywords: list[str] | None = None,
    languages: list[str] | None = None,
    timezone: str | None = None,
    send_time: str | None = None,
) -> Topic:
    """Change what is given, every value checked before anything changes. The cron
    picks a new send time or time zone up within a minute."""
    topic = topic_by_slug(session, slug)
    if languages is not None:
        _check_languages(languages)
    if timezone is not None:
        _check_timezone(timezone)
    at = _send_time(send_time) if send_time is not None else None
    cleaned = [k.strip() for k in keywords if k.strip()] if keywords is not None else None
    if keywords is not None and not cleaned:
        raise InputError("a topic needs at least one keyword")
    if name is not None and not name.strip():
        raise InputError("a topic needs a name")
    if name is not None:
        topic.name = name.strip()[:80]
    if cleaned is not None:
        topic.keywords = cleaned
    if languages is not None:
        topic.languages = list(dict.fromkeys(languages))
    if timezone is not None:
        topic.timezone = timezone
    if at is not None:
        topic.send_time = at
    session.flush()
    return topic


def topic_readers(session: Session, topic: Topic) -> int:
    """How many readers follow the topic and have not left (pending ones included)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Subscription)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(
                Subscription.topic_id == topic.id,
                Subscriber.status != SubscriberStatus.UNSUBSCRIBED,
            )
        )
        or 0
    )


def remove_topic(session: Session, slug: str, *, force: bool = False) -> int:
    """Delete the topic with its sources, items, digests and subscriptions; refused while
    readers follow it unless ``force``. Returns how many readers it had."""
    topic = topic_by_slug(session, slug)
    readers = topic_readers(session, topic)
    if readers and not force:
        raise InputError(
            f"{readers} reader(s) follow {slug}: move them to another topic first, "
            "or use --force to remove it and their subscriptions to it"
        )
    session.delete(topic)
    session.flush()
    return readers


def add_source(
    session: Session, topic: Topic, kind: str, name: str, url: str, query: str | None = None
) -> Source:
    """A new source of ``topic``; ``kind``, ``url`` and ``query`` as :func:`kinds.resolve`
    checked and made them."""
    if not url.startswith(("https://", "http://", "sample://")) or not _usable_url(url):
        raise InputError(f"a source URL must be http(s), got {url!r}")
    if not name.strip():
        raise InputError("a source needs a name")
    if len(url) > 2000 or (query and len(query) > 500):
        raise InputError("a source URL is at most 2000 characters, its query or selector 500")
    duplicate = select(Source.id).where(
        Source.topic_id == topic.id, Source.kind == kind, Source.url == url
    )
    if topic.id is not None and session.scalar(duplicate) is not None:
        raise InputError(f"{topic.slug} already has this {kind} source")
    source = Source(topic=topic, kind=kind, name=name.strip()[:120], url=url, query=query)
    session.add(source)
    session.flush()
    return source


def _usable_url(url: str) -> bool:
    """True if ``url`` has a host and a valid port (what a fetch needs)."""
    try:
        parts = urlsplit(url)
        return (
            bool(parts.hostname)
            and not any(c.isspace() for c in url)
            and (parts.port is None or parts.port > 0)
        )
    except ValueError:  # a malformed IPv6 host or a port out of range
        return False


def add_subscriber(
    session: Session,
    address: str,
    *,
    language: str,
    topics: list[Topic],
    hash_key: bytes,
    confirmed: bool = False,
) -> Subscriber:
    email = normalize_email(address)
    if language not in SUPPORTED_LANGUAGES:
        raise InputError(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}")
    if not topics:
        raise InputError("choose at least one topic")
    if session.scalar(select(Subscriber.id).where(Subscriber.email == email)) is not None:
        raise InputError(f"{email} is subscribed already")
    hashed = email_hash(email, hash_key)
    if session.scalar(select(Suppression.id).where(Suppression.email_hash == hashed)):
        raise InputError(f"{email} is on the suppression list")
    subscriber = Subscriber(email=email, language=language, topics=list(topics))
    if confirmed:
        subscriber.status = SubscriberStatus.CONFIRMED
        subscriber.confirmed_at = utcnow()
    session.add(subscriber)
    session.flush()
    return subscriber


@dataclass(frozen=True)
class Subscribed:
    subscriber: Subscriber
    created: bool
    added: list[Topic]


def subscribe(
    session: Session,
    address: str,
    *,
    language: str,
    topics: list[Topic],
    hash_key: bytes,
    confirmed: bool = False,
) -> Subscribed:
    """A new reader, or the topics an existing reader does not follow yet added to them.

    An existing reader keeps their language and status (``confirmed`` only confirms a
    pending one); a suppressed address is refused either way.
    """
    email = normalize_email(address)
    existing = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if existing is None:
        subscriber = add_subscriber(
            session, email, language=language, topics=topics, hash_key=hash_key, confirmed=confirmed
        )
        return Subscribed(subscriber, True, list(topics))
    hashed = email_hash(email, hash_key)
    if session.scalar(select(Suppression.id).where(Suppression.email_hash == hashed)):
        raise InputError(f"{email} is on the suppression list")
    added = [topic for topic in topics if topic not in existing.topics]
    if not added and not (confirmed and existing.status == SubscriberStatus.PENDING):
        raise InputError(f"{email} follows {', '.join(t.slug for t in topics)} already")
    existing.topics.extend(added)
    if confirmed and existing.status == SubscriberStatus.PENDING:
        existing.status = SubscriberStatus.CONFIRMED
        existing.confirmed_at = utcnow()
    session.flush()
    return Subscribed(existing, False, added)
