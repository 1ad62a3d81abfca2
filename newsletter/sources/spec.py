"""What the fetch step needs to know about a source, detached from the database row."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceSpec:
    """A source as configured: ``query`` is the kind's own setting (a search query for
    search kinds, the CSS selector for a web page)."""

    id: int
    kind: str
    name: str
    url: str
    query: str | None = None
