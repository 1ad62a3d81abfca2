"""What a send job hands a transport: finished messages, up to its ``batch_size`` a call.

``send_many`` answers with one outcome per message, in order: ``None`` when the message
was accepted, else the ``TransportError`` it met. SMTP and the outbox take one message
per call (``OneAtATime``: an SMTP relay acknowledges each message on its own); an email
API with a batch endpoint takes many in one request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from newsletter.delivery.errors import TransportError


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
