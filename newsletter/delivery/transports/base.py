"""Transports take finished messages and hand them on: to files, an SMTP relay or an email API.

Every transport has the same small interface. ``with transport:`` opens it;
``transport.send(bytes, sender, recipient, name)`` sends one message (the notices do)
and raises ``TransportError``; ``transport.send_many(batch)`` sends up to
``transport.batch_size`` ``Outgoing`` messages (the digests do) and returns one outcome
per message, ``None`` or its ``TransportError``. An error is ``permanent`` for a 5xx
(retrying will not help), ``suppress`` when the reply says the recipient does not exist
(the address goes on the suppression list), ``unreachable`` when nothing can go now,
``ambiguous`` when the message was handed over whole and the reply never came (it may
have been delivered).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol, Self


class TransportError(RuntimeError):
    """Sending failed; ``permanent`` means retrying will not help (an SMTP 5xx).

    ``suppress``: the recipient does not exist. ``unreachable``: no message can go now
    (the relay or API is down), so the rest of the batch waits too. ``ambiguous``: the
    connection broke after the whole message went and before the reply, so the relay may
    have accepted it (NEWSLETTER_AMBIGUOUS says whether to try again later).
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        suppress: bool = False,
        unreachable: bool = False,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.suppress = suppress
        self.unreachable = unreachable
        self.ambiguous = ambiguous


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


class Outgoing(NamedTuple):
    """One message and its envelope, in the order of ``Transport.send``'s arguments."""

    message: bytes
    sender: str
    recipient: str
    name: str  # unique per delivery: the outbox's file name


class OneAtATime:
    """``batch_size`` 1, and ``send_many`` as a call of the transport's own ``send``."""

    batch_size = 1
    send: Callable[[bytes, str, str, str], None]

    def send_many(self, batch: Sequence[Outgoing]) -> list[TransportError | None]:
        (outgoing,) = batch
        try:
            self.send(*outgoing)
        except TransportError as error:
            return [error]
        return [None]


class Transport(Protocol):
    batch_size: int  # the most messages ``send_many`` takes in one call

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def send(self, message: bytes, sender: str, recipient: str, name: str) -> None: ...
    def send_many(self, batch: Sequence[Outgoing]) -> list[TransportError | None]: ...
