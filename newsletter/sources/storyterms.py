"""What a news item says, as tokens that match across outlets, languages and number styles.

Story clustering compares items by the tokens this module gives them:

- ``n:`` amounts by value: "$2.5B", "2.5 billion dollars" and "25億美元" are all ``n:2.5e+09``;
  "NT$1.2 trillion" and "1.2 兆元" are ``n:1.2e+12``; ``p:`` the same for percentages;
- ``e:`` names from the bilingual table in ``aliases.toml`` (輝達 and Nvidia are ``e:nvidia``),
  ``t:`` news terms from the same table (晶片 and chips are ``t:chip``);
- ``v:`` a name with its version ("GPT-5.2", "Gemini 3"): the name alone is often in every
  item of a topic, the name and version only in one story's;
- ``w:`` other Latin words, cut to their first six letters (a blunt stemmer that matches
  "regulators" with "regulatory"), with two-word spellings folded into the day's
  one-word spelling ("health care" / "healthcare");
- ``z:`` overlapping pairs of Chinese characters, since Chinese has no spaces and a
  pair is the commonest word length.

A Chinese item also gets its words' English senses (``glosses``, CC-CEDICT) as ``w:``
and ``t:`` tokens, kept apart in ``ItemTerms.glossed``: they let it meet an English
report on plain words ("廣告" and "advertisement").

Only ``z:`` tokens are language-bound; the others can match between an English and a
Chinese report of the same story.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from newsletter.sources import glosses
from newsletter.sources.normalize import without_aggregator_text

TITLE_WEIGHT = 2
GLOSS_WEIGHT = 1.0
"""What the senses of one Chinese word count for in all, however many they are."""
STEM_CHARS = 6
MIN_COMPOUND_CHARS = 6
CJK_SHARE = 1 / 3
"""An item is Chinese when its Chinese characters are at least this share of its Latin
letters (one character carries about as much as a short word)."""

_SCALE = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "tn": 1e12,
    "trillion": 1e12,
}
_CJK_SCALE = {"十": 10.0, "百": 100.0, "千": 1e3, "萬": 1e4, "億": 1e8, "兆": 1e12}
_CURRENCY_BEFORE = r"(?:(?:us|nt|hk|a|c|s|t)?\$|€|£|¥|usd|eur|twd|rmb|新台幣|台幣)"
_CURRENCY_AFTER = (
    r"(?:\s?(?:dollars|euros|pounds|yuan|won|yen)\b"
    r"|美元|歐元|英鎊|日圓|日元|韓元|人民幣|新台幣|台幣|元)"
)
_AMOUNT = re.compile(
    rf"{_CURRENCY_BEFORE}?\s?(?<![a-z0-9.])(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<word>thousand|million|billion|trillion|mn|bn|tn)\b"
    r"|(?P<letter>[kmbt])(?![a-z0-9])"
    r"|\s?(?P<cjk>[十百千]?[萬億兆]+)(?P<rest>\d+)?)?"
    r"(?:\s?(?P<pct>%|percent\b|per cent\b))?"
    rf"{_CURRENCY_AFTER}?"
    r"(?![a-z0-9])"
)
_UNIT = re.compile(r"(\d)(gw|mw|kw|gb|tb|x|nm)(?![a-z0-9])")
"""Units glued to a number ("6GW", "3nm") are split off so that the number reads alone."""
_CJK_ONLY_AMOUNT = re.compile(rf"(?<![\d.])(?P<cjk>[十百千][萬億兆]){_CURRENCY_AFTER}?")
_VERSIONED = re.compile(
    r"(?<![a-z0-9.])([a-z][a-z0-9]*)\s?(\d{1,3}(?:\.\d+)?)(?![\d.,]*\d)(?![a-z0-9%])"
)
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:['.][a-z0-9]+)*")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or that the this to "
    "was were will with new now over after about more than how why what who you your our "
    "says said report reports reported reportedly his her their they them he she we us "
    "not no but also just can could would should may might been being do does did up out "
    "off all any some one two three first last next year years today week day month "
    "which when where while there here so if amid per via s t top nearly almost around "
    "under least most only since until before than".split()
)


@dataclass(frozen=True)
class ItemTerms:
    counts: Counter[str]
    chinese: bool
    companies: frozenset[str]
    """The companies the item names, directly or through a product or a person."""
    glossed: Counter[str]
    """The English senses of its Chinese words (``glosses``), as Latin tokens: kept apart
    from ``counts`` because they only serve to compare it with English reports (two
    Chinese reports already compare by their characters)."""


@dataclass(frozen=True)
class _Table:
    """The alias table as lookups: Latin spellings by their words, Chinese by characters."""

    latin: dict[tuple[str, ...], str]
    chinese: dict[str, str]
    longest_latin: int
    longest_chinese: int
    company: dict[str, str]
    """Token -> the company it stands for (``e:claude`` -> ``anthropic``)."""


@cache
def _table() -> _Table:
    raw = tomllib.loads(
        resources.files("newsletter.sources").joinpath("aliases.toml").read_text("utf-8")
    )
    latin: dict[tuple[str, ...], str] = {}
    chinese: dict[str, str] = {}
    company: dict[str, str] = {}
    sections = (("companies", "e:"), ("products", "e:"), ("entities", "e:"), ("terms", "t:"))
    for section, prefix in sections:
        for key, value in raw[section].items():
            spellings = value["spellings"] if isinstance(value, dict) else value
            if section == "companies":
                company[prefix + key] = key
            elif section == "products":
                company[prefix + key] = value["of"]
            for spelling in [key.replace("_", " "), *spellings]:
                normal = _normal(spelling)
                if _CJK_RUN.fullmatch(normal):
                    chinese.setdefault(normal, prefix + key)
                elif _CJK_RUN.search(normal):
                    raise ValueError(f"aliases.toml: {spelling!r} mixes Chinese and Latin")
                else:
                    latin.setdefault(tuple(_LATIN_WORD.findall(normal)), prefix + key)
    return _Table(
        latin,
        chinese,
        max(map(len, latin)),
        max(map(len, chinese)),
        company,
    )


def _normal(text: str) -> str:
    """Full-width forms folded (ＮＴ＄１２０ -> nt$120), lower case, feed boilerplate and
    addresses out, dashes as spaces."""
    text = without_aggregator_text(unicodedata.normalize("NFKC", text).lower())
    return _UNIT.sub(r"\1 \2", re.sub(r"[-‐‑‒–—_/]", " ", text))


def _value(match: re.Match[str]) -> float:
    value = float(match["num"].replace(",", ""))
    if match["word"]:
        value *= _SCALE[match["word"]]
    elif match["letter"]:
        value *= _SCALE[match["letter"]]
    elif match["cjk"]:
        value *= _cjk_scale(match["cjk"])
        if match["rest"]:  # 1萬4000
            value += float(match["rest"])
    return value


def _cjk_scale(units: str) -> float:
    scale = 1.0
    for unit in units:
        scale *= _CJK_SCALE[unit]
    return scale


def _amounts(text: str, tokens: list[str]) -> str:
    """Add a token per amount in ``text``; return the text with the amounts blanked."""

    def amount(match: re.Match[str]) -> str:
        kind = "p:" if match["pct"] else "n:"
        tokens.append(f"{kind}{_value(match):.4g}")
        return " "

    def cjk_only(match: re.Match[str]) -> str:
        tokens.append(f"n:{_cjk_scale(match['cjk']):.4g}")
        return " "

    return _CJK_ONLY_AMOUNT.sub(cjk_only, _AMOUNT.sub(amount, text))


def _latin_aliases(words: list[str], tokens: list[str]) -> list[str]:
    """Add a token per alias among ``words`` (longest first); return the other words."""
    table = _table()
    rest = []
    index = 0
    while index < len(words):
        for length in range(min(table.longest_latin, len(words) - index), 0, -1):
            key = tuple(words[index : index + length])
            found = table.latin.get(key) or table.latin.get((*key[:-1], key[-1].removesuffix("'s")))
            if found:
                tokens.append(found)
                index += length
                break
        else:
            rest.append(words[index])
            index += 1
    return rest


def _chinese_aliases(run: str, tokens: list[str]) -> list[str]:
    """Add a token per alias in a run of Chinese characters; return the pieces between."""
    table = _table()
    pieces = []
    start = index = 0
    while index < len(run):
        for length in range(min(table.longest_chinese, len(run) - index), 0, -1):
            found = table.chinese.get(run[index : index + length])
            if found:
                tokens.append(found)
                pieces.append(run[start:index])
                index += length
                start = index
                break
        else:
            index += 1
    pieces.append(run[start:])
    return [piece for piece in pieces if piece]


def _stem(word: str) -> str:
    """Crude stem by truncation; words with digits (versions, model names) stay whole."""
    if any(char.isdigit() for char in word):
        return word
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word[:STEM_CHARS]


def _fold_compounds(words: list[str], vocabulary: set[str]) -> list[str]:
    """Join two neighbours whose concatenation is a word of the day ("health care")."""
    folded: list[str] = []
    index = 0
    while index < len(words):
        if index + 1 < len(words):
            joined = words[index] + words[index + 1]
            if len(joined) >= MIN_COMPOUND_CHARS and joined in vocabulary:
                folded.append(joined)
                index += 2
                continue
        folded.append(words[index])
        index += 1
    return folded


def _bigrams(pieces: list[str]) -> list[str]:
    return [f"z:{piece[i : i + 2]}" for piece in pieces for i in range(len(piece) - 1)]


@dataclass
class _Part:
    """One field of an item (title or summary), split into its kinds of token."""

    known: list[str]
    words: list[str]
    cjk: list[str]
    glossed: Counter[str]
    """Latin tokens of the English senses of its Chinese words, each word counting once."""


def _versions(text: str) -> list[str]:
    return [
        f"v:{name} {number}"
        for name, number in _VERSIONED.findall(text)
        if name not in _STOPWORDS and name not in _SCALE
    ]


def _split(text: str) -> _Part:
    normal = _normal(text)
    known = _versions(normal)
    rest = _amounts(normal, known)
    words = _latin_aliases(_LATIN_WORD.findall(rest), known)
    glued = {token[2:].replace(" ", "") for token in known if token.startswith("v:")}
    words = [w.removesuffix("'s") for w in words if w not in glued]  # "Product9" once
    pieces = [p for run in _CJK_RUN.findall(rest) for p in _chinese_aliases(run, known)]
    return _Part(known, words, _bigrams(pieces), _glossed(pieces))


@cache
def _gloss_tokens(senses: str) -> frozenset[str]:
    tokens: list[str] = []
    rest = _latin_aliases(_LATIN_WORD.findall(senses), tokens)
    tokens += ["w:" + _stem(w) for w in rest if w not in _STOPWORDS and len(w) > 2]
    return frozenset(tokens)


def _glossed(pieces: list[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for piece in pieces:
        for _, senses in glosses.words(piece):
            tokens = _gloss_tokens(senses)
            for token in tokens:
                counts[token] += GLOSS_WEIGHT / len(tokens)
    return counts


def _is_chinese(title: str, summary: str) -> bool:
    text = title + " " + summary
    cjk = sum(1 for char in text if "\u3400" <= char <= "\u9fff")
    latin = sum(1 for char in text if char.isascii() and char.isalpha())
    return cjk > 0 and cjk >= CJK_SHARE * latin


def item_terms(items: Iterable[tuple[str, str]]) -> list[ItemTerms]:
    """Tokens of each (title, summary), the title's counted ``TITLE_WEIGHT`` times."""
    pairs = list(items)
    parts = [(_split(title), _split(summary)) for title, summary in pairs]
    vocabulary = {word for title, summary in parts for word in title.words + summary.words}
    result = []
    for (title_text, summary_text), fields in zip(pairs, parts, strict=True):
        counts: Counter[str] = Counter()
        glossed: Counter[str] = Counter()
        for part, weight in zip(fields, (TITLE_WEIGHT, 1), strict=True):
            words = _fold_compounds(part.words, vocabulary)
            tokens = part.known + part.cjk
            tokens += [
                "w:" + _stem(w)
                for w in words
                if w not in _STOPWORDS and (len(w) > 2 or w.isdigit())
            ]
            for token in tokens:
                counts[token] += weight
            for token, value in part.glossed.items():
                glossed[token] += weight * value
        company = _table().company
        companies = frozenset(company[token] for token in counts if token in company)
        result.append(ItemTerms(counts, _is_chinese(title_text, summary_text), companies, glossed))
    return result
