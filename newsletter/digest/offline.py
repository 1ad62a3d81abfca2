"""The offline writer: a deterministic, extractive digest built from the stories alone.

It needs no network and no API key, so the whole pipeline runs anywhere. Every sentence
it writes is either taken from an item or a fixed frame filled with item facts.
"""

from __future__ import annotations

import re
from collections import Counter

from newsletter.digest.schema import (
    Analysis,
    FurtherThinking,
    Highlight,
    KeyPoint,
    WrittenDigest,
)
from newsletter.digest.writer import WriteRequest, WriteResult
from newsletter.i18n import labels
from newsletter.sources.dedupe import Story

MAX_HIGHLIGHTS = 5
MAX_KEY_POINTS = 7
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_COMPETITORS = ("openai", "google", "gemini", "xai", "microsoft", "meta", "mistral", "deepseek")
_MARKET_WORDS = ("customer", "partner", "enterprise", "revenue", "market", "deal", "price")

_FRAMES = {
    "en": {
        "trends": "The day's coverage centres on {titles}, from {outlets} outlets in all.",
        "industry": "The most reported story, “{title}”, drew {count} sources: {sentence}",
        "competition_none": "No source today compares {topic} directly with a competitor.",
        "market_none": "No source today reports customer, partner or revenue figures.",
        "developer": "Read “{title}” ({outlet}) and check what it changes for your integration.",
        "user": "What “{title}” means for you: {sentence}",
    },
    "zh-TW": {
        "trends": "本日報導聚焦於：{titles}，共 {outlets} 家媒體。",
        "industry": "報導最多的新聞「{title}」共有 {count} 個來源：{sentence}",
        "competition_none": "今日來源中沒有將 {topic} 與競品直接比較的內容。",
        "market_none": "今日來源中沒有客戶、合作或營收相關的數據。",
        "developer": "閱讀「{title}」（{outlet}），確認它對你的整合有何影響。",
        "user": "「{title}」對你的意義：{sentence}",
    },
}


def _frames(language: str) -> dict[str, str]:
    return _FRAMES.get(language, _FRAMES["en"])


def _first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0] if text.strip() else ""


def _lead_sentence(story: Story) -> str:
    for item in story.items:
        sentence = _first_sentence(item.summary)
        if len(sentence) > 40:
            return sentence
    return story.lead.title.rstrip(".") + "."


def _sentences_mentioning(stories: list[Story], words: tuple[str, ...]) -> tuple[str, list[int]]:
    for story in stories:
        for item in story.items:
            for sentence in _SENTENCE_END.split(item.summary):
                if any(word in sentence.lower() for word in words):
                    return sentence.strip(), [item.id]
    return "", []


class OfflineWriter:
    name = "offline"
    model = None

    def write(self, request: WriteRequest) -> WriteResult:
        stories = request.stories
        frames = _frames(request.language)
        words = labels(request.language)
        join = words["list_join"]
        top = _highlighted(stories)

        highlights = []
        for story in top:
            sentences = list(dict.fromkeys(_lead_sentence(Story([item])) for item in story.items))
            body = " ".join(sentences[:3])
            body += " " + words["reported_by"].format(outlets=join.join(story.outlets))
            highlights.append(
                Highlight(
                    title=story.lead.title,
                    body=body,
                    item_ids=[item.id for item in story.items],
                )
            )

        competition, competition_ids = _sentences_mentioning(stories, _COMPETITORS)
        market, market_ids = _sentences_mentioning(stories, _MARKET_WORDS)
        lead = stories[0]
        all_outlets = {item.outlet for story in stories for item in story.items}
        written = WrittenDigest(
            summary=[_lead_sentence(story) for story in stories[:3]],
            tags=_tags(request),
            trends=frames["trends"].format(
                titles=join.join(f"“{story.lead.title}”" for story in top[:3]),
                outlets=len(all_outlets),
            ),
            highlights=highlights,
            analysis=Analysis(
                industry=frames["industry"].format(
                    title=lead.lead.title, count=len(lead.items), sentence=_lead_sentence(lead)
                ),
                competition=competition
                or frames["competition_none"].format(topic=request.topic_name),
                market=market or frames["market_none"],
            ),
            key_points=[
                KeyPoint(text=story.lead.title, item_ids=[story.lead.id])
                for story in stories[:MAX_KEY_POINTS]
            ]
            + [
                KeyPoint(text=text, item_ids=ids)
                for text, ids in ((competition, competition_ids), (market, market_ids))
                if text
            ],
            further_thinking=FurtherThinking(
                developers=[
                    frames["developer"].format(title=story.lead.title, outlet=story.lead.outlet)
                    for story in top[:3]
                ],
                everyday_users=[
                    frames["user"].format(title=story.lead.title, sentence=_lead_sentence(story))
                    for story in top[:2]
                ],
            ),
        )
        return WriteResult(digest=written, writer=self.name, model=None)


def _highlighted(stories: list[Story]) -> list[Story]:
    """Highlights merge several sources: the stories more than one outlet told (a story
    told once stays in the key points), or the top story on a day without any."""
    several = [story for story in stories if len(story.outlets) > 1]
    return (several or stories[:1])[:MAX_HIGHLIGHTS]


def _tags(request: WriteRequest) -> list[str]:
    """Capitalised words that recur across headlines (``build`` adds the fixed tags)."""
    counts: Counter[str] = Counter()
    for story in request.stories:
        for item in story.items:
            counts.update(
                set(re.findall(r"\b[A-Z][A-Za-z0-9]+(?:\s[A-Z][a-z0-9]+)?\b", item.title))
            )
    frequent = [word for word, count in counts.most_common(8) if count > 1]
    return frequent[:5]
