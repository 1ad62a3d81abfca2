"""Per-recipient values are left as placeholders by the renderers and filled in last.

The placeholders are plain ASCII that MJML, premailer and the transfer encoding leave
alone, so the expensive render happens once per digest and language. Filling them is one
pass over a pre-split template: a value is never scanned again, so a link that happens to
contain a placeholder cannot pull in another recipient's value, and each value is checked
(absolute http(s), no whitespace or control characters) and HTML-escaped for the HTML part.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from html import escape

UNSUBSCRIBE = "[[UNSUBSCRIBE_URL]]"
PREFERENCES = "[[PREFERENCES_URL]]"
PLACEHOLDER = re.compile(r"(\[\[(?:UNSUBSCRIBE|PREFERENCES)_URL\]\])")  # split keeps them
_SAFE_LINK = re.compile(r"https?://[^\s\x00-\x1f\x7f]+\Z")


class PlaceholderError(ValueError):
    """A recipient value that must not be put into an email."""


@dataclass(frozen=True)
class RecipientLinks:
    unsubscribe: str
    preferences: str

    def __post_init__(self) -> None:
        for name in ("unsubscribe", "preferences"):
            if not _SAFE_LINK.match(getattr(self, name)):
                raise PlaceholderError(
                    f"the {name} link must be an absolute http(s) URL without spaces"
                )

    def values(self) -> dict[str, str]:
        return {UNSUBSCRIBE: self.unsubscribe, PREFERENCES: self.preferences}


@lru_cache(maxsize=16)
def _segments(template: str) -> tuple[str, ...]:
    """The template split around its placeholders: literal text at even positions,
    placeholders at odd ones. Cached, so each rendered part is split once."""
    return tuple(PLACEHOLDER.split(template))


def _fill(template: str, values: dict[str, str]) -> str:
    parts = list(_segments(template))
    parts[1::2] = [values[placeholder] for placeholder in parts[1::2]]
    return "".join(parts)


def fill_once(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each key of ``values`` replaced in one pass: an inserted value is
    never scanned for another key (for the few notices; digests use the split cache)."""
    return _pattern(tuple(values)).sub(lambda match: values[match[0]], text)


@lru_cache(maxsize=8)
def _pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, keys)))


def personalize_html(html: str, links: RecipientLinks) -> str:
    values = {key: escape(value, quote=True) for key, value in links.values().items()}
    return _fill(html, values)


def personalize_text(text: str, links: RecipientLinks) -> str:
    return _fill(text, links.values())
