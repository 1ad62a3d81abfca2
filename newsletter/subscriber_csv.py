"""Readers in and out as CSV: an operator's import (double opt-in unless they attest
existing consent, which is recorded with each reader) and the export of everyone.

An import never touches a reader who is known already (a returning or departed reader is
left as they are), never adds a suppressed address, and reports every line's fate.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from newsletter.addresses import normalize_email
from newsletter.errors import InputError
from newsletter.i18n import SUPPORTED_LANGUAGES
from newsletter.models import Subscriber, SubscriberStatus, Suppression, Topic, email_hash, utcnow

MAX_LINES = 20_000
CONSENT_MAX = 300  # the rest of the 500 characters kept: who imported, and when
EXPORT_COLUMNS = (
    "email",
    "language",
    "status",
    "paused",
    "topics",
    "joined",
    "confirmed",
    "unsubscribed",
    "consent",
)


class Outcome(StrEnum):
    ADDED = "added"
    DUPLICATE = "duplicate"
    MALFORMED = "malformed"
    SUPPRESSED = "suppressed"
    BAD_LANGUAGE = "bad_language"


@dataclass(frozen=True)
class ImportLine:
    number: int
    address: str
    outcome: Outcome


@dataclass
class ImportReport:
    lines: list[ImportLine] = field(default_factory=list)
    to_confirm: list[int] = field(default_factory=list)  # new pending readers: email them

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.outcome == Outcome.ADDED)

    @property
    def skipped(self) -> int:
        return len(self.lines) - self.added


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() in ("email", "e-mail", "address"):
            continue  # a header line
        yield number, cells


def import_readers(
    session: Session,
    text: str,
    topics: list[Topic],
    *,
    language: str,
    operator: str,
    hash_key: bytes,
    consent: str | None = None,
) -> ImportReport:
    """Add the file's new readers to ``topics``. With ``consent`` (the operator's account
    of how these people agreed) they are confirmed and the account is recorded with each;
    without, they are pending and ``to_confirm`` lists whom to send a confirmation."""
    if not topics:
        raise InputError("choose at least one topic")
    if language not in SUPPORTED_LANGUAGES:
        raise InputError(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}")
    if consent is not None:
        consent = consent.strip()[:CONSENT_MAX]
        if not consent:
            raise InputError("say how and when these readers consented")
    rows = list(_rows(text))
    if len(rows) > MAX_LINES:
        raise InputError(f"at most {MAX_LINES} lines per import")
    now = utcnow()
    record = (
        None
        if consent is None
        else f"imported by {operator} on {now:%Y-%m-%d}; existing consent attested: {consent}"
    )
    report, seen = ImportReport(), set()
    for number, cells in rows:
        raw = cells[0][:320]
        try:
            address = normalize_email(raw)
        except InputError:
            report.lines.append(ImportLine(number, raw, Outcome.MALFORMED))
            continue
        chosen = cells[1] if len(cells) > 1 and cells[1] else language
        if chosen not in SUPPORTED_LANGUAGES:
            outcome = Outcome.BAD_LANGUAGE
        elif address in seen or session.scalar(
            select(Subscriber.id).where(Subscriber.email == address)
        ):
            outcome = Outcome.DUPLICATE
        elif session.scalar(
            select(Suppression.id).where(Suppression.email_hash == email_hash(address, hash_key))
        ):
            outcome = Outcome.SUPPRESSED
        else:
            outcome = Outcome.ADDED
        seen.add(address)
        report.lines.append(ImportLine(number, address, outcome))
        if outcome != Outcome.ADDED:
            continue
        reader = Subscriber(
            email=address, language=chosen, topics=list(topics), consent_note=record
        )
        if consent is not None:
            reader.status, reader.confirmed_at = SubscriberStatus.CONFIRMED, now
        else:
            reader.status, reader.confirmation_sent_at = SubscriberStatus.PENDING, now
        session.add(reader)
        session.flush()
        if consent is None:
            report.to_confirm.append(reader.id)
    return report


def export_readers(session: Session) -> Iterator[str]:
    """Every reader as CSV lines (a header first), read a thousand at a time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")

    def line(values: tuple[object, ...]) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow(values)
        return out.getvalue()

    yield line(EXPORT_COLUMNS)
    last_id = 0
    while True:
        batch = session.scalars(
            select(Subscriber)
            .options(selectinload(Subscriber.topics))
            .where(Subscriber.id > last_id)
            .order_by(Subscriber.id)
            .limit(1000)
        ).all()
        if not batch:
            return
        for reader in batch:
            yield line(
                (
                    _cell(reader.email),
                    reader.language,
                    reader.status.value,
                    "yes" if reader.paused else "no",
                    " ".join(topic.slug for topic in reader.topics),
                    f"{reader.created_at:%Y-%m-%dT%H:%M:%SZ}",
                    f"{reader.confirmed_at:%Y-%m-%dT%H:%M:%SZ}" if reader.confirmed_at else "",
                    f"{reader.unsubscribed_at:%Y-%m-%dT%H:%M:%SZ}"
                    if reader.unsubscribed_at
                    else "",
                    _cell(reader.consent_note or ""),
                )
            )
        last_id = batch[-1].id


def _cell(value: str) -> str:
    """Defuse spreadsheet formulas (CSV injection): a cell that starts with = + - @ is
    read as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
