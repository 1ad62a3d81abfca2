"""What rendering hands to delivery: a message's parts, rendered once per digest and
language (recipients differ only by their links, filled in by the transport path)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str
