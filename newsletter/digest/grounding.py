"""Grounding, enforced in code: a digest rests on, and links to, its ingested items only.

Two checks run on whatever a writer produced, before anything is stored:
- every cited item id exists, and every highlight cites one (``citation_problems``);
- every URL in any text field is the URL of an ingested item; a sentence with another
  is removed (``remove_foreign_urls``, with :mod:`newsletter.digest.scrub`), so an
  instruction or link planted in a feed item cannot reach a reader through the model's
  text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from newsletter.digest.schema import WrittenDigest
from newsletter.digest.scrub import ReaderFilter
from newsletter.digest.writer import WriterError


def citation_problems(written: WrittenDigest, known_ids: Iterable[int]) -> list[str]:
    """What is wrong with the digest's citations, in words the writer can act on."""
    known = set(known_ids)
    problems = []
    for number, highlight in enumerate(written.highlights, 1):
        unknown = [i for i in highlight.item_ids if i not in known]
        if not highlight.item_ids:
            problems.append(f"highlight {number} ({highlight.title!r}) cites no item id")
        elif unknown:
            problems.append(
                f"highlight {number} ({highlight.title!r}) cites item ids that do not exist: "
                f"{unknown}"
            )
    for number, point in enumerate(written.key_points, 1):
        unknown = [i for i in point.item_ids if i not in known]
        if unknown:
            problems.append(f"key point {number} cites item ids that do not exist: {unknown}")
    return problems


def _walk(node: Any, reader: ReaderFilter, removed: list[str]) -> Any:
    if isinstance(node, str):
        return reader.clean(node, removed)
    if isinstance(node, list):  # a list entry that was only a link goes
        return [kept for value in node if (kept := _walk(value, reader, removed)) != ""]
    if isinstance(node, dict):
        return {key: _walk(value, reader, removed) for key, value in node.items()}
    return node


def remove_foreign_urls(
    written: WrittenDigest,
    allowed_urls: Iterable[str],
    counts: Mapping[str, frozenset[int]] | None = None,
) -> tuple[WrittenDigest, list[str]]:
    """The digest with every sentence that links outside ``allowed_urls`` (or instructs
    the model, or miscounts the sources: see :mod:`newsletter.digest.scrub`) removed from
    its text, and what was removed. A list entry left empty is dropped; a field the schema
    needs (a title, a body, a key point) left empty fails the digest."""
    return scrub_digest(written, ReaderFilter.for_items(allowed_urls, counts))


def scrub_digest(written: WrittenDigest, reader: ReaderFilter) -> tuple[WrittenDigest, list[str]]:
    removed: list[str] = []
    cleaned = _walk(written.model_dump(), reader, removed)
    # a highlight or key point whose text went entirely is dropped, like a list entry
    cleaned["highlights"] = [h for h in cleaned["highlights"] if h["title"] and h["body"]]
    cleaned["key_points"] = [p for p in cleaned["key_points"] if p["text"]]
    if cleaned == written.model_dump():
        return written, removed
    try:
        return WrittenDigest.model_validate(cleaned), removed
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors())
        raise WriterError(f"nothing is left of {fields} once unsafe text is removed") from None
