"""Grounding, enforced in code: a digest rests on, and links to, its ingested items only.

Two checks run on whatever a writer produced, before anything is stored:
- every cited item id exists, and every highlight cites one (``citation_problems``);
- every URL in any text field is the URL of an ingested item; others are removed
  (``remove_foreign_urls``), so an instruction or link planted in a feed item cannot
  reach a reader through the model's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from newsletter.digest.schema import WrittenDigest
from newsletter.digest.writer import WriterError
from newsletter.sources.normalize import canonical_url

# A markdown link, then a bare URL: with a scheme, starting "www.", or a host name
# followed by a path ("Claude.ai" alone is a product name, "evil.example/x" a link).
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_BARE_URL = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|\b(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?/)"
    r"[^\s<>\"'`()\[\]{}（）「」『』【】《》〈〉，。、；！？]*",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'\""
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|（\s*）|\[\s*\]|「\s*」|<\s*>")
_SPACE_RUN = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" +([.,;:!?。，、；：！？])")


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


def _url_key(url: str) -> str:
    """The URL compared without its scheme, tracking parameters or fragment."""
    if "://" not in url:
        url = "http://" + url
    return canonical_url(url).split("://", 1)[-1].rstrip("/")


@dataclass(frozen=True)
class _Scrubber:
    allowed: frozenset[str]

    def is_allowed(self, url: str) -> bool:
        return _url_key(url) in self.allowed

    def scrub(self, text: str, removed: list[str]) -> str:
        def link(match: re.Match[str]) -> str:
            if self.is_allowed(match[2]):
                return match[0]
            removed.append(match[2])
            return match[1]

        def bare(match: re.Match[str]) -> str:
            url = match[0].rstrip(_TRAILING)
            tail = match[0][len(url) :]
            if self.is_allowed(url):
                return match[0]
            removed.append(url)
            return tail

        cleaned = _BARE_URL.sub(bare, _MARKDOWN_LINK.sub(link, text))
        if cleaned == text:
            return text
        cleaned = _EMPTY_BRACKETS.sub("", cleaned)
        cleaned = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _SPACE_RUN.sub(" ", cleaned))
        return cleaned.strip()

    def walk(self, node: Any, removed: list[str]) -> Any:
        if isinstance(node, str):
            return self.scrub(node, removed)
        if isinstance(node, list):  # a list entry that was only a link goes
            return [kept for value in node if (kept := self.walk(value, removed)) != ""]
        if isinstance(node, dict):
            return {key: self.walk(value, removed) for key, value in node.items()}
        return node


def remove_foreign_urls(
    written: WrittenDigest, allowed_urls: Iterable[str]
) -> tuple[WrittenDigest, list[str]]:
    """The digest with every URL that is not in ``allowed_urls`` removed from its text,
    and the URLs removed. A list entry left empty is dropped; a field the schema needs
    (a title, a body, a key point) left empty fails the digest."""
    scrubber = _Scrubber(frozenset(_url_key(url) for url in allowed_urls))
    removed: list[str] = []
    cleaned = scrubber.walk(written.model_dump(), removed)
    if not removed:
        return written, []
    try:
        return WrittenDigest.model_validate(cleaned), removed
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors())
        raise WriterError(f"nothing is left of {fields} once foreign links are removed") from None
