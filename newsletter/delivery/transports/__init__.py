"""Transports behind one seam (``base.Transport``): an outbox folder, an SMTP relay (with
pipelining where it is offered), or Postmark's API."""

from __future__ import annotations

from newsletter.config import Settings
from newsletter.delivery.transports.base import (
    OneAtATime,
    Outgoing,
    Transport,
    TransportError,
    classify,
)
from newsletter.delivery.transports.outbox import OutboxTransport
from newsletter.delivery.transports.postmark import PostmarkTransport
from newsletter.delivery.transports.smtp import SmtpTransport

__all__ = [
    "OneAtATime",
    "OutboxTransport",
    "Outgoing",
    "PostmarkTransport",
    "SmtpTransport",
    "Transport",
    "TransportError",
    "classify",
    "make_transport",
]


def make_transport(settings: Settings) -> Transport:
    if settings.transport == "smtp":
        return SmtpTransport(settings)
    if settings.transport == "postmark":
        return PostmarkTransport(settings)
    assert settings.outbox_dir is not None
    return OutboxTransport(settings.outbox_dir)
