"""Every state change of a delivery row, in one place (listmonk keeps its queries so).

A row per (digest, subscriber), created by the fan-out, moves
pending -> sending (claimed with a lease) -> sent | failed | suppressed, or back to
pending for a retry or when its lease runs out (the sweeper). Ids are handed out in
fixed blocks, so that fan-out and sweeper name the same send job for a block.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import Database, UTCDateTime, among
from newsletter.delivery.suppression import suppress
from newsletter.delivery.template import message_id
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

# States a delivery that went out may still be in: sending, or pending if its lease ran out
RECORDABLE = (DeliveryState.SENDING, DeliveryState.PENDING)
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
            if created:
                digest.delivery_tally = None  # new rows: the kept counts (stats) are stale
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


@dataclass(frozen=True)
class SendRange:
    digest_id: int
    first_id: int
    last_id: int


def claim(
    db: Database,
    settings: Settings,
    digest_id: int,
    *,
    first_id: int = 0,
    last_id: int | None = None,
) -> tuple[list[int], datetime]:
    """Move up to a batch of due pending deliveries of the digest to ``sending``.

    Returns the claimed ids and their lease's end.
    """
    now = utcnow()
    lease_end = now + timedelta(seconds=settings.lease_seconds)
    with db.session() as session:
        due = (
            select(Delivery.id)
            .where(
                Delivery.digest_id == digest_id,
                Delivery.state == DeliveryState.PENDING,
                Delivery.id >= first_id,
                (Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now),
            )
            .order_by(Delivery.id)
            .limit(settings.send_batch_size)
        )
        if last_id is not None:
            due = due.where(Delivery.id <= last_id)
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        # The locked rows are ours and still pending, so the UPDATE joins them by primary
        # key alone: with a state test as well, a planner misled by a fresh fan-out's
        # stale statistics re-ran the subquery for every pending row.
        chosen = due.cte("due")
        claimed = session.scalars(
            update(Delivery)
            .where(Delivery.id == chosen.c.id)
            .values(
                state=DeliveryState.SENDING,
                lease_expires_at=lease_end,
                next_attempt_at=None,
                attempts=Delivery.attempts + 1,
            )
            .returning(Delivery.id)
        )
        return sorted(claimed), lease_end


@dataclass
class Outcomes:
    """The results of one batch, written to the database in one transaction."""

    # (delivery id, the Message-ID it went out with) of each message the relay accepted
    sent: list[tuple[int, str]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    suppressions: list[tuple[str, str]] = field(default_factory=list)

    def add(
        self,
        delivery_id: int,
        state: DeliveryState,
        *,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
        tried: bool = True,
        permanent: bool = False,
    ) -> None:
        """``tried=False``: handed back unsent, so the claim's attempt is given back.
        ``permanent``: a failure that retrying will not mend (a 5xx)."""
        self.rows.append(
            {
                "b_id": delivery_id,
                "b_state": state.value,
                "b_error": error,
                "b_next": next_attempt_at,
                "b_untried": 0 if tried else 1,
                "b_permanent": permanent,
            }
        )


_RECORD = (
    update(Delivery.__table__)
    .where(
        Delivery.__table__.c.id == bindparam("b_id"),
        Delivery.__table__.c.state == DeliveryState.SENDING.value,
    )
    .values(
        state=bindparam("b_state"),
        last_error=bindparam("b_error"),
        next_attempt_at=bindparam("b_next"),
        lease_expires_at=None,
        attempts=Delivery.__table__.c.attempts - bindparam("b_untried"),
        permanent=bindparam("b_permanent"),
    )
)

# One row's "sent" (SQLite: executemany of this runs in-process, with no round trips)
_RECORD_SENT = (
    update(Delivery.__table__)
    .where(
        Delivery.__table__.c.id == bindparam("b_id"),
        # OR, not IN: an expanding IN cannot be used with executemany
        or_(*(Delivery.__table__.c.state == state.value for state in RECORDABLE)),
    )
    .values(
        state=DeliveryState.SENT.value,
        message_id=bindparam("b_message_id"),
        sent_at=bindparam("b_now"),
        lease_expires_at=None,
        next_attempt_at=None,
        last_error=None,
    )
)


def record_sent(session: Session, sent: Sequence[tuple[int, str]]) -> None:
    """Mark deliveries sent, each with the Message-ID it went out with (computed by the
    send loop, so nothing is read or computed here).

    On Postgres one ``UPDATE ... FROM unnest(ids, message_ids)`` per thousand rows, two
    array parameters each; on SQLite one executemany. A row may be back in ``pending``
    if its lease ran out while it was being sent: it went out all the same, so it is
    recorded rather than sent again.
    """
    if not sent:
        return
    now = utcnow()
    if session.get_bind().dialect.name != "postgresql":
        session.connection().execute(
            _RECORD_SENT,
            [{"b_id": id_, "b_message_id": mid, "b_now": now} for id_, mid in sent],
        )
        return
    for start in range(0, len(sent), 1000):
        ids, message_ids = zip(*sent[start : start + 1000], strict=True)
        pairs = (
            func.unnest(
                bindparam("ids", list(ids), type_=ARRAY(Integer)),
                bindparam("message_ids", list(message_ids), type_=ARRAY(String)),
            )
            .table_valued("id", "message_id")
            .render_derived()
        )
        session.execute(
            update(Delivery)
            .where(Delivery.id == pairs.c.id, Delivery.state.in_(RECORDABLE))
            .values(
                state=DeliveryState.SENT,
                message_id=pairs.c.message_id,
                sent_at=now,
                lease_expires_at=None,
                next_attempt_at=None,
                last_error=None,
            )
            # no loaded row to keep in step: "fetch" (what an UPDATE ... FROM falls back
            # to) would read back every id and look each up, 27 µs a row
            .execution_options(synchronize_session=False)
        )


def replayed_as_sent(session: Session, settings: Settings, ids: list[int]) -> None:
    """Record deliveries a journal says the relay accepted (their process died before
    recording them): the one place Message-IDs are computed again from the rows, the
    same way ``template.message_id`` made them for the send."""
    key, domain = settings.message_id_key, settings.sender_domain
    for start in range(0, len(ids), 1000):
        found = session.execute(
            select(Delivery.id, Delivery.digest_id, Delivery.subscriber_id, Subscriber.link_key)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(among(session, Delivery.id, ids[start : start + 1000]))
        ).all()
        record_sent(
            session,
            [
                (delivery_id, message_id(key, digest_id, reader_id, link_key, domain))
                for delivery_id, digest_id, reader_id, link_key in found
            ],
        )


def record(session: Session, settings: Settings, outcomes: Outcomes) -> None:
    record_sent(session, outcomes.sent)
    if outcomes.rows:
        session.connection().execute(_RECORD, outcomes.rows)
    suppress(session, outcomes.suppressions, hash_key=settings.suppression_key)


class ClaimedReader(NamedTuple):
    delivery_id: int
    attempts: int
    subscriber_id: int
    link_key: str
    address: str
    still_eligible: bool  # checked again at send time


def claimed_readers(session: Session, digest_id: int, ids: list[int]) -> list[ClaimedReader]:
    """The readers of the claimed deliveries ``ids`` still in ``sending``, in id order."""
    digest = session.get_one(Digest, digest_id)
    found = session.execute(
        select(
            Delivery.id,
            Delivery.attempts,
            Subscriber.id,
            Subscriber.link_key,
            Subscriber.email,
            eligible(digest.topic, digest.language),
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(among(session, Delivery.id, ids), Delivery.state == DeliveryState.SENDING)
        .order_by(Delivery.id)
    )
    return [ClaimedReader(*row) for row in found]


@dataclass(frozen=True)
class DeliveryCounts:
    """How a digest's deliveries stand, by state."""

    pending: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.sending + self.sent + self.failed + self.suppressed


