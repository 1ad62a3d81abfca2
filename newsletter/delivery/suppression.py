"""The suppression list: addresses never mailed again (hard bounces, complaints, imports)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newsletter.addresses import normalize_email
from newsletter.db import insert_ignoring_conflicts
from newsletter.errors import InputError
from newsletter.models import Suppression, email_hash

REASON_LENGTH = 200


def suppress(session: Session, entries: Iterable[tuple[str, str]], *, hash_key: bytes) -> int:
    """Add (address, reason) pairs, keeping an existing entry as it is; the number added."""
    rows = {
        email_hash(address, hash_key): {
            "email_hash": email_hash(address, hash_key),
            "email": address.strip(),
            "reason": reason[:REASON_LENGTH],
        }
        for address, reason in entries
    }
    if not rows:
        return 0
    return len(insert_ignoring_conflicts(session, Suppression, list(rows.values()), ["email_hash"]))


def parse_import(lines: Iterable[str], default_reason: str) -> list[tuple[str, str]]:
    """``address`` or ``address,reason`` per line; blank lines and ``#`` comments skipped.

    Refuses the whole file on the first line that is not an address, so an import
    changes nothing unless all of it is good.
    """
    entries = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        address, _, reason = line.partition(",")
        try:
            entries.append((normalize_email(address.strip()), reason.strip() or default_reason))
        except InputError as error:
            raise InputError(f"line {number}: {address.strip()!r}: {error}") from None
    return entries


def list_suppressions(session: Session) -> list[Suppression]:
    return list(session.scalars(select(Suppression).order_by(Suppression.created_at)))


def unsuppress(session: Session, address: str, *, hash_key: bytes) -> bool:
    """Remove an address from the list; whether it was there."""
    result = session.execute(
        delete(Suppression).where(Suppression.email_hash == email_hash(address, hash_key))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
