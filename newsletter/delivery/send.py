"""Send a digest's deliveries: claim a batch, personalise, transmit, record.

A batch is claimed in one statement (pending -> sending with a lease: an ``UPDATE ...
RETURNING`` over the rows a CTE locked with ``FOR UPDATE SKIP LOCKED`` on Postgres, so
two claimers never share a row) before anything is transmitted, and its outcomes are
recorded together in one transaction after.
Between the two, messages go to the transport up to its ``batch_size`` a call (one for
SMTP), and the ids each call got accepted are written to the process's ``AckJournal``
as soon as it returns, so a SIGKILL leaves either a journal entry (replayed as sent) or
a row in ``sending`` whose lease expires and which the sweeper hands out again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Row, String, bindparam, cast, literal, select, update
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import Database, among
from newsletter.delivery.dkim_sign import DkimSigner, signer_for
from newsletter.delivery.fanout import eligible
from newsletter.delivery.journal import AckJournal
from newsletter.delivery.links import LinkMaker
from newsletter.delivery.message import RenderedEmail
from newsletter.delivery.ratelimit import RateLimiter, Unlimited
from newsletter.delivery.suppression import suppress
from newsletter.delivery.template import (
    DigestEnvelope,
    MessageTemplate,
    UnsafeHeader,
    compile_template,
    message_id,
)
from newsletter.delivery.transport import Outgoing, Transport, TransportError
from newsletter.digest.schema import DigestContent
from newsletter.models import Delivery, DeliveryState, Digest, Subscriber, utcnow
from newsletter.render.html import render_digest_html
from newsletter.render.text import render_digest_text

MAX_RETRY_DELAY = timedelta(hours=6)
LEASE_MARGIN = 0.8  # stop sending a batch once 80% of its lease has gone
# States a delivery that went out may still be in: sending, or pending if its lease ran out
RECORDABLE = (DeliveryState.SENDING, DeliveryState.PENDING)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: SendReport) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.skipped += other.skipped
        self.deferred += other.deferred
        self.errors += other.errors


def archive_url(settings: Settings, digest: Digest) -> str:
    topic, day = digest.topic.slug, digest.date.isoformat()
    return f"{settings.base_url}/archive/{topic}/{day}?lang={digest.language}"


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


@dataclass(frozen=True)
class Mailing:
    """Everything a send job needs about one digest, prepared once per process."""

    digest_id: int
    topic_slug: str
    day: str
    language: str
    template: MessageTemplate
    signer: DkimSigner | None


@lru_cache(maxsize=16)
def _mailing(db: Database, settings: Settings, digest_id: int) -> Mailing:
    with db.session() as session:
        digest = session.get_one(Digest, digest_id)
        rendered = render_email(settings, digest)
        topic = digest.topic
        domain = settings.sender_domain
        envelope = DigestEnvelope(
            from_address=settings.from_address,
            from_name=settings.from_name,
            list_id=f"{topic.name} digest <{topic.slug}.{domain}>",
            feedback_id=f"{digest.id}:{topic.slug}:{digest.language}:newsletter",
            domain=domain,
        )
        return Mailing(
            digest.id,
            topic.slug,
            digest.date.isoformat(),
            digest.language,
            compile_template(rendered, envelope),
            signer_for(settings),
        )


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


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempts-1), times 0.5..1.5, capped."""
    delay = settings.retry_base_seconds * 2 ** max(0, attempts - 1)
    delay = min(delay, MAX_RETRY_DELAY.total_seconds())
    return timedelta(seconds=delay * random.uniform(0.5, 1.5))


@dataclass
class _Outcomes:
    """The results of one batch, written to the database in one transaction."""

    sent: list[int] = field(default_factory=list)
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
    ) -> None:
        """``tried=False``: handed back unsent, so the claim's attempt is given back."""
        self.rows.append(
            {
                "b_id": delivery_id,
                "b_state": state.value,
                "b_error": error,
                "b_next": next_attempt_at,
                "b_untried": 0 if tried else 1,
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
    )
)


