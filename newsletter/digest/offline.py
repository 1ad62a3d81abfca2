"""The offline writer: a deterministic, extractive digest built from the stories alone.

It needs no network and no API key, so the whole pipeline runs anywhere. It writes in
the reader's language or not at all: a zh-TW digest takes its sentences from the items
written in Chinese (Taiwanese outlets report most big stories), and where a story has no
Chinese report it quotes the original headline inside a Chinese sentence made of facts
(outlets, count, date). An English digest does the same the other way round. Every
sentence is taken once: a section it cannot fill from facts is shorter, never padded, so
the digest passes the quality gate by construction.

The story selection is the same in every language: the top stories by coverage, or,
when the digest is written after another language's (``WriteRequest.primary``), exactly
the stories that digest chose, in its order.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from itertools import pairwise

from newsletter.digest.language import cjk_count, is_chinese, is_english, latin_words
from newsletter.digest.quality import KEY_POINTS, MAX_HIGHLIGHTS, Ledger, sentences
from newsletter.digest.schema import (
    Analysis,
    FurtherThinking,
    Highlight,
    KeyPoint,
    WrittenDigest,
)
from newsletter.digest.writer import WriteRequest, WriteResult
from newsletter.sources.dedupe import Story, StoryItem
from newsletter.sources.normalize import without_aggregator_text

SENTENCES_PER_ITEM = 2
NEAR_SHARE = 0.7  # of the shorter sentence's terms found in an earlier one: a repeat
MIN_NEAR_TERMS = 6
_STOPWORDS = frozenset("and the for with its into from that this are was has have will".split())
SENTENCES_PER_HIGHLIGHT = 3
MAX_SUMMARY = 3
_COMPETITION = re.compile(
    r"openai|google|gemini|xai|microsoft|meta\b|mistral|deepseek|competi|rival|競爭|競品|追趕",
    re.IGNORECASE,
)
_MARKET = re.compile(
    r"customer|partner|enterprise|revenue|market|deal|price|客戶|合作|企業|營收|市場|價格",
    re.IGNORECASE,
)
_INDUSTRY = re.compile(
    r"regulat|complian|industr|healthcare|health care|insurance|life.sciences|"
    r"法規|合規|法遵|產業|醫療|保險|生技",
    re.IGNORECASE,
)

# Fact frames: every slot is a fact (outlets, counts, dates, quoted headlines).
_FRAMES = {
    "en": {
        "quote": "“{}”",
        "join": ", ",
        "last_join": " and ",
        "date": "{d:%b} {d.day}",
        "headline": "{outlets} reported it on {date} under the headline {title}.",
        "covered": "{title} was reported by {count} outlets.",
        "one_covered": "{outlet} published {title} on {date}.",
        "point": "{outlet} reported {title}.",
        "trends": "{items} on {topic} from {outlets} in the 24 hours to {date}.",
        "trends_top": "{items} on {topic} from {outlets} in the 24 hours to {date}; the "
        "most covered story was carried by {top} of them.",
        "earliest": "The earliest report of the day came from {outlet} on {date}.",
        "outlet_count": "{outlets} reported on {topic} in all.",
        "several": "{outlets} and {more} more",
    },
    "zh-TW": {
        "quote": "「{}」",
        "join": "、",
        "last_join": "與",
        "date": "{d.month} 月 {d.day} 日",
        "headline": "{outlets}於 {date} 報導此事，原標題為{title}。",
        "covered": "{title}共有 {count} 家媒體報導。",
        "one_covered": "{outlet} 於 {date}發布{title}。",
        "point": "{outlet} 報導{title}。",
        "trends": "截至 {date}的 24 小時內，共有 {outlets}媒體發布 {items} {topic} 相關報導。",
        "trends_top": "截至 {date}的 24 小時內，共有 {outlets}媒體發布 {items} {topic} "
        "相關報導，報導最廣的一則新聞有 {top} 家媒體報導。",
        "earliest": "當日最早的報導來自 {outlet}，發布於 {date}。",
        "outlet_count": "共有 {outlets}媒體報導 {topic} 相關消息。",
        "several": "{outlets}等 {total} 家媒體",
        "report": "則",
        "outlet": "家",
    },
}
MAX_NAMED_OUTLETS = 3


def _frames(language: str) -> dict[str, str]:
    return _FRAMES["zh-TW" if language.startswith("zh") else "en"]


def _in_language(text: str, language: str) -> bool:
    return is_chinese(text) if language.startswith("zh") else is_english(text)


class OfflineWriter:
    name = "offline"
    model = None

    def write(self, request: WriteRequest) -> WriteResult:
        return WriteResult(digest=_Draft(request).write(), writer=self.name, model=None)


def select_stories(request: WriteRequest) -> list[Story]:
    """The highlighted stories: the primary digest's, in its order, or the top ones."""
    if request.primary is None:
        return _highlighted(request.stories)
    story_of = {item.id: story for story in request.stories for item in story.items}
    chosen: list[Story] = []
    for highlight in request.primary.highlights:
        story = next((story_of[i] for i in highlight.item_ids if i in story_of), None)
        if story is not None and all(story is not other for other in chosen):
            chosen.append(story)
    return chosen


