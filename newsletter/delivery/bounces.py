"""Which bounce and complaint notifications from the email API put an address on the list."""

from __future__ import annotations

from typing import Any

from newsletter.addresses import normalize_email
from newsletter.errors import InputError

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