def record_sent(session: Session, domain: str, ids: list[int]) -> None:
    """Mark deliveries sent in one statement per thousand, Message-ID computed in SQL.

    A row may be back in ``pending`` if its lease ran out while it was being sent: it
    went out all the same, so it is recorded rather than sent again.
    """
    same_as_header = (  # template.message_id, in SQL
        literal("<digest-")
        + cast(Delivery.digest_id, String)
        + literal("-")
        + cast(Delivery.subscriber_id, String)
        + literal(f"@{domain}>")
    )
    now = utcnow()
    for start in range(0, len(ids), 1000):
        session.execute(
            update(Delivery)
            .where(
                among(session, Delivery.id, ids[start : start + 1000]),
                Delivery.state.in_(RECORDABLE),
            )
            .values(
                state=DeliveryState.SENT,
                message_id=same_as_header,
                sent_at=now,
                lease_expires_at=None,
                next_attempt_at=None,
                last_error=None,
            )
        )


def _record(session: Session, domain: str, outcomes: _Outcomes) -> None:
    record_sent(session, domain, outcomes.sent)
    if outcomes.rows:
        session.connection().execute(_RECORD, outcomes.rows)
    suppress(session, outcomes.suppressions)


def send_batch(
    db: Database,
    settings: Settings,
    digest_id: int,
    ids: list[int],
    lease_end: datetime,
    transport: Transport,
    journal: AckJournal,
    limiter: RateLimiter | None = None,
) -> SendReport:
    """Send the claimed deliveries ``ids`` (all ``sending``) and record every outcome.

    The outcomes are recorded even when sending stops on an unexpected error, so that
    what went out is not sent again once the lease runs out.
    """
    with db.session() as session:
        digest = session.get_one(Digest, digest_id)
        rows = session.execute(
            select(
                Delivery.id,
                Delivery.attempts,
                Subscriber.id,
                Subscriber.email,
                eligible(digest.topic, digest.language),  # checked again at send time
            )
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(among(session, Delivery.id, ids), Delivery.state == DeliveryState.SENDING)
            .order_by(Delivery.id)
        ).all()
    mailing = _mailing(db, settings, digest_id)
    deadline = time.monotonic() + LEASE_MARGIN * (lease_end - utcnow()).total_seconds()
    outcomes = _Outcomes()
    try:
        return _send_rows(
            settings, mailing, rows, deadline, transport, journal, limiter or Unlimited(), outcomes
        )
    finally:
        with db.session() as session:
            _record(session, mailing.template.domain, outcomes)
        journal.clear()


def _send_rows(
    settings: Settings,
    mailing: Mailing,
    rows: Sequence[Row[tuple[int, int, int, str, bool]]],
    deadline: float,
    transport: Transport,
    journal: AckJournal,
    limiter: RateLimiter,
    outcomes: _Outcomes,
) -> SendReport:
    """Render and transmit ``rows`` in the transport's batches, noting each outcome."""
    link_maker = LinkMaker(settings)
    report = SendReport()
    # rendered messages waiting for the transport, and (delivery id, attempts, address) of each
    batch: list[Outgoing] = []
    waiting: list[tuple[int, int, str]] = []
    last = len(rows) - 1
    for index, (delivery_id, attempts, subscriber_id, address, still_eligible) in enumerate(rows):
        if time.monotonic() > deadline:  # let the rest go back rather than outlive the lease
            for late_id in [row[0] for row in waiting] + [row[0] for row in rows[index:]]:
                outcomes.add(late_id, DeliveryState.PENDING, error="lease ran out", tried=False)
            break
        if not still_eligible:
            outcomes.add(
                delivery_id, DeliveryState.SUPPRESSED, error="no longer eligible at send time"
            )
            report.skipped += 1
        else:
            mid = message_id(mailing.digest_id, subscriber_id, mailing.template.domain)
            try:
                message = mailing.template.render(address, mid, link_maker.links(subscriber_id))
            except UnsafeHeader as error:
                outcomes.add(delivery_id, DeliveryState.FAILED, error=str(error))
                report.failed += 1
                report.errors.append(f"{address}: {error}")
            else:
                if mailing.signer is not None:
                    message = mailing.signer.sign(message)
                name = f"{mailing.topic_slug}-{mailing.day}-{mailing.language}-{delivery_id}"
                batch.append(Outgoing(message, settings.from_address, address, name))
                waiting.append((delivery_id, attempts, address))
        if batch and (len(batch) == transport.batch_size or index == last):
            unreachable = _transmit(
                settings, transport, batch, waiting, journal, limiter, outcomes, report
            )
            batch.clear()
            waiting.clear()
            if unreachable is not None:  # the rest would only wait for the same timeout each
                for late_id, *_ in rows[index + 1 :]:
                    outcomes.add(
                        late_id, DeliveryState.PENDING, error=str(unreachable), tried=False
                    )
                    report.deferred += 1
                break
    return report


