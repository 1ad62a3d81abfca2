"""Who reads what, as operators see it: each reader's real state (a bounced address is
suppressed, whatever its subscription says), the readers of each topic by state and by
language, a search by address and one reader's history, and the suppression list. The
CLI and the operator console show the same numbers from here."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, exists, false, func, select
from sqlalchemy.orm import Session

from newsletter.models import (
    Delivery,
    DeliveryState,
    Digest,
    Subscriber,
    SubscriberStatus,
    Subscription,
    Suppression,
    Topic,
)
from newsletter.models import email_hash as hash_of

# A reader's state for an operator: the subscription status, unless something overrides it.
SUPPRESSED = "suppressed"
PAUSED = "paused"


@dataclass(frozen=True)
class ReaderRow:
    email: str
    language: str
    state: str  # pending | confirmed | unsubscribed | paused | suppressed
    suppression: str | None  # why, when suppressed
    consent_note: str | None
    topics: list[str]


def _state(status: SubscriberStatus, paused: bool, suppression: str | None) -> str:
    if suppression is not None:
        return SUPPRESSED
    if status == SubscriberStatus.CONFIRMED and paused:
        return PAUSED
    return status.value


def reader_rows(session: Session) -> list[ReaderRow]:
    """Every reader with their real state and topics, by address."""
    topics: dict[int, list[str]] = defaultdict(list)
    for subscriber_id, slug in session.execute(
        select(Subscription.subscriber_id, Topic.slug)
        .join(Topic, Topic.id == Subscription.topic_id)
        .order_by(Topic.slug)
    ):
        topics[subscriber_id].append(slug)
    found = session.execute(
        select(
            Subscriber.id,
            Subscriber.email,
            Subscriber.language,
            Subscriber.status,
            Subscriber.paused,
            Suppression.reason,
            Subscriber.consent_note,
        )
        .outerjoin(Suppression, Suppression.email == Subscriber.email)
        .order_by(Subscriber.email)
    )
    return [
        ReaderRow(email, language, _state(status, paused, reason), reason, note, topics[sid])
        for sid, email, language, status, paused, reason, note in found
    ]


@dataclass
class TopicReaders:
    """A topic's readers: how many in each state, and the ones mail goes to by language."""

    slug: str
    by_state: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)  # confirmed, not paused

    @property
    def receiving(self) -> int:
        return sum(self.by_language.values())


def topic_readers(session: Session) -> dict[str, TopicReaders]:
    """Every topic's readers by state and, for those who get mail, by language."""
    suppressed = exists().where(Suppression.email == Subscriber.email)
    state = case(
        (suppressed, SUPPRESSED),
        (
            (Subscriber.status == SubscriberStatus.CONFIRMED) & (Subscriber.paused != false()),
            PAUSED,
        ),
        else_=Subscriber.status,
    )
    counts: dict[str, TopicReaders] = {
        slug: TopicReaders(slug) for slug in session.scalars(select(Topic.slug))
    }
    rows = session.execute(
        select(Topic.slug, Subscriber.language, state, func.count())
        .join(Subscription, Subscription.topic_id == Topic.id)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .group_by(Topic.slug, Subscriber.language, state)
    )
    for slug, language, reader_state, count in rows:
        value = getattr(reader_state, "value", reader_state)
        counts[slug].by_state[value] += count
        if value == SubscriberStatus.CONFIRMED.value:
            counts[slug].by_language[language] += count
    return counts


SEARCH_LIMIT = 50
HISTORY_LIMIT = 100


def search(session: Session, text: str, limit: int = SEARCH_LIMIT) -> list[Subscriber]:
    """Readers whose address contains ``text`` (case-insensitive), by address."""
    text = text.strip().lower()[:320]
    if not text:
        return []
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    found = session.scalars(
        select(Subscriber)
        .where(Subscriber.email.like(pattern, escape="\\"))
        .order_by(Subscriber.email)
        .limit(limit)
    ).all()
    for reader in found:
        reader.topics  # noqa: B018 - loaded while the session is open
    return list(found)


@dataclass(frozen=True)
class HistoryEntry:
    digest_id: int
    topic: str
    day: str
    language: str
    state: DeliveryState
    attempts: int
    error: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class ReaderHistory:
    reader: Subscriber
    deliveries: list[HistoryEntry]
    suppression: str | None


def history(session: Session, subscriber_id: int, hash_key: bytes) -> ReaderHistory | None:
    reader = session.get(Subscriber, subscriber_id)
    if reader is None:
        return None
    reader.topics  # noqa: B018 - loaded while the session is open
    found = session.execute(
        select(
            Digest.id,
            Topic.name,
            Digest.date,
            Digest.language,
            Delivery.state,
            Delivery.attempts,
            Delivery.last_error,
            Delivery.sent_at,
        )
        .join(Digest, Digest.id == Delivery.digest_id)
        .join(Topic, Topic.id == Digest.topic_id)
        .where(Delivery.subscriber_id == subscriber_id)
        .order_by(Digest.date.desc(), Digest.id.desc())
        .limit(HISTORY_LIMIT)
    )
    entries = [
        HistoryEntry(i, topic, day.isoformat(), language, state, attempts, error, sent_at)
        for i, topic, day, language, state, attempts, error, sent_at in found
    ]
    reason = session.scalar(
        select(Suppression.reason).where(Suppression.email_hash == hash_of(reader.email, hash_key))
    )
    return ReaderHistory(reader, entries, reason)


def recent_suppressions(session: Session, limit: int = 500) -> tuple[int, list[Suppression]]:
    """How many addresses are suppressed, and the latest ``limit`` of them."""
    total = session.scalar(select(func.count()).select_from(Suppression)) or 0
    latest = session.scalars(
        select(Suppression)
        .order_by(Suppression.created_at.desc(), Suppression.id.desc())
        .limit(limit)
    ).all()
    return total, list(latest)
