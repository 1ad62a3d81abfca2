"""What the console looks up about readers: search by address, one reader's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.models import Delivery, DeliveryState, Digest, Subscriber, Suppression, Topic
from newsletter.models import email_hash as hash_of

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