def _transmit(
    settings: Settings,
    transport: Transport,
    batch: list[Outgoing],
    waiting: list[tuple[int, int, str]],
    journal: AckJournal,
    limiter: RateLimiter,
    outcomes: _Outcomes,
    report: SendReport,
) -> TransportError | None:
    """Send ``batch`` in one transport call and sort out each message's outcome.

    The accepted ids go to the journal as soon as the call returns. Returns the error
    when the transport was unreachable, so the caller can hold back the rest.
    """
    for _ in batch:
        limiter.wait()
    results = transport.send_many(batch)
    journal.accepted(
        *[row[0] for row, error in zip(waiting, results, strict=True) if error is None]
    )
    unreachable = None
    for (delivery_id, attempts, address), error in zip(waiting, results, strict=True):
        if error is None:
            outcomes.sent.append(delivery_id)
            report.sent += 1
        else:
            _failed(settings, outcomes, report, delivery_id, attempts, address, error)
            if error.unreachable:
                unreachable = error
    return unreachable


def _failed(
    settings: Settings,
    outcomes: _Outcomes,
    report: SendReport,
    delivery_id: int,
    attempts: int,
    address: str,
    error: TransportError,
) -> None:
    report.errors.append(f"{address}: {error}")
    if error.suppress:
        outcomes.add(delivery_id, DeliveryState.SUPPRESSED, error=str(error))
        outcomes.suppressions.append((address, f"bounced: {error}"))
        report.failed += 1
    elif error.permanent or attempts >= settings.max_attempts:
        outcomes.add(delivery_id, DeliveryState.FAILED, error=str(error))
        report.failed += 1
    else:
        when = utcnow() + retry_delay(settings, attempts)
        outcomes.add(delivery_id, DeliveryState.PENDING, error=str(error), next_attempt_at=when)
        report.deferred += 1


_journals: dict[Path, AckJournal] = {}


def process_journal(settings: Settings) -> AckJournal:
    """This process's acknowledgement journal in the configured folder."""
    assert settings.journal_dir is not None
    folder = settings.journal_dir
    if folder not in _journals:
        _journals[folder] = AckJournal(folder)
    return _journals[folder]


def close_journals() -> None:
    """On a clean exit: every entry is recorded, so the journals can go."""
    while _journals:
        _journals.popitem()[1].close()


def send_range(
    db: Database,
    settings: Settings,
    digest_id: int,
    transport: Transport,
    *,
    first_id: int = 0,
    last_id: int | None = None,
    limiter: RateLimiter | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> SendReport:
    """Claim and send batch after batch of the digest's due deliveries in an id range."""
    journal = process_journal(settings)
    if leftover := journal.entries():  # an earlier batch sent these, then failed to record
        with db.session() as session:
            record_sent(session, settings.sender_domain, leftover)
        journal.clear()
    report = SendReport()
    with transport:
        while True:
            ids, lease_end = claim(db, settings, digest_id, first_id=first_id, last_id=last_id)
            if not ids:
                return report
            report.add(
                send_batch(db, settings, digest_id, ids, lease_end, transport, journal, limiter)
            )
            first_id = ids[-1] + 1
            if on_progress:
                on_progress(len(ids))