def _highlighted(stories: list[Story]) -> list[Story]:
    """Highlights merge several sources: the stories more than one outlet told (a story
    told once stays in the key points), or the top story on a day without any."""
    several = [story for story in stories if len(story.outlets) > 1]
    return (several or stories[:1])[:MAX_HIGHLIGHTS]


class _Draft:
    """One digest being written: the sentences already used are never used again."""

    def __init__(self, request: WriteRequest) -> None:
        self.request = request
        self.language = request.language
        self.frames = _frames(request.language)
        self.ledger = Ledger()
        self.terms: list[frozenset[str]] = []  # the words of each sentence said

    # -- pieces -----------------------------------------------------------------------

    def quote(self, text: str) -> str:
        return self.frames["quote"].format(" ".join(text.split()).rstrip("。."))

    def date(self, day: date) -> str:
        return self.frames["date"].format(d=day)

    def outlets(self, names: list[str]) -> str:
        """The outlets, named in full up to three, else the first three and a count."""
        join, last = self.frames["join"], self.frames["last_join"]
        if len(names) > MAX_NAMED_OUTLETS:
            shown = join.join(names[:MAX_NAMED_OUTLETS])
            more = len(names) - MAX_NAMED_OUTLETS
            return self.frames["several"].format(outlets=shown, more=more, total=len(names))
        if len(names) == 1:
            return names[0]
        if self.language.startswith("zh"):
            return join.join(names)
        return join.join(names[:-1]) + last + names[-1]

    def own_items(self, story: Story) -> list[StoryItem]:
        """The story's items written in the digest's language."""
        return [item for item in story.items if _in_language(item.title, self.language)]

    def pool(self, story: Story) -> list[tuple[str, int]]:
        """(sentence, item id) in the digest's language, not yet used, in story order."""
        found = []
        for item in self.own_items(story):
            for sentence in sentences(item.summary)[:SENTENCES_PER_ITEM]:
                if (
                    _in_language(sentence, self.language)
                    and _substantial(sentence)
                    and self.ledger.fresh(sentence)
                ):
                    found.append((sentence, item.id))
        return found

    def take(self, sentence: str, *, title: bool = False, extracted: bool = False) -> bool:
        """Say ``sentence`` unless it was said; a sentence taken from a report also
        unless another report's sentence said nearly the same (most of its words).
        (Fact frames share their words by design: "X reported “T”" is not a repeat.)"""
        terms = _terms(sentence)
        if extracted and any(_near(terms, earlier) for earlier in self.terms):
            return False
        if not self.ledger.take(sentence, title=title):
            return False
        if extracted:
            self.terms.append(terms)
        return True

    # -- sections ---------------------------------------------------------------------

    def write(self) -> WrittenDigest:
        stories = select_stories(self.request)
        highlights = [self.highlight(story) for story in stories]
        summary = [s for s in (self.summary_sentence(story) for story in stories) if s]
        if not summary:  # every fact about the stories is said already: say the day's size
            summary = [point.text for point in self.fallback_points(1)]
        points = self.key_points(stories)
        return WrittenDigest(
            summary=summary[:MAX_SUMMARY],
            tags=_tags(self.request.stories),
            trends=self.trends(),
            highlights=highlights,
            analysis=Analysis(
                industry=self.matching(_INDUSTRY),
                competition=self.matching(_COMPETITION),
                market=self.matching(_MARKET),
            ),
            key_points=points,
            further_thinking=FurtherThinking(developers=[], everyday_users=[]),
        )

    def highlight(self, story: Story) -> Highlight:
        """The story's title and its reports' sentences; the email names the outlets on
        the citation line under it, so the body names none of them again. A story with
        no report in the digest's language gets a sentence of facts quoting its headline.

        When the story has two sentences or more, the last is left for the summary."""
        own = self.own_items(story)
        title = own[0].title if own else self.quote(story.lead.title)
        self.take(title, title=True)
        pool = [sentence for sentence, _ in self.pool(story)]
        if len(pool) > 1:
            pool = pool[:-1]
        body: list[str] = []
        for sentence in pool:
            if len(body) == SENTENCES_PER_HIGHLIGHT:
                break
            if any(sentence.casefold().count(o.casefold()) > 1 for o in story.outlets):
                continue  # would name an outlet twice
            if self.take(sentence, extracted=True):
                body.append(sentence)
        if not body:
            first = min(item.published_at for item in story.items).date()
            body.append(
                self.frames["headline"].format(
                    outlets=self.outlets(story.outlets),
                    date=self.date(first),
                    title=self.quote(story.lead.title),
                )
            )
            self.take(body[-1])
        separator = "" if self.language.startswith("zh") else " "
        return Highlight(
            title=title, body=separator.join(body), item_ids=[item.id for item in story.items]
        )

    def summary_sentence(self, story: Story) -> str:
        """An unused sentence of the story, or how widely it was reported."""
        for sentence, _ in self.pool(story):
            if self.take(sentence, extracted=True):
                return sentence
        own = self.own_items(story)
        title = own[0].title if own else story.lead.title
        if len(story.outlets) > 1:
            sentence = self.frames["covered"].format(
                title=self.quote(title), count=len(story.outlets)
            )
        else:
            sentence = self.frames["one_covered"].format(
                title=self.quote(title),
                outlet=story.outlets[0],
                date=self.date(story.lead.published_at.date()),
            )
        return sentence if self.take(sentence) else ""

    def count(self, number: int, noun: str) -> str:
        """``3 reports`` / ``1 outlet``; ``3 則`` / ``1 家`` in Chinese."""
        if self.language.startswith("zh"):
            return f"{number} {self.frames[noun]}"
        return f"{number} {noun}" + ("" if number == 1 else "s")

    def trends(self) -> str:
        stories = self.request.stories
        items = [item for story in stories for item in story.items]
        top = len(stories[0].outlets)
        sentence = self.frames["trends_top" if len(stories) > 1 and top > 1 else "trends"].format(
            items=self.count(len(items), "report"),
            topic=self.request.topic_name,
            outlets=self.count(len({item.outlet for item in items}), "outlet"),
            date=self.date(self.request.date),
            top=top,
        )
        self.take(sentence)
        return sentence

    def matching(self, pattern: re.Pattern[str]) -> str:
        """The first unused sentence of the day that matches ``pattern``, or "" (the
        section is left out rather than filled with a frame)."""
        for story in self.request.stories:
            for sentence, _ in self.pool(story):
                if pattern.search(sentence) and self.take(sentence, extracted=True):
                    return sentence
        return ""

    def key_points(self, highlighted: list[Story]) -> list[KeyPoint]:
        """3-5 facts, one per story: first sentences not said yet (highlighted stories
        first), then the headlines of stories not highlighted, then of the highlighted."""
        low, high = KEY_POINTS
        others = [s for s in self.request.stories if all(s is not h for h in highlighted)]
        points: list[KeyPoint] = []
        covered: list[Story] = []
        for story in [*highlighted, *others]:
            for sentence, item_id in self.pool(story):
                if len(points) < high and self.take(sentence, extracted=True):
                    points.append(KeyPoint(text=sentence, item_ids=[item_id]))
                    covered.append(story)
                    break
        for story in [*others, *highlighted]:
            if len(points) >= (high if story in others else low):
                break
            if all(story is not done for done in covered):
                point = self.headline_point(story)
                if point is not None:
                    points.append(point)
        if len(points) < low:
            points += self.fallback_points(low - len(points))
        return points

    def headline_point(self, story: Story) -> KeyPoint | None:
        for item in story.items:
            sentence = self.frames["point"].format(outlet=item.outlet, title=self.quote(item.title))
            if self.take(sentence):
                return KeyPoint(text=sentence, item_ids=[item.id])
        return None

    def fallback_points(self, wanted: int) -> list[KeyPoint]:
        items = sorted(
            (item for story in self.request.stories for item in story.items),
            key=lambda item: (item.published_at, item.id),
        )
        facts: Iterable[tuple[str, int]] = (
            (
                self.frames["earliest"].format(
                    outlet=item.outlet, date=self.date(item.published_at.date())
                ),
                item.id,
            )
            for item in items[:1]
        )
        count = self.frames["outlet_count"].format(
            outlets=self.count(len({item.outlet for item in items}), "outlet"),
            topic=self.request.topic_name,
        )
        facts = [*facts, (count, items[0].id)]
        points = [KeyPoint(text=text, item_ids=[i]) for text, i in facts if self.take(text)]
        return points[:wanted]