def delivery_counts(session: Session, digest_id: int) -> DeliveryCounts:
    by_state = session.execute(
        select(Delivery.state, func.count())
        .where(Delivery.digest_id == digest_id)
        .group_by(Delivery.state)
    )
    return DeliveryCounts(**{state.value: count for state, count in by_state})


def sent_count(session: Session, topic_slug: str | None = None) -> int:
    """Deliveries sent in all, or of one topic's digests."""
    query = select(func.count()).select_from(Delivery).where(Delivery.state == DeliveryState.SENT)
    if topic_slug is not None:
        query = (
            query.join(Digest, Digest.id == Delivery.digest_id)
            .join(Topic, Topic.id == Digest.topic_id)
            .where(Topic.slug == topic_slug)
        )
    return session.scalar(query) or 0


def failure_reasons(session: Session, digest_id: int, limit: int = 5) -> list[str]:
    """The last errors of the digest's failed deliveries, a few of them."""
    return list(
        session.scalars(
            select(Delivery.last_error)
            .where(Delivery.digest_id == digest_id, Delivery.state == DeliveryState.FAILED)
            .order_by(Delivery.id)
            .limit(limit)
        )
    )


def mark_sent(db: Database, settings: Settings, ids: list[int]) -> None:
    """Record deliveries a journal says the relay accepted, unless already recorded."""
    with db.session() as session:
        replayed_as_sent(session, settings, ids)


