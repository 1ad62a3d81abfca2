"""The figures on the console's front page, each one query (or a few) over indexed columns.

A digest's delivery counts are final once nothing of it is left to send: they are kept
on the digest (``delivery_tally``) the first time they are seen final, so the front page
never counts a finished digest's rows again (a million rows took ~100 ms per look).
Retrying a digest's failures clears its tally (``rows.retry_temporary_failures``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, cast, func, select
from sqlalchemy.orm import Session

from newsletter.delivery.rows import DeliveryCounts, delivery_counts
from newsletter.models import (
    Digest,
    Subscriber,
    SubscriberStatus,
    Subscription,
    Suppression,
    Topic,
    utcnow,
)

# Mailbox providers' limits (Gmail's and Yahoo's sender guidelines): keep spam
# complaints under 0.1% of delivered mail, and never let them reach 0.3%.
COMPLAINT_TARGET = 0.001
COMPLAINT_LIMIT = 0.003
# Bounces: the common guidance of email providers (Postmark, SES) is under 2%, review at 5%.
BOUNCE_TARGET = 0.02
BOUNCE_LIMIT = 0.05
WINDOW_DAYS = 30


@dataclass
class StatusCounts:
    confirmed: int = 0
    pending: int = 0
    unsubscribed: int = 0
    paused: int = 0  # confirmed readers who paused (counted in confirmed too)

    def add(self, status: SubscriberStatus, paused: bool, count: int) -> None:
        setattr(self, status.value, getattr(self, status.value) + count)
        if paused and status == SubscriberStatus.CONFIRMED:
            self.paused += count


def subscribers_by_topic(session: Session) -> list[tuple[str, StatusCounts]]:
    found = session.execute(
        select(Topic.name, Subscriber.status, Subscriber.paused, func.count())
        .select_from(Subscription)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .join(Topic, Topic.id == Subscription.topic_id)
        .group_by(Topic.name, Subscriber.status, Subscriber.paused)
    )
    return _grouped(found)


def subscribers_by_language(session: Session) -> list[tuple[str, StatusCounts]]:
    found = session.execute(
        select(Subscriber.language, Subscriber.status, Subscriber.paused, func.count()).group_by(
            Subscriber.language, Subscriber.status, Subscriber.paused
        )
    )
    return _grouped(found)


def _grouped(found: Any) -> list[tuple[str, StatusCounts]]:
    groups: dict[str, StatusCounts] = {}
    for key, status, paused, count in found:
        groups.setdefault(key, StatusCounts()).add(SubscriberStatus(status), paused, count)
    return sorted(groups.items())


@dataclass(frozen=True)
class DayGrowth:
    day: date
    joined: int
    left: int


def _day(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC day of a timestamp column, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def growth(
    session: Session, days: int = WINDOW_DAYS, now: datetime | None = None
) -> list[DayGrowth]:
    """Readers confirmed and readers who left, per UTC day, the last ``days`` days."""
    now = now or utcnow()
    first = now.date() - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    counts: dict[str, dict[date, int]] = {}
    for name, column in (("joined", Subscriber.confirmed_at), ("left", Subscriber.unsubscribed_at)):
        day = _day(session, column)
        found = session.execute(
            select(day, func.count()).where(column >= start).group_by(day)
        ).all()
        counts[name] = {_as_date(d): n for d, n in found}
    return [
        DayGrowth(d, counts["joined"].get(d, 0), counts["left"].get(d, 0))
        for d in (first + timedelta(days=i) for i in range(days))
    ]


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def tally(session: Session, digest: Digest) -> DeliveryCounts:
    """The digest's delivery counts, kept on it once they can no longer change."""
    if digest.delivery_tally is not None:
        return DeliveryCounts(**digest.delivery_tally)
    counts = delivery_counts(session, digest.id)
    if digest.fanned_out_at is not None and counts.pending == counts.sending == 0:
        digest.delivery_tally = asdict(counts)
    return counts


def keep_tallies(session: Session) -> int:
    """Count the fanned-out digests that have no kept tally yet, keeping the final ones
    (the sweeper runs this, so the console's first view finds them counted); how many
    were kept."""
    digests = session.scalars(
        select(Digest).where(Digest.fanned_out_at.is_not(None), Digest.delivery_tally.is_(None))
    ).all()
    for digest in digests:
        tally(session, digest)
    return sum(1 for digest in digests if digest.delivery_tally is not None)


@dataclass(frozen=True)
class DigestFigures:
    digest: Digest
    counts: DeliveryCounts


def recent_digests(session: Session, limit: int = 14) -> list[DigestFigures]:
    digests = session.scalars(
        select(Digest).order_by(Digest.date.desc(), Digest.id.desc()).limit(limit)
    ).all()
    return [DigestFigures(digest, tally(session, digest)) for digest in digests]


@dataclass(frozen=True)
class Rate:
    count: int
    sent: int
    target: float
    limit: float

    @property
    def rate(self) -> float:
        return self.count / self.sent if self.sent else 0.0

    @property
    def level(self) -> str:
        """within_limits, over_target or over_limit."""
        if self.rate >= self.limit:
            return "over_limit"
        return "over_target" if self.rate >= self.target else "within_limits"


@dataclass(frozen=True)
class Deliverability:
    sent: int
    bounces: Rate
    complaints: Rate


def deliverability(
    session: Session, days: int = WINDOW_DAYS, now: datetime | None = None
) -> Deliverability:
    """Bounces and spam complaints of the last ``days`` days against the mail sent then.

    Mail sent: the delivery counts of the digests fanned out in the window. Bounces and
    complaints: the suppressions they added in the window (an SMTP recipient refusal
    or a provider's bounce webhook; a complaint webhook).
    """
    now = now or utcnow()
    since = now - timedelta(days=days)
    digests = session.scalars(select(Digest).where(Digest.fanned_out_at >= since)).all()
    sent = sum(tally(session, digest).sent for digest in digests)
    reasons = session.execute(
        select(Suppression.reason, func.count())
        .where(Suppression.created_at >= since)
        .group_by(Suppression.reason)
    ).all()
    bounces = sum(n for reason, n in reasons if reason.startswith(("bounce", "bounced")))
    complaints = sum(n for reason, n in reasons if "complaint" in reason)
    return Deliverability(
        sent,
        Rate(bounces, sent, BOUNCE_TARGET, BOUNCE_LIMIT),
        Rate(complaints, sent, COMPLAINT_TARGET, COMPLAINT_LIMIT),
    )


@dataclass(frozen=True)
class ReaderFigures:
    """Who reads what: joins over every reader, so the console counts them at most once
    a minute (see ``web.admin.dashboard``) and says when."""

    by_topic: list[tuple[str, StatusCounts]]
    by_language: list[tuple[str, StatusCounts]]
    growth: list[DayGrowth]
    counted_at: datetime


def reader_figures(session: Session, now: datetime | None = None) -> ReaderFigures:
    now = now or utcnow()
    return ReaderFigures(
        by_topic=subscribers_by_topic(session),
        by_language=subscribers_by_language(session),
        growth=growth(session, now=now),
        counted_at=now,
    )
