"""Who reads what, as operators count it: each reader's real state (a bounced address is
suppressed, whatever its subscription says) and the readers of each topic by state and
by language. The CLI and the operator console show the same numbers from here."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import case, exists, false, func, select
from sqlalchemy.orm import Session

from newsletter.models import Subscriber, SubscriberStatus, Subscription, Suppression, Topic

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
