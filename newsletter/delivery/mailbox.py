"""The bounce mailbox: read the DSNs and complaints that came back to our return paths
over POP3 (as listmonk does), take them in, and delete them.

The mailbox behind NEWSLETTER_BOUNCE_ADDRESS is for machines: every message read is
deleted once taken in (an out-of-office reply too, which asks for nothing). Each
message is taken in its own transaction and a notice counts once (``take_bounce``), so a
run cut short (POP3 deletes only at QUIT) reads some messages again harmlessly.
"""

from __future__ import annotations

import logging
import poplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery.bounces import take_bounce
from newsletter.delivery.dsn import read_notice
from newsletter.delivery.verp import ReturnPath
from newsletter.errors import InputError
from newsletter.models import BounceKind, Delivery, Subscriber

log = logging.getLogger(__name__)
MAX_MESSAGES = 2000  # per run; the rest wait for the next
MAX_MESSAGE_BYTES = 2_000_000  # a bounce quoting a whole digest is ~100 KB; more is not one
TIMEOUT = 30.0


@dataclass
class MailboxReport:
    read: int = 0
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    suppressed: int = 0
    ignored: int = 0  # not a DSN or ARF report, or one that asks for nothing
    unmatched: int = 0  # a report naming none of our deliveries (or a forged token)


def connect(settings: Settings) -> poplib.POP3:
    """Log in to NEWSLETTER_BOUNCE_MAILBOX (``pop3s://`` verifies the server's certificate)."""
    url = urlsplit(settings.bounce_mailbox)
    if url.hostname is None or url.username is None:
        raise InputError("NEWSLETTER_BOUNCE_MAILBOX needs a user and a host")
    try:
        if url.scheme == "pop3s":
            context = ssl.create_default_context()
            pop: poplib.POP3 = poplib.POP3_SSL(
                url.hostname, url.port or 995, context=context, timeout=TIMEOUT
            )
        else:
            pop = poplib.POP3(url.hostname, url.port or 110, timeout=TIMEOUT)
        pop.user(unquote(url.username))
        pop.pass_(unquote(url.password or ""))
    except (OSError, poplib.error_proto) as error:
        raise InputError(f"cannot read the bounce mailbox: {error}") from error
    return pop


def fetch_bounces(
    db: Database, settings: Settings, opener: Callable[[Settings], poplib.POP3] = connect
) -> MailboxReport:
    """Read, take in and delete up to ``MAX_MESSAGES`` messages of the bounce mailbox."""
    if not settings.bounce_address:
        raise InputError("set NEWSLETTER_BOUNCE_ADDRESS: bounces are matched by their return path")
    return_path = ReturnPath(settings.bounce_address, settings.secret_key)
    report = MailboxReport()
    pop = opener(settings)
    try:
        _, listing, _ = pop.list()
        for entry in listing[:MAX_MESSAGES]:
            number, size = (int(field) for field in entry.split()[:2])
            if size > MAX_MESSAGE_BYTES:  # never read into memory; not a bounce anyway
                report.read += 1
                report.ignored += 1
            else:
                _, lines, _ = pop.retr(number)
                take_message(db, settings, return_path, b"\r\n".join(lines), report)
            pop.dele(number)
    finally:
        pop.quit()  # commits the deletions
    return report


def take_message(
    db: Database, settings: Settings, return_path: ReturnPath, raw: bytes, report: MailboxReport
) -> None:
    """Take one bounce email in, counting what it was in ``report``."""
    report.read += 1
    try:
        notice = read_notice(raw)
    except (ValueError, TypeError, LookupError, AttributeError) as error:
        # Mail is untrusted input: one the parser chokes on is dropped, not retried forever
        log.warning("an unreadable message in the bounce mailbox: %r", error)
        notice = None
    if notice is None or notice.kind is None:
        report.ignored += 1
        return
    deliveries = sorted(return_path.deliveries_in(notice.text))
    with db.session() as session:
        addresses = dict(
            session.execute(
                select(Delivery.id, Subscriber.email)
                .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                .where(Delivery.id.in_(deliveries))
            ).all()
        )
        if not addresses:
            log.info("a %s notice names none of our deliveries", notice.kind.value)
            report.unmatched += 1
            return
        for delivery_id, address in addresses.items():
            source = f"{notice.source}:{delivery_id}"
            limit = settings.soft_bounce_limit
            key = settings.suppression_key
            if take_bounce(session, address, notice.kind, notice.detail, source, limit, key):
                report.suppressed += 1
    if notice.kind == BounceKind.HARD:
        report.hard += 1
    elif notice.kind == BounceKind.SOFT:
        report.soft += 1
    else:
        report.complaints += 1