def _terms(text: str) -> frozenset[str]:
    """Content words, and pairs of adjacent CJK characters (Chinese has no spaces)."""
    words = {w for w in re.findall(r"[a-z0-9]+", text.casefold()) if len(w) > 2}
    cjk = re.findall(r"[\u4e00-\u9fff]", text)
    return frozenset(words - _STOPWORDS) | {a + b for a, b in pairwise(cjk)}


def _near(left: frozenset[str], right: frozenset[str]) -> bool:
    """Most of the shorter sentence's terms are in the other: it says the same again."""
    smaller = min(len(left), len(right))
    return smaller >= MIN_NEAR_TERMS and len(left & right) / smaller >= NEAR_SHARE


def _substantial(sentence: str) -> bool:
    """A sentence with something in it (not "Points: 240 · Comments: 180", nor an
    aggregator's "Article URL: https://…")."""
    sentence = without_aggregator_text(sentence)
    return latin_words(re.sub(r"[\d,.:%]+", " ", sentence)) >= 5 or cjk_count(sentence) >= 10


def _tags(stories: list[Story]) -> list[str]:
    """Capitalised words that recur across headlines (``build`` adds the fixed tags)."""
    counts: Counter[str] = Counter()
    for story in stories:
        for item in story.items:
            counts.update(
                set(re.findall(r"\b[A-Z][A-Za-z0-9]+(?:\s[A-Z][a-z0-9]+)?\b", item.title))
            )
    frequent = [word for word, count in counts.most_common(8) if count > 1]
    return frequent[:5]
