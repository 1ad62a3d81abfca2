"""The quality gate: what a written digest must be before a reader may open it.

Every writer's digest passes through ``check`` before it is accepted (``build.assemble``);
the Claude writer also runs it on each answer so that it can re-ask once with the
findings. Each finding names its rule, so a failed digest says why in plain words:

- ``language``: a zh-TW digest's prose is Traditional Chinese (quoted item titles and
  names excepted; a quotation of anything else is prose), with
  no Simplified-only character; an en digest's prose is English;
- ``repetition``: no sentence said twice anywhere in the digest (after normalising case,
  width, spacing and punctuation; a sentence contained in a longer one counts too);
- ``overlap``: no two highlights share an item or a story;
- ``highlights``: 1-3 highlights, each naming an outlet it rests on at most once (the
  email lists them on the highlight's citation line);
- ``key_points``: 3-5 key points;
- ``length``: each section within its bounds, the whole 50-5,000 words (each CJK
  character counts as a word), the subject 10-78 characters;
- ``template``: no content-free fill-in sentence ("check what it changes for you");
- ``selection``: a digest written after the day's primary-language one keeps its
  highlights: the same stories, in the same order, citing the same items.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

from newsletter.digest.language import (
    is_chinese,
    is_english,
    simplified_characters,
    unquoted,
    word_count,
)
from newsletter.digest.schema import WrittenDigest
from newsletter.digest.subject import subject_line
from newsletter.digest.writer import WriteRequest

MAX_HIGHLIGHTS = 3
KEY_POINTS = (3, 5)
WHOLE_WORDS = (50, 5000)
SUBJECT_CHARS = (10, 78)
# The most words (a CJK character is one) a section's single entry may have.
MAX_WORDS = {
    "summary": 90,
    "trends": 300,
    "highlight title": 40,
    "highlight body": 450,
    "analysis": 350,
    "key point": 100,
    "further thinking": 150,
}
MAX_ENTRIES = {"summary": 3, "developers": 4, "everyday_users": 3}
MIN_REPEAT_CHARS = 8  # normalised; shorter fragments ("Yes.") may recur
_NOT_TEXT = re.compile(r"[\W_]+")
_TEMPLATES = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"check what it changes",
        r"\bwhat\b.{0,300}\bmeans for you\b",
        r"\bstay tuned\b",
        r"\bremains to be seen\b",
        r"\bonly time will tell\b",
        r"\bit is worth noting\b",
        r"\bthe most reported story\b",
        r"\bthe day's coverage cent(?:re|er)s on\b",
        r"\bno source today\b",
        r"對你的意義",
        r"對你的整合有何影響",
        r"報導最多的新聞",
        r"本日報導聚焦於",
        r"今日來源中沒有",
        r"拭目以待",
        r"敬請期待",
        r"值得持續關注",
    )
)


@dataclass(frozen=True)
class Finding:
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


@dataclass(frozen=True)
class GateContext:
    """What the gate knows besides the digest: the day, and each item's outlet and story."""

    topic_name: str
    date: date
    language: str
    outlets: Mapping[int, str] = field(default_factory=dict)
    stories: Mapping[int, int] = field(default_factory=dict)
    # Names the news is about (the topic's keywords): never counted as an outlet's name,
    # since "Anthropic" the outlet and Anthropic the company are the same word.
    subjects: tuple[str, ...] = ()
    # The day's digest in the primary language, whose story selection this one keeps.
    primary: WrittenDigest | None = None
    # The items' titles: a quotation of one keeps its own language.
    titles: tuple[str, ...] = ()


def _newsmakers(request: WriteRequest) -> list[str]:
    """Outlets that are in their own news ("Allianz" announcing a deal with Allianz in
    the title): their name is the story's subject too, so it may recur."""
    return [
        item.outlet
        for story in request.stories
        for item in story.items
        if item.outlet.casefold() in item.title.casefold()
    ]


def context_for(request: WriteRequest) -> GateContext:
    return GateContext(
        topic_name=request.topic_name,
        date=request.date,
        language=request.language,
        outlets={item.id: item.outlet for story in request.stories for item in story.items},
        stories={
            item.id: number for number, story in enumerate(request.stories) for item in story.items
        },
        subjects=(*request.keywords, *_newsmakers(request)),
        primary=request.primary,
        titles=tuple(item.title for story in request.stories for item in story.items),
    )


class QualityError(ValueError):
    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(describe(findings))
        self.findings = findings


def describe(findings: list[Finding]) -> str:
    return "the digest fails the quality gate: " + "; ".join(map(str, findings))


