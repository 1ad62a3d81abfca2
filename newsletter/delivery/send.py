"""Send a digest's deliveries: claim a batch, personalise, transmit, record.

A batch is claimed in one statement (pending -> sending with a lease: an ``UPDATE ...
RETURNING`` over the rows a CTE locked with ``FOR UPDATE SKIP LOCKED`` on Postgres, so
two claimers never share a row) before anything is transmitted, and its outcomes are
recorded together in one transaction after (retried on a fresh connection while the
lease lasts, should the database drop it).
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

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery import rows
from newsletter.delivery.dkim_sign import DkimSigner, signer_for
from newsletter.delivery.journal import AckJournal
from newsletter.delivery.ratelimit import RateLimiter, Unlimited
from newsletter.delivery.template import (
    DigestEnvelope,
    MessageTemplate,
    UnsafeHeader,
    compile_template,
    message_id,
)
from newsletter.delivery.transports import Outgoing, Transport, TransportError
from newsletter.delivery.verp import ReturnPath
from newsletter.models import DeliveryState, Digest, utcnow
from newsletter.render.email import render_email
from newsletter.render.links import PublicLinks

MAX_RETRY_DELAY = timedelta(hours=6)
LEASE_MARGIN = 0.8  # stop sending a batch once 80% of its lease has gone


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


@dataclass(frozen=True)
class Mailing:
    """Everything a send job needs about one digest, prepared once per process."""

    digest_id: int
    topic_slug: str
    day: str
    language: str
    template: MessageTemplate
    signer: DkimSigner | None
    return_path: ReturnPath | None  # per-message envelope sender (VERP), when configured

    def sender(self, settings: Settings, delivery_id: int) -> str:
        if self.return_path is None:
            return settings.from_address
        return self.return_path.for_delivery(delivery_id)


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
            return_path_for(settings),
        )


def return_path_for(settings: Settings) -> ReturnPath | None:
    """VERP over SMTP (and into the outbox) when a bounce address is set; an email API
    reports bounces itself (Postmark's webhook, SES's notifications)."""
    if not settings.bounce_address or settings.transport == "postmark":
        return None
    return ReturnPath(settings.bounce_address, settings.secret_key)


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempts-1), times 0.5..1.5, capped."""
    delay = settings.retry_base_seconds * 2 ** max(0, attempts - 1)
    delay = min(delay, MAX_RETRY_DELAY.total_seconds())
    return timedelta(seconds=delay * random.uniform(0.5, 1.5))


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
        readers = rows.claimed_readers(session, digest_id, ids)
    mailing = _mailing(db, settings, digest_id)
    deadline = time.monotonic() + LEASE_MARGIN * (lease_end - utcnow()).total_seconds()
    outcomes = rows.Outcomes()
    try:
        return _send_rows(
            settings,
            mailing,
            readers,
            deadline,
            transport,
            journal,
            limiter or Unlimited(),
            outcomes,
        )
    finally:
        # The rows stay ``sending`` until this commits, and nobody else hands them out
        # before the lease ends: keep trying on fresh connections until then. Should it
        # still fail, the journal keeps the accepted ids, and the sweeper records them
        # before it takes back any lease (see ``journal.replay``).
        until = time.monotonic() + (lease_end - utcnow()).total_seconds()
        db.retrying(lambda session: rows.record(session, settings, outcomes), until=until)
        journal.clear()


