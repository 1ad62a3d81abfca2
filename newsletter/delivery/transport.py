"""Transports take finished messages and hand them on: to files, an SMTP relay or an email API.

Every transport has the same small interface. ``with transport:`` opens it;
``transport.send(bytes, sender, recipient, name)`` sends one message (the notices do)
and raises ``TransportError``; ``transport.send_many(batch)`` sends up to
``transport.batch_size`` ``Outgoing`` messages (the digests do) and returns one outcome
per message, ``None`` or its ``TransportError``. An error is ``permanent`` for a 5xx
(retrying will not help), ``suppress`` when the reply says the recipient does not exist
(the address goes on the suppression list), ``unreachable`` when nothing can go now.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, Self

from newsletter.config import Settings
from newsletter.delivery.errors import TransportError, classify
from newsletter.delivery.outgoing import OneAtATime, Outgoing
from newsletter.delivery.postmark import PostmarkTransport
from newsletter.delivery.smtp import SmtpTransport

__all__ = [
    "OutboxTransport",
    "Outgoing",
    "PostmarkTransport",
    "SmtpTransport",
    "Transport",
    "TransportError",
    "classify",
    "make_transport",
]


class Transport(Protocol):
    batch_size: int  # the most messages ``send_many`` takes in one call

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def send(self, message: bytes, sender: str, recipient: str, name: str) -> None: ...
    def send_many(self, batch: Sequence[Outgoing]) -> list[TransportError | None]: ...


class OutboxTransport(OneAtATime):
    """Writes each message as ``NAME.eml`` into a folder (the embedded default)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> Self:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, message: bytes, sender: str, recipient: str, name: str) -> None:
        partial = self.folder / f".{name}.eml.partial"
        partial.write_bytes(message)
        partial.replace(self.folder / f"{name}.eml")


def make_transport(settings: Settings) -> Transport:
    if settings.transport == "smtp":
        return SmtpTransport(settings)
    if settings.transport == "postmark":
        return PostmarkTransport(settings)
    assert settings.outbox_dir is not None
    return OutboxTransport(settings.outbox_dir)
