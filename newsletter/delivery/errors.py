"""How a transport reports failure, and how SMTP-style replies map to it."""

from __future__ import annotations

import re


class TransportError(RuntimeError):
    """Sending failed; ``permanent`` means retrying will not help (an SMTP 5xx).

    ``suppress``: the recipient does not exist. ``unreachable``: no message can go now
    (the relay or API is down), so the rest of the batch waits too.
    """

    def __init__(
        self, message: str, *, permanent: bool, suppress: bool = False, unreachable: bool = False
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.suppress = suppress
        self.unreachable = unreachable


_ENHANCED_STATUS = re.compile(rb"^\s*([245])\.(\d{1,3})\.(\d{1,3})")
RECIPIENT_CODES = frozenset({550, 551, 553})


def classify(code: int, reply: bytes, *, at_recipient: bool) -> TransportError:
    """The error for an SMTP reply: 4xx transient; 5xx permanent, suppressing on bad mailboxes.

    A recipient refused with 550/551/553, or any 5xx with an enhanced status 5.1.x
    (bad destination mailbox or address), is a recipient error (RFC 3463).
    """
    text = reply.decode("utf-8", "replace")
    enhanced = _ENHANCED_STATUS.match(reply)
    bad_mailbox = enhanced is not None and enhanced.group(1, 2) == (b"5", b"1")
    permanent = code >= 500
    suppress = permanent and (bad_mailbox or (at_recipient and code in RECIPIENT_CODES))
    return TransportError(f"{code} {text}", permanent=permanent, suppress=suppress)