def _send_rows(
    settings: Settings,
    mailing: Mailing,
    readers: Sequence[rows.ClaimedReader],
    deadline: float,
    transport: Transport,
    journal: AckJournal,
    limiter: RateLimiter,
    outcomes: rows.Outcomes,
) -> SendReport:
    """Render and transmit to ``readers`` in the transport's batches, noting each outcome."""
    links = PublicLinks(settings)
    report = SendReport()
    # rendered messages waiting for the transport, and (delivery id, attempts, address,
    # Message-ID) of each
    batch: list[Outgoing] = []
    waiting: list[tuple[int, int, str, str]] = []
    last = len(readers) - 1
    for index, reader in enumerate(readers):
        delivery_id, attempts, subscriber_id, link_key, address, still_eligible = reader
        if time.monotonic() > deadline:  # let the rest go back rather than outlive the lease
            for late_id in [row[0] for row in waiting] + [row[0] for row in readers[index:]]:
                outcomes.add(late_id, DeliveryState.PENDING, error="lease ran out", tried=False)
            break
        if not still_eligible:
            outcomes.add(
                delivery_id, DeliveryState.SUPPRESSED, error="no longer eligible at send time"
            )
            report.skipped += 1
        else:
            mid = message_id(
                settings.message_id_key,
                mailing.digest_id,
                subscriber_id,
                link_key,
                mailing.template.domain,
            )
            try:
                recipient_links = links.recipient(subscriber_id, link_key)
                message = mailing.template.render(address, mid, recipient_links)
            except UnsafeHeader as error:
                outcomes.add(delivery_id, DeliveryState.FAILED, error=str(error), permanent=True)
                report.failed += 1
                report.errors.append(f"{address}: {error}")
            else:
                if mailing.signer is not None:
                    message = mailing.signer.sign(message)
                name = f"{mailing.topic_slug}-{mailing.day}-{mailing.language}-{delivery_id}"
                sender = mailing.sender(settings, delivery_id)
                batch.append(Outgoing(message, sender, address, name))
                waiting.append((delivery_id, attempts, address, mid))
        if batch and (len(batch) == transport.batch_size or index == last):
            unreachable = _transmit(
                settings, transport, batch, waiting, journal, limiter, outcomes, report
            )
            batch.clear()
            waiting.clear()
            if unreachable is not None:  # the rest would only wait for the same timeout each
                for late_id, *_ in readers[index + 1 :]:
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
    waiting: list[tuple[int, int, str, str]],
    journal: AckJournal,
    limiter: RateLimiter,
    outcomes: rows.Outcomes,
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
    for (delivery_id, attempts, address, mid), error in zip(waiting, results, strict=True):
        if error is None:
            outcomes.sent.append((delivery_id, mid))
            report.sent += 1
        else:
            _failed(settings, outcomes, report, delivery_id, attempts, address, error)
            if error.unreachable:
                unreachable = error
    return unreachable


def _failed(
    settings: Settings,
    outcomes: rows.Outcomes,
    report: SendReport,
    delivery_id: int,
    attempts: int,
    address: str,
    error: TransportError,
) -> None:
    report.errors.append(f"{address}: {error}")
    if error.ambiguous and settings.ambiguous == "drop":  # at most once: never again
        outcomes.add(delivery_id, DeliveryState.FAILED, error=f"not sent again: {error}")
        report.failed += 1
    elif error.suppress:
        outcomes.add(delivery_id, DeliveryState.SUPPRESSED, error=str(error))
        outcomes.suppressions.append((address, f"bounced: {error}"))
        report.failed += 1
    elif error.permanent or attempts >= settings.max_attempts:
        outcomes.add(delivery_id, DeliveryState.FAILED, error=str(error), permanent=error.permanent)
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


def flush_journal(db: Database, settings: Settings, journal: AckJournal) -> None:
    """Record what an earlier batch of this process sent and then failed to record,
    before this process claims anything again."""
    if leftover := journal.entries():
        until = time.monotonic() + settings.lease_seconds
        db.retrying(lambda session: rows.replayed_as_sent(session, settings, leftover), until=until)
        journal.clear()


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
    flush_journal(db, settings, journal)
    _mailing(db, settings, digest_id)  # render once before any claim: it takes no lease time
    report = SendReport()
    with transport:
        while True:
            ids, lease_end = rows.claim(db, settings, digest_id, first_id=first_id, last_id=last_id)
            if not ids:
                return report
            report.add(
                send_batch(db, settings, digest_id, ids, lease_end, transport, journal, limiter)
            )
            first_id = ids[-1] + 1
            if on_progress:
                on_progress(len(ids))
