"""Readers in and out as CSV: a bulk import (thousands of rows in a few statements) and an
export in the same columns.

A file has a header naming its columns (``email`` required; ``language`` and ``topics``,
slugs separated by spaces or ``;``, optional; other columns are ignored, so an export
imports again), or no header and the columns email, language, topics in that order.
Rows of one address are merged; malformed rows, unknown topics and suppressed addresses
are reported by line and skipped. An address already known keeps its language and state
and gains the topics it did not follow.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from newsletter.addresses import normalize_email
from newsletter.audience import reader_rows
from newsletter.errors import InputError
from newsletter.i18n import SUPPORTED_LANGUAGES
from newsletter.keys import new_link_key
from newsletter.models import (
    Subscriber,
    SubscriberStatus,
    Subscription,
    Suppression,
    Topic,
    email_hash,
    utcnow,
)

CHUNK = 1000
# A spreadsheet runs a cell that starts with one of these as a formula; an address may
# start with "=" or "+" ("=cmd|' /C calc'!A0@example.org" is valid), so the export
# writes such a cell after an apostrophe (OWASP's advice) and the import takes it off.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_COLUMNS = ("email", "language", "state", "topics", "consent_note")
_TOPIC_SEPARATORS = re.compile(r"[\s;,]+")


@dataclass
class Wanted:
    """What the file asks for one address."""

    line: int
    language: str
    topics: set[str]


@dataclass
class ImportReport:
    added: int = 0  # new readers
    merged: int = 0  # known readers who gained topics (or had them all already)
    duplicates: int = 0  # rows merged into an earlier row of the same address
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    to_confirm: list[int] = field(default_factory=list)  # new readers owed a confirmation


def parse(
    file: IO[str], *, topics: list[str], language: str, report: ImportReport
) -> dict[str, Wanted]:
    """The file's addresses, merged; bad rows go to ``report.skipped``."""
    reader = csv.reader(file)
    first = next(reader, None)
    if first is None:
        return {}
    header = [cell.strip().lower() for cell in first]
    if "email" in header:
        columns = {
            name: header.index(name) for name in ("email", "language", "topics") if name in header
        }
        rows: Iterable[list[str]] = reader
        start = 2
    else:
        columns = {"email": 0, "language": 1, "topics": 2}
        rows = [first, *reader]
        start = 1
    wanted: dict[str, Wanted] = {}
    for line, row in enumerate(rows, start=start):
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            index = columns.get(name)
            return _unquoted(row[index].strip()) if index is not None and index < len(row) else ""

        try:
            address = normalize_email(cell("email"))
        except InputError as error:
            report.skipped.append((line, f"{cell('email') or '(empty)'}: {error}"))
            continue
        row_language = cell("language") or language
        if row_language not in SUPPORTED_LANGUAGES:
            report.skipped.append((line, f"{address}: unknown language {row_language!r}"))
            continue
        row_topics = {slug for slug in _TOPIC_SEPARATORS.split(cell("topics")) if slug}
        row_topics |= set(topics)
        if not row_topics:
            report.skipped.append((line, f"{address}: no topic (add a topics column or --topic)"))
            continue
        if address in wanted:
            wanted[address].topics |= row_topics
            report.duplicates += 1
        else:
            wanted[address] = Wanted(line, row_language, row_topics)
    return wanted


def _quoted(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _unquoted(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def _insert_ignoring(session: Session, model: type, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    make = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(make(model).on_conflict_do_nothing(), rows)


def import_readers(
    session: Session,
    file: IO[str],
    *,
    topics: list[str] = (),  # type: ignore[assignment]
    language: str = "en",
    consent_note: str | None = None,
    hash_key: bytes,
) -> ImportReport:
    """Import the file's readers. With ``consent_note`` (how they agreed), new readers
    are confirmed and the note is kept on each; without it they are pending and listed
    in ``to_confirm`` for a confirmation email."""
    if consent_note is not None and not consent_note.strip():
        raise InputError("--consent-note must say how these readers agreed")
    if language not in SUPPORTED_LANGUAGES:
        raise InputError(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}")
    topic_ids = dict(session.execute(select(Topic.slug, Topic.id)).all())
    unknown = [slug for slug in topics if slug not in topic_ids]
    if unknown:
        raise InputError(f"unknown topic(s): {', '.join(unknown)}")
    report = ImportReport()
    wanted = parse(file, topics=list(topics), language=language, report=report)
    for address, want in list(wanted.items()):
        missing = sorted(want.topics - topic_ids.keys())
        if missing:
            report.skipped.append((want.line, f"{address}: unknown topic(s) {', '.join(missing)}"))
            del wanted[address]
    addresses = list(wanted)
    now = utcnow()
    note = consent_note.strip()[:500] if consent_note else None
    for start in range(0, len(addresses), CHUNK):
        chunk = addresses[start : start + CHUNK]
        hashes = {email_hash(address, hash_key): address for address in chunk}
        suppressed = set(
            session.scalars(
                select(Suppression.email_hash).where(Suppression.email_hash.in_(list(hashes)))
            )
        )
        for hashed in suppressed:
            address = hashes[hashed]
            report.skipped.append((wanted[address].line, f"{address}: on the suppression list"))
        chunk = [a for a in chunk if email_hash(a, hash_key) not in suppressed]
        known = dict(
            session.execute(
                select(Subscriber.email, Subscriber.id).where(Subscriber.email.in_(chunk))
            ).all()
        )
        new = [address for address in chunk if address not in known]
        if new:
            session.execute(
                insert(Subscriber),
                [
                    {
                        "email": address,
                        "link_key": new_link_key(),
                        "language": wanted[address].language,
                        "status": SubscriberStatus.CONFIRMED if note else SubscriberStatus.PENDING,
                        "confirmed_at": now if note else None,
                        "consent_note": note,
                        "confirmation_sent_at": None if note else now,
                        "created_at": now,
                    }
                    for address in new
                ],
            )
        ids = dict(
            session.execute(
                select(Subscriber.email, Subscriber.id).where(Subscriber.email.in_(new))
            ).all()
        )
        ids.update(known)
        _insert_ignoring(
            session,
            Subscription,
            [
                {"subscriber_id": ids[address], "topic_id": topic_ids[slug], "created_at": now}
                for address in chunk
                for slug in sorted(wanted[address].topics)
            ],
        )
        report.added += len(new)
        report.merged += len(known)
        if not note:
            report.to_confirm += [ids[address] for address in new]
    report.skipped.sort()
    return report


def export_readers(session: Session, file: IO[str]) -> int:
    """Every reader as a CSV row (``EXPORT_COLUMNS``); how many."""
    writer = csv.writer(file)
    writer.writerow(EXPORT_COLUMNS)
    rows = reader_rows(session)
    for row in rows:
        cells = [row.email, row.language, row.state, " ".join(row.topics), row.consent_note or ""]
        writer.writerow([_quoted(value) for value in cells])
    return len(rows)
