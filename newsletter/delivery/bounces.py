"""Which bounces and complaints put an address on the suppression list.

Postmark's webhook says itself which bounces are permanent. The bounce mailbox (DSNs and
ARF complaints, ``dsn``) and SES's notifications (``sns``) give a kind: a hard bounce or
a complaint suppresses at once, a soft one (a full mailbox, a policy block, a transient
failure the relay gave up on) only once an address has had NEWSLETTER_SOFT_BOUNCE_LIMIT of
them within ``SOFT_BOUNCE_DAYS``. Each notice is taken once, however often it is read.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.addresses import normalize_email
from newsletter.db import insert_ignoring_conflicts
from newsletter.delivery.suppression import REASON_LENGTH, suppress
from newsletter.errors import InputError
from newsletter.models import BounceEvent, BounceKind, email_hash, utcnow

SOFT_BOUNCE_DAYS = 30

# Postmark bounce types that mean "never mail this address again"; soft bounces and
# auto-replies do not.
PERMANENT_BOUNCES = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated"})


def postmark_suppression(payload: Any) -> tuple[str, str] | None:
    """(address, reason) to suppress for a Postmark webhook payload, or None to ignore it.

    Raises InputError for a payload that is not a Postmark notification.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("RecordType"), str):
        raise InputError("not a Postmark webhook payload")
    kind = payload["RecordType"]
    if kind == "Bounce" and payload.get("Type") in PERMANENT_BOUNCES:
        address, reason = payload.get("Email"), f"bounce: {payload['Type']}"
    elif kind == "SpamComplaint":
        address, reason = payload.get("Email"), "spam complaint"
    elif kind == "SubscriptionChange" and payload.get("SuppressSending") is True:
        address, reason = payload.get("Recipient"), "suppressed at Postmark"
    else:
        return None
    if not isinstance(address, str):
        raise InputError(f"{kind} notification without an address")
    return normalize_email(address), reason


def take_bounce(
    session: Session,
    address: str,
    kind: BounceKind,
    detail: str,
    source: str,
    soft_limit: int,
    hash_key: bytes,
) -> bool:
    """Note one bounce or complaint of ``address``; whether the address is now suppressed.

    ``source`` names the notice (a bounce email's Message-ID, an SNS message id): one
    seen before changes nothing.
    """
    hashed = email_hash(address, hash_key)
    row = {"source": source[:250], "email_hash": hashed, "kind": kind, "detail": detail[:200]}
    if not insert_ignoring_conflicts(session, BounceEvent, [row], ["source"]):
        return False
    if kind != BounceKind.SOFT:
        return bool(
            suppress(
                session, [(address, f"{kind.value}: {detail}"[:REASON_LENGTH])], hash_key=hash_key
            )
        )
    since = utcnow() - timedelta(days=SOFT_BOUNCE_DAYS)
    soft = session.scalar(
        select(func.count())
        .select_from(BounceEvent)
        .where(
            BounceEvent.email_hash == hashed,
            BounceEvent.kind == BounceKind.SOFT,
            BounceEvent.created_at >= since,
        )
    )
    if (soft or 0) < soft_limit:
        return False
    return bool(
        suppress(session, [(address, f"{soft} soft bounces, last: {detail}")], hash_key=hash_key)
    )
