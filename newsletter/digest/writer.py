"""What every digest writer takes and gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from newsletter.digest.schema import Usage, WrittenDigest
from newsletter.sources.dedupe import Story


@dataclass(frozen=True)
class WriteRequest:
    """What to write. ``primary`` is the day's digest already written in another language:
    when set, the writer keeps its story selection (highlights, order, citations) and only
    writes it in ``language``. ``keywords`` are the names the topic is about."""

    topic_name: str
    date: date
    language: str
    stories: list[Story]
    primary: WrittenDigest | None = None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class WriteResult:
    digest: WrittenDigest
    writer: str
    model: str | None
    usage: Usage = field(default_factory=Usage)


class Writer(Protocol):
    name: str
    model: str | None

    def write(self, request: WriteRequest) -> WriteResult: ...


class WriterError(RuntimeError):
    """The writer could not produce a digest; the digest is marked failed, never sent.

    ``usage`` is what the failed attempt spent, so that failures are accounted for too.
    """

    def __init__(self, message: str, usage: Usage | None = None) -> None:
        super().__init__(message)
        self.usage = usage or Usage()
