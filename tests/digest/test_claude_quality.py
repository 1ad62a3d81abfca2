"""Claude's digests through the quality gate and across languages (real SDK, fake API).

The topic's languages are zh-TW then en: the zh-TW digest is written from the records,
the en one is translated from it and must tell the same stories citing the same items.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newsletter.catalog import topic_by_slug
from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.digest.build import build_digest
from newsletter.digest.claude import ClaudeWriter
from newsletter.digest.schema import DigestContent
from newsletter.models import Digest, DigestStatus
from newsletter.services import Services
from tests.digest.anthropic_fake import FakeAnthropic
from tests.digest.news_items import DAY
from tests.support import send_day


def build(db: Database, settings: Settings, language: str) -> Digest:
    with db.session() as session:
        topic = topic_by_slug(session, "claude")
        return build_digest(session, topic, DAY, language, ClaudeWriter.from_settings(settings))


def digest_in(db: Database, language: str) -> Digest:
    with db.session() as session:
        found = session.scalars(select(Digest).where(Digest.language == language)).one()
        session.expunge(found)
        return found


def content_of(digest: Digest) -> DigestContent:
    assert digest.status == DigestStatus.READY, digest.error
    return DigestContent.model_validate(digest.content)


def test_a_traditional_chinese_digest_is_accepted_with_a_subject_led_by_its_top_story(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("good_zh_tw")
    build(db, claude_settings, "zh-TW")

    content = content_of(digest_in(db, "zh-TW"))
    assert content.subject == "Claude 每日動態：進軍醫療與生命科學（1/12）"
    assert content.title == "CLAUDE 每日動態 - 2026-01-12"  # the Jekyll title keeps its shape
    assert len(fake_anthropic.requests) == 1


@pytest.mark.parametrize(
    ("language", "answer", "finding"),
    [
        ("zh-TW", "zh_tw_simplified", "language: summary 1 uses Simplified characters"),
        ("zh-TW", "good", "language: summary 1 is not Chinese"),  # English under zh-TW
        ("zh-TW", "zh_tw_repeated_sentence", "repetition: key point 1 repeats highlight 1"),
        ("en", "five_highlights", "highlights: 5 highlights; at most 3"),
    ],
)
def test_a_digest_failing_the_gate_twice_is_stored_failed_with_the_reasons_and_never_sent(
    db: Database,
    news: int,
    claude_settings: Settings,
    fake_anthropic: FakeAnthropic,
    language: str,
    answer: str,
    finding: str,
) -> None:
    fake_anthropic.answer(answer, answer)
    build(db, claude_settings, language)

    digest = digest_in(db, language)
    assert digest.status == DigestStatus.FAILED and digest.content is None
    assert finding in (digest.error or "")
    assert "after one re-ask" in (digest.error or "")
    correction = fake_anthropic.bodies[1]["messages"][2]["content"][0]
    assert correction["is_error"] is True and finding in correction["content"]
    assert digest.output_tokens > 0  # the failed calls are accounted for
    assert send_day(Services(claude_settings, db), "claude", DAY) == []


def test_a_simplified_digest_is_repaired_by_the_re_ask(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("zh_tw_simplified", "good_zh_tw")
    build(db, claude_settings, "zh-TW")

    content = content_of(digest_in(db, "zh-TW"))
    assert content.summary[0].startswith("Anthropic 將 Claude 擴展至醫療")
    assert len(fake_anthropic.requests) == 2


def test_every_language_tells_the_same_stories_citing_the_same_items(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("good_zh_tw", "translated_en")
    steps.build(Services(claude_settings, db), "claude", DAY, ["zh-TW", "en"])

    chinese, english = content_of(digest_in(db, "zh-TW")), content_of(digest_in(db, "en"))
    assert [h.item_ids for h in english.highlights] == [h.item_ids for h in chinese.highlights]
    assert [s.item_id for s in english.sources] == [s.item_id for s in chinese.sources]
    translation = fake_anthropic.bodies[1]
    assert translation["model"] == "claude-haiku-5-5"
    assert "進軍醫療與生命科學" in translation["messages"][0]["content"]
    en = digest_in(db, "en")
    # Haiku: $1/MTok in (x1.25 for cache writes), $5/MTok out
    assert en.cost_usd == pytest.approx((2231 * 1 + 1652 * 1.25 + 1004 * 5) / 1e6, abs=1e-6)


def test_a_translation_citing_other_stories_is_rejected(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer(
        "good_zh_tw", "translated_en_other_stories", "translated_en_other_stories"
    )
    steps.build(Services(claude_settings, db), "claude", DAY, ["zh-TW", "en"])

    assert digest_in(db, "zh-TW").status == DigestStatus.READY
    english = digest_in(db, "en")
    assert english.status == DigestStatus.FAILED
    assert "selection: the highlights cite" in (english.error or "")
    sends = send_day(Services(claude_settings, db), "claude", DAY)
    assert [send.language for send in sends] == ["zh-TW"]
