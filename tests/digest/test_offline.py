"""The offline writer on the bundled sample day: honest, in the reader's language, the
same stories in every language, and through the quality gate by construction."""

from __future__ import annotations

import random
from dataclasses import replace
from html import unescape

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.digest.language import is_chinese, unquoted
from newsletter.digest.offline import OfflineWriter
from newsletter.digest.quality import check, context_for
from newsletter.digest.schema import DigestContent
from newsletter.digest.writer import WriteRequest
from newsletter.models import Item
from newsletter.render.frame import EmailFrame
from newsletter.render.html import render_digest_html
from newsletter.services import Services
from newsletter.sources.dedupe import cluster_stories
from tests.support import DEV_HASH_KEY


@pytest.fixture
def sample_items(db: Database, settings: Settings) -> list[Item]:
    with db.session() as session:
        seed_demo(session, DEV_HASH_KEY)
    steps.fetch(Services(settings, db), "claude")
    with db.session() as session:
        items = list(session.scalars(select(Item).order_by(Item.id)))
        session.expunge_all()
    return items


def request(items: list[Item], language: str) -> WriteRequest:
    return WriteRequest(
        "Claude", SAMPLE_DATE, language, cluster_stories(items), keywords=("Claude", "Anthropic")
    )


def prose(content: DigestContent) -> list[str]:
    analysis = [text for text in content.analysis.model_dump().values() if text]
    return [
        *content.summary,
        content.trends,
        *(part for h in content.highlights for part in (h.title, h.body)),
        *analysis,
        *(point.text for point in content.key_points),
    ]


def test_the_sample_day_in_both_languages(
    db: Database, settings: Settings, sample_items: list[Item]
) -> None:
    outcomes = steps.build(Services(settings, db), "claude", SAMPLE_DATE, ["zh-TW", "en"])
    chinese, english = (DigestContent.model_validate(o.digest.content) for o in outcomes)

    # one story selection: the same highlights cite the same items
    assert len(chinese.highlights) == 3
    assert [h.item_ids for h in english.highlights] == [h.item_ids for h in chinese.highlights]
    # zh-TW prose is Chinese (quoted original headlines aside), taken from Taiwanese reports
    for text in prose(chinese):
        assert not unquoted(text).strip() or is_chinese(unquoted(text)), text
    # the reference digest's first story, its English and Chinese framings told as one
    assert "進軍醫療與生命科學" in chinese.highlights[0].title
    assert chinese.subject.startswith("Claude 每日動態：") and chinese.subject.endswith("（1/12）")
    assert english.subject.startswith("Claude daily: ") and english.subject.endswith("(Jan 12)")
    # nothing padded: no section holds a frame the day's facts do not fill
    assert chinese.further_thinking.developers == []
    assert english.further_thinking.everyday_users == []


def test_an_english_headline_in_a_chinese_sentence_is_marked_as_english(
    sample_items: list[Item],
) -> None:
    english_only = [item for item in sample_items if not is_chinese(item.title)]
    written = OfflineWriter().write(request(english_only, "zh-TW")).digest
    body = written.highlights[0].body
    assert "原標題為「" in body and is_chinese(unquoted(body))
    assert check(written, context_for(request(english_only, "zh-TW"))) == []

    content = DigestContent(
        **written.model_dump(),
        topic="claude",
        topic_name="Claude",
        date=SAMPLE_DATE,
        language="zh-TW",
        title="CLAUDE 每日動態 - 2026-01-12",
        tagline="x",
        sources=[{"item_id": 1, "title": "t", "url": "https://example.org/", "outlet": "o"}],
        writer="offline",
    )
    html = render_digest_html(
        content,
        EmailFrame("AI Daily Digest", "", "https://example.org/", "https://example.org/", ""),
    )
    headline = written.highlights[0].body.split("原標題為「", 1)[1].split("」", 1)[0]
    # compared as text: the renderer may leave an apostrophe unescaped (escaping is
    # tested in tests/render/test_quotes.py)
    assert f'「<span lang="en">{headline}</span>」' in unescape(html)


@pytest.mark.parametrize("language", ["zh-TW", "en"])
def test_any_day_passes_the_gate_by_construction(sample_items: list[Item], language: str) -> None:
    """Random days cut from the sample (one item up to all of them), both languages."""
    rng = random.Random(14)
    for size in [1, 1, 2, 3, 5, 8, 12, len(sample_items)]:
        day = sorted(rng.sample(sample_items, size), key=lambda item: item.id)
        wanted = request(day, language)
        written = OfflineWriter().write(wanted).digest
        findings = check(written, context_for(wanted))
        assert findings == [], (size, [item.id for item in day], findings)
        # and keeps the primary digest's selection when written after it
        other = "en" if language == "zh-TW" else "zh-TW"
        follower = replace(request(day, other), primary=written)
        assert check(OfflineWriter().write(follower).digest, context_for(follower)) == []


def test_an_aggregators_boilerplate_is_never_a_sentence_of_the_digest(
    sample_items: list[Item],
) -> None:
    """Hacker News feeds (hnrss) give every item the same lines of addresses and counts."""
    for item in sample_items:
        if item.outlet == "Hacker News":
            item.summary = (
                f"Article URL: {item.canonical_url}\n"
                f"Comments URL: https://news.ycombinator.com/item?id={item.id}\n"
                "Points: 87\n# Comments: 41"
            )
    for language in ("en", "zh-TW"):
        written = OfflineWriter().write(request(sample_items, language)).digest.model_dump_json()
        assert "URL" not in written and "Points" not in written, language
