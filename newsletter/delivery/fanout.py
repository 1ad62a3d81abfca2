"""Fan-out: one delivery row per eligible (digest, subscriber), created in bulk, once."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    ColumnElement,
    and_,
    exists,
    false,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from newsletter.db import UTCDateTime
from newsletter.models import (
    Delivery,
    DeliveryState,
    Digest,
    Subscriber,
    SubscriberStatus,
    Subscription,
    Suppression,
    Topic,
    utcnow,
)

BATCH_SIZE = 1000


def eligible(topic: Topic, language: str) -> ColumnElement[bool]:
    """Confirmed, not paused, subscribed to ``topic``, reading ``language``, not suppressed.

    Readers of a language the topic does not offer get its first language.
    """
    if language == topic.languages[0]:
        reads_it = or_(Subscriber.language == language, Subscriber.language.not_in(topic.languages))
    elif language in topic.languages:
        reads_it = Subscriber.language == language
    else:
        reads_it = false()
    return and_(
        Subscriber.status == SubscriberStatus.CONFIRMED,
        Subscriber.paused == false(),
        reads_it,
        exists().where(
            Subscription.subscriber_id == Subscriber.id, Subscription.topic_id == topic.id
        ),
        ~exists().where(Suppression.email == Subscriber.email),
    )


def fan_out(
    session: Session, digest: Digest, on_batch: Callable[[list[int]], None] | None = None
) -> int:
    """Create the pending deliveries of ``digest``; the number of new rows.

    Subscribers are read ``BATCH_SIZE`` at a time, so memory stays flat however many
    there are. ``on_batch`` gets the ids of each batch's new rows after the session
    has committed them; the digest is then marked fanned out, so the sweeper knows a
    fan-out that a crash cut short (see ``request_fan_out``).
    """
    created = 0
    last_id = 0
    while True:
        ids = list(
            session.scalars(
                select(Subscriber.id)
                .where(eligible(digest.topic, digest.language), Subscriber.id > last_id)
                .order_by(Subscriber.id)
                .limit(BATCH_SIZE)
            )
        )
        if not ids:
            if on_batch is not None:
                digest.fanned_out_at = utcnow()
                if created and session.get_bind().dialect.name == "postgresql":
                    # fresh statistics for the claims to come: autovacuum would take
                    # up to a minute to notice the new rows, and until then the planner
                    # takes "pending" for rare
                    session.execute(text("ANALYZE deliveries"))
            return created
        new = _insert_batch(session, digest, ids[0], ids[-1])
        created += len(new)
        last_id = ids[-1]
        if on_batch is not None:
            session.commit()
            if new:
                on_batch(sorted(new))


def _insert_batch(session: Session, digest: Digest, first_id: int, last_id: int) -> list[int]:
    """INSERT ... SELECT the eligible readers with ids in [first_id, last_id], skipping
    those who have their row already; the new rows' ids. One short statement per batch
    (no thousand bound rows to compile and send)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    readers = select(
        literal(digest.id),
        Subscriber.id,
        literal(DeliveryState.PENDING.value),
        literal(0),
        literal(utcnow(), UTCDateTime()),
    ).where(Subscriber.id.between(first_id, last_id), eligible(digest.topic, digest.language))
    statement = (
        insert(Delivery)
        .from_select(["digest_id", "subscriber_id", "state", "attempts", "created_at"], readers)
        .on_conflict_do_nothing(index_elements=["digest_id", "subscriber_id"])
        .returning(Delivery.id)
    )
    return list(session.scalars(statement))


def request_fan_out(session: Session, digest_ids: list[int]) -> None:
    """Note that these digests are to be fanned out: the sweeper redoes it if it never ends."""
    session.execute(
        update(Digest)
        .where(Digest.id.in_(digest_ids), Digest.fan_out_requested_at.is_(None))
        .values(fan_out_requested_at=utcnow())
    )