def release_expired(db: Database, settings: Settings) -> tuple[int, int]:
    """Sending rows past their lease go back to pending, or fail after too many attempts."""
    now = utcnow()
    expired = (Delivery.state == DeliveryState.SENDING) & (Delivery.lease_expires_at < now)
    with db.session() as session:
        failed = session.execute(
            update(Delivery)
            .where(expired, Delivery.attempts >= settings.max_attempts)
            .values(
                state=DeliveryState.FAILED,
                lease_expires_at=None,
                last_error="lease expired on the last attempt",
            )
        ).rowcount  # type: ignore[attr-defined]
        released = session.execute(
            update(Delivery)
            .where(expired)
            .values(state=DeliveryState.PENDING, lease_expires_at=None, last_error="lease expired")
        ).rowcount  # type: ignore[attr-defined]
    return released, failed


def block_of(digest_id: int, delivery_id: int, size: int) -> SendRange:
    """The fixed block of ``size`` ids holding ``delivery_id``: fan-out and sweeper name
    the same send job for it, so one that is still waiting is never queued twice."""
    first = delivery_id // size * size
    return SendRange(digest_id, first, first + size - 1)


def due_ranges(db: Database, settings: Settings) -> list[SendRange]:
    """The id blocks of pending rows that no live job is expected to take."""
    now = utcnow()
    orphaned_before = now - timedelta(seconds=settings.lease_seconds)
    size = settings.send_batch_size
    with db.session() as session:
        block = (Delivery.id // size).label("block")
        blocks = session.execute(
            select(Delivery.digest_id, block)
            .where(
                Delivery.state == DeliveryState.PENDING,
                Delivery.next_attempt_at.is_(None) | (Delivery.next_attempt_at <= now),
                Delivery.next_attempt_at.is_not(None)
                | Delivery.last_error.is_not(None)
                | (Delivery.created_at < orphaned_before),
            )
            .distinct()
            .order_by(Delivery.digest_id, block)
        ).all()
    return [block_of(digest_id, block * size, size) for digest_id, block in blocks]


def unfinished_fan_outs(db: Database, settings: Settings) -> list[int]:
    """Digests whose fan-out was requested a lease ago or more and never finished."""
    before = utcnow() - timedelta(seconds=settings.lease_seconds)
    with db.session() as session:
        return list(
            session.scalars(
                select(Digest.id).where(
                    Digest.fan_out_requested_at < before, Digest.fanned_out_at.is_(None)
                )
            )
        )


class DeliveryLine(NamedTuple):
    """One delivery as an operator reads it."""

    delivery_id: int
    address: str | None
    state: DeliveryState
    attempts: int
    last_error: str | None
    permanent: bool
    sent_at: datetime | None
    next_attempt_at: datetime | None


def digest_deliveries(
    session: Session, digest_id: int, *, failed_only: bool = False, limit: int | None = None
) -> list[DeliveryLine]:
    """The digest's deliveries in id order; ``failed_only``: the failed ones."""
    query = (
        select(
            Delivery.id,
            Subscriber.email,
            Delivery.state,
            Delivery.attempts,
            Delivery.last_error,
            Delivery.permanent,
            Delivery.sent_at,
            Delivery.next_attempt_at,
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.digest_id == digest_id)
        .order_by(Delivery.id)
        .limit(limit)
    )
    if failed_only:
        query = query.where(Delivery.state == DeliveryState.FAILED)
    return [DeliveryLine(*row) for row in session.execute(query)]


class Retried(NamedTuple):
    count: int
    blocks: list[SendRange]


def retry_temporary_failures(session: Session, digest_id: int, size: int) -> Retried:
    """Failed deliveries of the digest that gave up on temporary errors go back to
    pending with a fresh count of attempts; the send blocks that hold them.

    Permanent failures (the relay refused for good) and suppressed rows stay as they are;
    eligibility is checked again when each one is sent.
    """
    retried = list(
        session.scalars(
            update(Delivery)
            .where(
                Delivery.digest_id == digest_id,
                Delivery.state == DeliveryState.FAILED,
                Delivery.permanent == false(),
            )
            .values(
                state=DeliveryState.PENDING,
                attempts=0,
                next_attempt_at=None,
                lease_expires_at=None,
                last_error="retried by an operator",
            )
            .returning(Delivery.id)
        )
    )
    if retried:  # the console's kept figures for the digest are stale now
        session.execute(update(Digest).where(Digest.id == digest_id).values(delivery_tally=None))
    blocks = {block_of(digest_id, i, size) for i in retried}
    return Retried(len(retried), sorted(blocks, key=lambda b: b.first_id))


class FailedRecipient(NamedTuple):
    delivery_id: int
    address: str
    error: str
    attempts: int
    temporary: bool


def failed_recipients(session: Session, digest_id: int, limit: int = 500) -> list[FailedRecipient]:
    """The digest's failed deliveries: who, why, and whether a retry may help (a failure
    the relay gave as final is not: ``permanent``)."""
    return [
        FailedRecipient(
            line.delivery_id,
            line.address or "",
            line.last_error or "",
            line.attempts,
            not line.permanent,
        )
        for line in digest_deliveries(session, digest_id, failed_only=True, limit=limit)
    ]
