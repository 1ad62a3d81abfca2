"""Citations must fit: a cited item shares a salient name or term with what cites it.

An id that exists is not enough: a highlight about one company citing an unrelated item
would put "Sources: Hacker News" under a claim no source makes. The rule is content-word
overlap: the highlight (title and body) or key point and the item (title and summary)
must share at least one word that is not a function word or news boilerplate, compared
case-folded and lightly stemmed (a word of five letters or more also matches a longer
one it begins: "health", "healthcare"); CJK text, which has no spaces, is compared by
character pairs. A citation across scripts (a Chinese digest of English news) cannot
be judged by shared words and is left unchecked.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from functools import cache

from newsletter.digest.schema import WrittenDigest

_WORD = re.compile(r"[^\W_]+(?:[.'’-][^\W_]+)*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
_STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our out over own same she
    should so some such than that the their them then there these they this those through to
    too under until up very was we were what when where which while who whom why will with
    would you your new news says said say report reports reported today week day year announced
    announces launch launches launched company companies update updates first one two three via
    story stories source sources outlet outlets article articles read more according how what
    """.split()
)
PREFIX_CHARS = 5  # the shortest word that may match as the start of a longer one
_CJK_STOP = frozenset({"報導", "新聞", "來源", "今日", "宣布", "表示", "公司"})


def _stem(word: str) -> str:
    for suffix in ("'s", "’s", "ing", "es", "s", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@cache
def content_words(text: str) -> frozenset[str]:
    """The salient words of ``text``: names, terms and numbers, stemmed; CJK bigrams."""
    text = unicodedata.normalize("NFKC", text).casefold()
    words = set()
    for word in _WORD.findall(_CJK.sub(" ", text)):
        if word in _STOPWORDS or (len(word) < 3 and not word.isdigit()):
            continue
        words.add(_stem(word))
    for run in _CJK.findall(text):
        words.update(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(words - _CJK_STOP)


def _mostly_cjk(text: str) -> bool:
    cjk = sum(len(run) for run in _CJK.findall(text))
    return cjk * 2 > sum(char.isalpha() for char in text)


def _same_script(ours: str, theirs: str) -> bool:
    """Whether word overlap can judge a citation: a Chinese highlight of an English item
    says the same in other words, and is not checked (a known limit of the rule)."""
    return _mostly_cjk(ours) == _mostly_cjk(theirs)


def _shares(ours: frozenset[str], theirs: frozenset[str]) -> bool:
    """A word in common, or one that begins the other ("health" and "healthcare")."""
    if ours & theirs:
        return True
    return any(
        len(short) >= PREFIX_CHARS and long.startswith(short)
        for a in ours
        for b in theirs
        for short, long in [sorted((a, b), key=len)]
    )


def unfit_citations(written: WrittenDigest, texts: Mapping[int, str]) -> list[str]:
    """Each citation whose item shares no content word with the text citing it, in words
    the writer can act on. ``texts`` holds each known item's title and summary.

    A word found in most of the items (the topic's own name: "Claude", "Anthropic") is
    not salient: it would make any citation fit.
    """
    frequency = Counter(word for text in texts.values() for word in content_words(text))
    common = {word for word, count in frequency.items() if count > max(2, len(texts) / 2)}
    problems = []
    cites = [
        (f"highlight {number} ({h.title!r})", f"{h.title} {h.body}", h.item_ids)
        for number, h in enumerate(written.highlights, 1)
    ] + [
        (f"key point {number}", point.text, point.item_ids)
        for number, point in enumerate(written.key_points, 1)
    ]
    for where, text, ids in cites:
        words = content_words(text) - common
        unfit = [
            i
            for i in ids
            if i in texts
            and _same_script(text, texts[i])
            and not _shares(words, content_words(texts[i]))
        ]
        if unfit:
            problems.append(
                f"{where} cites item ids {unfit}, which share no name or term with it: "
                "cite only items that report what it says"
            )
    return problems
