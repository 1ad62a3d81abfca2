"""Quotations in another language marked as such, for screen readers and fonts.

A zh-TW digest quotes an English headline where no Chinese report of the story exists
(「Anthropic joins OpenAI's push …」); the quoted words are wrapped in
``<span lang="en">`` so that a screen reader switches voice and a client picks a Latin
font, while the Chinese sentence around them stays ``lang="zh-TW"``.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from newsletter.digest.language import is_chinese, is_english

_QUOTATION = re.compile(r"(「|“)([^」”]+)(」|”)")


def _language_of(text: str) -> str | None:
    if is_english(text):
        return "en"
    if is_chinese(text):
        return "zh-TW"
    return None


def mark_quotations(text: str, language: str) -> Markup:
    """``text`` escaped, its quotations in another language wrapped in a lang span."""
    out: list[str] = []
    end = 0
    for match in _QUOTATION.finditer(text):
        opening, quoted, closing = match.groups()
        spoken = _language_of(quoted)
        out.append(escape(text[end : match.start()]))
        if spoken is not None and spoken.split("-")[0] != language.split("-")[0]:
            out.append(
                Markup('{}<span lang="{}">{}</span>{}').format(opening, spoken, quoted, closing)
            )
        else:
            out.append(escape(match.group(0)))
        end = match.end()
    out.append(escape(text[end:]))
    return Markup("").join(out)
