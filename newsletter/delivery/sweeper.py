"""The sweeper: the database is the truth, so it can always rebuild the queue.

It records what dead processes' journals say was accepted, hands back deliveries whose
lease ran out (a worker died or hung), lists digests whose fan-out never finished, and
returns the ranges of due pending deliveries that need a send job: those handed back,
those whose retry time has come, and those no job picked up within a lease (Redis lost
its queue).

Journals live on the host of their worker, so each host's workers replay them (on
start, and in every sweep they run); a sweep on another host sees only expired leases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery.journal import replay
from newsletter.delivery.send import record_sent
from newsletter.models import Delivery, DeliveryState, Digest, utcnow


@dataclass(frozen=True)
class SendRange:
    digest_id: int
    first_id: int
    last_id: int


@dataclass
class SweepReport:
    replayed: int = 0
    released: int = 0
    expired: int = 0
    fan_outs: list[int] = field(default_factory=list)
    ranges: list[SendRange] = field(default_factory=list)


def mark_sent(db: Database, domain: str, ids: list[int]) -> None:
    """Record deliveries a journal says the relay accepted, unless already recorded."""
    with db.session() as session:
        record_sent(session, domain, ids)


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


def recover(db: Database, settings: Settings, report: SweepReport) -> None:
    """Record what dead processes' journals say was sent, then take back expired leases."""
    assert settings.journal_dir is not None

    def record(ids: list[int]) -> None:
        mark_sent(db, settings.sender_domain, ids)
        report.replayed += len(ids)

    replay(settings.journal_dir, record)
    report.released, report.expired = release_expired(db, settings)


def sweep(db: Database, settings: Settings) -> SweepReport:
    """Recover, then list unfinished fan-outs and what needs a send job."""
    report = SweepReport()
    recover(db, settings, report)
    report.fan_outs = unfinished_fan_outs(db, settings)
    report.ranges = due_ranges(db, settings)
    return report
