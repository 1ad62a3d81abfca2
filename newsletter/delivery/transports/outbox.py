"""The embedded default: each message becomes a file in a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from newsletter.delivery.transports.base import OneAtATime


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