def _prose(written: WrittenDigest) -> Iterator[tuple[str, str]]:
    """(where, text) for every piece of prose a reader sees."""
    for number, sentence in enumerate(written.summary, 1):
        yield f"summary {number}", sentence
    yield "trends", written.trends
    for number, highlight in enumerate(written.highlights, 1):
        yield f"highlight {number} title", highlight.title
        yield f"highlight {number}", highlight.body
    for key in ("industry", "competition", "market"):
        yield f"analysis {key}", getattr(written.analysis, key)
    for number, point in enumerate(written.key_points, 1):
        yield f"key point {number}", point.text
    for key in ("developers", "everyday_users"):
        for number, bullet in enumerate(getattr(written.further_thinking, key), 1):
            yield f"{key.replace('_', ' ')} {number}", bullet


def check(written: WrittenDigest, context: GateContext) -> list[Finding]:
    """Every way ``written`` falls short; empty when it may be sent."""
    return [
        *_language(written, context),
        *_selection(written, context),
        *_repetition(written),
        *_overlap(written, context),
        *_highlights(written, context),
        *_counts(written),
        *_lengths(written, context),
        *_templates(written),
    ]


def _snippet(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


MAX_NAME_WORDS = 6  # a quotation this short is a name or a term, not prose


def _exempt_quotation(titles: set[str]) -> Callable[[str], bool]:
    """Which quotations keep their own language: an item's title (or part of one), or a
    name. A longer quotation is prose and must be in the digest's language."""

    def exempt(quoted: str) -> bool:
        normal = normal_form(quoted)
        if word_count(quoted) <= MAX_NAME_WORDS:
            return True
        return bool(normal) and any(normal in title for title in titles)

    return exempt


def _without_names(text: str, names: Iterable[str], titles: set[str]) -> str:
    """``text`` without its quoted titles and names, and without outlet names (proper
    names keep their script)."""
    text = unquoted(text, _exempt_quotation(titles))
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return text


def _language(written: WrittenDigest, context: GateContext) -> Iterator[Finding]:
    chinese = context.language.startswith("zh")
    names = set(context.outlets.values())
    titles = {normal_form(title) for title in context.titles}
    for where, text in _prose(written):
        own = _without_names(text, names, titles)
        if not own.strip():
            continue
        if chinese:
            if not is_chinese(own):
                yield Finding("language", f"{where} is not Chinese: “{_snippet(text)}”")
            simplified = simplified_characters(own)
            if simplified:
                yield Finding(
                    "language",
                    f"{where} uses Simplified characters ({''.join(simplified[:10])})",
                )
        elif not is_english(own):
            yield Finding("language", f"{where} is not English: “{_snippet(text)}”")


def _selection(written: WrittenDigest, context: GateContext) -> Iterator[Finding]:
    """A digest written after the primary one keeps its highlights and their citations."""
    if context.primary is None:
        return
    want = [sorted(set(h.item_ids)) for h in context.primary.highlights]
    have = [sorted(set(h.item_ids)) for h in written.highlights]
    if want != have:
        yield Finding(
            "selection",
            f"the highlights cite {have}; the primary-language digest's cite {want} "
            "(keep its stories, order and item ids)",
        )


def normal_form(sentence: str) -> str:
    """``sentence`` compared: NFKC, case-folded, letters and digits only."""
    return _NOT_TEXT.sub("", unicodedata.normalize("NFKC", sentence).casefold())


_OPENING, _CLOSING = "「『“‘", "」』”’"
_ENDS = ".!?。！？"


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences: at a full stop followed by a space (so "Claude.ai" and
    "99.7" end none) or at a CJK full stop, never inside a quotation (a headline quoted
    with its "!" stays whole)."""
    found, start, depth = [], 0, 0
    for index, char in enumerate(text):
        if char in _OPENING:
            depth += 1
        elif char in _CLOSING:
            depth = max(0, depth - 1)
        elif char in _ENDS and depth == 0:
            following = text[index + 1 : index + 2]
            if char in "。！？" or not following or following.isspace():
                end = index + 1
                while end < len(text) and text[end] in _CLOSING + "\"')":
                    end += 1
                found.append(text[start:end])
                start = end
    found.append(text[start:])
    return [part.strip() for part in found if part.strip()]


class Ledger:
    """What the digest has said so far, to tell a repeat: the same sentence once
    normalised, or (both long enough, neither a headline) one inside the other.

    Writers use it to never say a thing twice; the gate uses it to find repeats.
    """

    def __init__(self) -> None:
        self.said: list[tuple[str, bool, str]] = []  # (normal form, is a title, where)

    def repeat_of(self, sentence: str, *, title: bool = False) -> str | None:
        """Where ``sentence`` was said before, or None."""
        normal = normal_form(sentence)
        if len(normal) < MIN_REPEAT_CHARS:
            return None
        for earlier, was_title, where in self.said:
            if normal == earlier:
                return where
            long_enough = min(len(normal), len(earlier)) >= 2 * MIN_REPEAT_CHARS
            if (
                long_enough
                and not (title or was_title)
                and (normal in earlier or earlier in normal)
            ):
                return where
        return None

    def fresh(self, text: str, *, title: bool = False) -> bool:
        parts = [text] if title else sentences(text)
        return all(self.repeat_of(part, title=title) is None for part in parts)

    def note(self, sentence: str, where: str = "", *, title: bool = False) -> None:
        self.said.append((normal_form(sentence), title, where))

    def take(self, text: str, *, title: bool = False) -> bool:
        """Record ``text`` as said, unless it repeats something; True if recorded."""
        if not self.fresh(text, title=title):
            return False
        for part in [text] if title else sentences(text):
            self.note(part, title=title)
        return True


def _repetition(written: WrittenDigest) -> Iterator[Finding]:
    ledger = Ledger()
    for where, text in _prose(written):
        title = where.endswith("title")
        for sentence in [text] if title else sentences(text):
            earlier = ledger.repeat_of(sentence, title=title)
            if earlier is not None:
                yield Finding("repetition", f"{where} repeats {earlier}: “{_snippet(sentence)}”")
            ledger.note(sentence, where, title=title)


def _overlap(written: WrittenDigest, context: GateContext) -> Iterator[Finding]:
    highlights = written.highlights
    for left in range(len(highlights)):
        for right in range(left + 1, len(highlights)):
            a, b = highlights[left], highlights[right]
            shared = set(a.item_ids) & set(b.item_ids)
            stories = {context.stories.get(i) for i in a.item_ids} & {
                context.stories.get(i) for i in b.item_ids
            }
            stories.discard(None)
            if shared or stories:
                why = f"items {sorted(shared)}" if shared else "a story"
                yield Finding(
                    "overlap", f"highlights {left + 1} and {right + 1} share {why}; merge them"
                )


def _about_subject(outlet: str, subjects: tuple[str, ...]) -> bool:
    folded = outlet.casefold()
    return any(word.casefold() in folded for word in subjects if word)


def _highlights(written: WrittenDigest, context: GateContext) -> Iterator[Finding]:
    if len(written.highlights) > MAX_HIGHLIGHTS:
        yield Finding(
            "highlights",
            f"{len(written.highlights)} highlights; at most {MAX_HIGHLIGHTS}, "
            "each merging one story's sources",
        )
    subjects = (context.topic_name, *context.subjects)
    for number, highlight in enumerate(written.highlights, 1):
        outlets = list(
            dict.fromkeys(context.outlets[i] for i in highlight.item_ids if i in context.outlets)
        )
        nameable = [o for o in outlets if not _about_subject(o, subjects)]
        body = highlight.body.casefold()
        named = [o for o in nameable if o.casefold() in body]
        for outlet in named:
            times = body.count(outlet.casefold())
            if times > 1:
                yield Finding(
                    "highlights", f"highlight {number} names {outlet} {times} times; name it once"
                )


def _counts(written: WrittenDigest) -> Iterator[Finding]:
    low, high = KEY_POINTS
    if not low <= len(written.key_points) <= high:
        yield Finding("key_points", f"{len(written.key_points)} key points; {low}-{high} wanted")
    for key, most in MAX_ENTRIES.items():
        entries = written.summary if key == "summary" else getattr(written.further_thinking, key)
        if len(entries) > most:
            yield Finding("length", f"{key} has {len(entries)} entries; at most {most}")


def _bound(where: str) -> int:
    if where.startswith("highlight"):
        return MAX_WORDS["highlight title" if where.endswith("title") else "highlight body"]
    if where.startswith(("developers", "everyday users")):
        return MAX_WORDS["further thinking"]
    for key, most in MAX_WORDS.items():
        if where.startswith(key):
            return most
    return MAX_WORDS["analysis"]


def _lengths(written: WrittenDigest, context: GateContext) -> Iterator[Finding]:
    total = 0
    for where, text in _prose(written):
        words = word_count(text)
        total += words
        if words > _bound(where):
            yield Finding("length", f"{where} has {words} words; at most {_bound(where)}")
    low, high = WHOLE_WORDS
    if not low <= total <= high:
        yield Finding("length", f"the digest has {total} words; {low}-{high} wanted")
    subject = subject_line(context.topic_name, context.date, context.language, written)
    low, high = SUBJECT_CHARS
    if not low <= len(subject) <= high:
        yield Finding(
            "length", f"the subject “{subject}” has {len(subject)} characters; {low}-{high} wanted"
        )


def _templates(written: WrittenDigest) -> Iterator[Finding]:
    for where, text in _prose(written):
        for pattern in _TEMPLATES:
            if pattern.search(unquoted(text)):
                yield Finding(
                    "template", f"{where} is a content-free template sentence: “{_snippet(text)}”"
                )
                break
