"""Read a bounce email: a delivery status notification (RFC 3464) or an ARF complaint
(RFC 5965), and what it means for the address it is about.

Both are ``multipart/report`` messages. A DSN's ``message/delivery-status`` part has a
block per recipient with an ``Action`` and a ``Status`` (RFC 3463 codes): a failure with
a 5.1.x status (no such user, no such domain, moved) or 5.2.1 (mailbox disabled) is hard;
any other failure (a full mailbox, a policy block, a 4.x.x the relay gave up on) is soft;
``delayed``, ``delivered`` and ``relayed`` reports ask for nothing. An ARF report's
``Feedback-Type`` of abuse, fraud, virus or other is a complaint; not-spam and
auth-failure ask for nothing.

Which delivery a notice is about comes only from our return path (``verp``) found in it,
in its headers, the report fields or the quoted original: never from the addresses the
notice claims, which anyone could write.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message

from newsletter.models import BounceKind

HARD_STATUS = re.compile(r"^5\.(1\.\d{1,3}|2\.1)$")
COMPLAINTS = frozenset({"abuse", "fraud", "virus", "other"})
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")


@dataclass(frozen=True)
class Notice:
    """What a bounce email says: ``kind`` None when it asks for nothing (a delay warning)."""

    kind: BounceKind | None
    detail: str
    text: str  # every header and report field in it, where the return path is looked for
    source: str  # a stable name for this notice: its Message-ID, else a hash of it


def read_notice(raw: bytes) -> Notice | None:
    """The notice in a bounce email, or None when it is neither a DSN nor an ARF report."""
    message = message_from_bytes(raw, policy=policy.compat32)
    report = _report(message)
    if report is None:
        return None
    report_type = (report.get_param("report-type") or "").lower()
    text = _searchable(message)
    source = (message.get("Message-ID") or "").strip() or hashlib.sha256(raw).hexdigest()
    if report_type == "delivery-status":
        kind, detail = _delivery_status(report)
    elif report_type == "feedback-report":
        kind, detail = _feedback(report)
    else:
        return None
    return Notice(kind, detail, text, f"mailbox:{source}")


def _report(message: Message) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == "multipart/report":
            return part
    return None


def _fields(part: Message) -> list[Message]:
    """The field blocks of a report part (the parser gives them as header-only messages)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = payload if isinstance(payload, str) else ""
    return [
        message_from_bytes(block.encode("utf-8", "surrogateescape"), policy=policy.compat32)
        for block in text.split("\n\n")
    ]


def _delivery_status(report: Message) -> tuple[BounceKind | None, str]:
    worst: tuple[BounceKind | None, str] = (None, "")
    for part in report.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _fields(part)[1:] or _fields(part):  # per-message fields come first
            action = (block.get("Action") or "").strip().lower()
            if action != "failed":
                continue
            found = _STATUS.search(block.get("Status") or "")
            status = found.group(1) if found else ""
            diagnostic = " ".join((block.get("Diagnostic-Code") or "").split())
            detail = f"{status} {diagnostic}".strip() or "failed"
            if HARD_STATUS.match(status):
                return BounceKind.HARD, detail
            worst = (BounceKind.SOFT, detail)
    return worst


def _feedback(report: Message) -> tuple[BounceKind | None, str]:
    for part in report.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        for block in _fields(part):
            kind = (block.get("Feedback-Type") or "").strip().lower()
            if kind:
                return (BounceKind.COMPLAINT if kind in COMPLAINTS else None), f"feedback {kind}"
    return None, "feedback report without a type"


def _searchable(message: Message) -> str:
    """Every header value of every part, the report fields and quoted original headers."""
    lines = []
    for part in message.walk():
        lines += [str(value) for value in part.values()]
        content_type = part.get_content_type()
        if content_type in ("message/delivery-status", "message/feedback-report"):
            for block in _fields(part):
                lines += [str(value) for value in block.values()]
        elif content_type == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                lines.append(payload.decode("utf-8", "replace"))
    return "\n".join(lines)
