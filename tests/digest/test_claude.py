"""The Claude writer through the real anthropic SDK against a fake API on loopback."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select

from newsletter.catalog import topic_by_slug
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.digest import prompt
from newsletter.digest.build import build_digest
from newsletter.digest.claude import ClaudeWriter
from newsletter.digest.prompt import SYSTEM_PROMPT, TRANSLATE_PROMPT, input_schema
from newsletter.digest.schema import DigestContent
from newsletter.models import Digest, DigestStatus
from newsletter.services import Services
from tests.digest.anthropic_fake import FakeAnthropic
from tests.digest.news_items import DAY
from tests.support import send_day

ALL_IDS = [9001, 9002, 9003, 9004, 9005]


def build(db: Database, settings: Settings, language: str = "en") -> Digest:
    writer = ClaudeWriter.from_settings(settings)
    with db.session() as session:
        topic = topic_by_slug(session, "claude")
        return build_digest(session, topic, DAY, language, writer).digest


def stored_in(db: Database, language: str) -> DigestContent:
    with db.session() as session:
        digest = session.scalars(select(Digest).where(Digest.language == language)).one()
        assert digest.status == DigestStatus.READY, digest.error
        return DigestContent.model_validate(digest.content)


def stored(db: Database) -> Digest:
    with db.session() as session:
        return session.scalars(select(Digest)).one()


def test_good_response_is_stored_ready_with_usage_and_cost(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("good")
    build(db, claude_settings)

    digest = stored(db)
    assert digest.status == DigestStatus.READY, digest.error
    assert (digest.writer, digest.model) == ("claude", "claude-sonnet-5-5")
    assert (digest.input_tokens, digest.output_tokens) == (1187, 1012)
    assert (digest.cache_write_tokens, digest.cache_read_tokens) == (2346, 0)
    # Sonnet: $3/MTok in (x1.25 for cache writes), $15/MTok out
    assert digest.cost_usd == pytest.approx((1187 * 3 + 2346 * 3.75 + 1012 * 15) / 1e6, abs=1e-6)
    content = DigestContent.model_validate(digest.content)
    assert content.highlights[0].title == "Claude moves into healthcare and the life sciences"
    assert [source.item_id for source in content.sources] == ALL_IDS
    assert content.tagline == "3 CLAUDE news stories in one read"
    assert content.usage.cost_usd == digest.cost_usd


def test_request_forces_the_tool_caches_the_system_prompt_and_fences_items(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("good", "translated_zh_tw")
    build(db, claude_settings, "en")
    build(db, claude_settings, "zh-TW")  # translated from the day's en digest

    english, chinese = fake_anthropic.bodies
    request = fake_anthropic.requests[0]
    assert request["path"] == "/v1/messages"
    assert request["headers"]["Authorization"] == "Bearer sk-ant-test-key"
    assert english["model"] == claude_settings.anthropic_model == "claude-sonnet-5-5"
    assert english["max_tokens"] == 8000
    # API version 2026-10-21 rejects sampling parameters; effort is left to the default
    assert not {"temperature", "top_p", "top_k", "output_config"} & set(english)
    assert english["tool_choice"]["type"] == "tool"
    assert english["tool_choice"]["name"] == "write_digest"
    assert english["tools"][0]["input_schema"] == input_schema()
    assert english["system"] == [
        {"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}
    ]
    assert chinese["tools"] == english["tools"]
    assert chinese["system"] == [
        {"type": "text", "text": TRANSLATE_PROMPT, "cache_control": {"type": "ephemeral"}}
    ]
    assert chinese["model"] == claude_settings.anthropic_translate_model == "claude-haiku-5-5"

    prompt = english["messages"][0]["content"]
    assert "Language: English." in prompt
    block = prompt.split("<news_items>\n", 1)[1].split("\n</news_items>", 1)[0]
    records = [json.loads(line) for line in block.splitlines()]
    assert sorted(record["id"] for record in records) == ALL_IDS
    assert set(records[0]) == {"id", "story", "outlet", "title", "summary"}  # no URL
    translation = chinese["messages"][0]["content"]
    assert "繁體中文" in translation and "<news_items>" not in translation
    sent = json.loads(translation.split("<digest>\n", 1)[1].split("\n</digest>", 1)[0])
    assert sent["highlights"] == [h.model_dump() for h in stored_in(db, "en").highlights]


def test_effort_is_sent_when_set(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("good")
    build(db, dataclasses.replace(claude_settings, anthropic_effort="medium"))
    assert fake_anthropic.bodies[0]["output_config"] == {"effort": "medium"}


def test_invented_urls_are_removed_and_item_urls_kept(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("invented_url")
    build(db, claude_settings)

    digest = stored(db)
    assert digest.status == DigestStatus.READY, digest.error
    text = json.dumps(digest.content)
    for foreign in ("healthcare-ai-insider.example", "rumours.example", "ai-gossip.example"):
        assert foreign not in text
    content = DigestContent.model_validate(digest.content)
    assert "https://www.anthropic.com/news/healthcare-life-sciences" in content.highlights[0].body
    # the key point that linked elsewhere went whole, not left as "(analysis)."
    assert len(content.key_points) == 4
    assert not any("analysis" in point.text for point in content.key_points)


def test_missing_item_id_is_repaired_by_one_re_ask(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("missing_item_id", "good")
    build(db, claude_settings)

    digest = stored(db)
    assert digest.status == DigestStatus.READY, digest.error
    assert digest.input_tokens == 2 * 1187 and digest.output_tokens == 1009 + 1012
    first, second = fake_anthropic.bodies
    assert second["messages"][0] == first["messages"][0]
    rejected, correction = second["messages"][1:]
    assert rejected["role"] == "assistant"
    assert rejected["content"][0]["id"] == "toolu_01Lw9NdS4hCx7PkT2rVb6yQm"
    result = correction["content"][0]
    assert result["type"] == "tool_result" and result["is_error"] is True
    assert result["tool_use_id"] == "toolu_01Lw9NdS4hCx7PkT2rVb6yQm"
    assert "highlight 3" in result["content"] and "[9999]" in result["content"]


def test_missing_item_id_twice_fails_the_digest_and_nothing_is_sent(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("missing_item_id", "missing_item_id")
    build(db, claude_settings)

    digest = stored(db)
    assert digest.status == DigestStatus.FAILED
    assert digest.content is None
    assert "do not exist: [9999]" in (digest.error or "")
    assert "after one re-ask" in (digest.error or "")
    assert digest.output_tokens == 2 * 1009  # the failed calls are accounted for
    assert len(fake_anthropic.requests) == 2
    assert send_day(Services(claude_settings, db), "claude", DAY) == []


def test_an_item_the_model_was_not_shown_does_not_count_as_a_source(
    db: Database,
    news: int,
    claude_settings: Settings,
    fake_anthropic: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ids are sequential: one of the items cut from the prompt could be guessed."""
    monkeypatch.setattr(prompt, "MAX_RECORDS", 4)  # the answers cite all five
    fake_anthropic.answer("good", "good")
    build(db, claude_settings)

    digest = stored(db)
    assert digest.status == DigestStatus.FAILED
    assert "do not exist" in (digest.error or "")


def test_a_failed_digest_is_rebuilt_in_place_by_the_next_build(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer(*["overloaded_529"] * 3, "good")
    build(db, claude_settings)
    failed = stored(db)
    assert failed.status == DigestStatus.FAILED

    build(db, claude_settings)
    rebuilt = stored(db)
    assert (rebuilt.id, rebuilt.status, rebuilt.error) == (failed.id, DigestStatus.READY, None)


@pytest.mark.parametrize(
    ("answers", "status"),
    [
        (("malformed_input", "good"), DigestStatus.READY),
        (("malformed_input", "malformed_input"), DigestStatus.FAILED),
    ],
)
def test_malformed_tool_input_gets_one_re_ask(
    db: Database,
    news: int,
    claude_settings: Settings,
    fake_anthropic: FakeAnthropic,
    answers: tuple[str, ...],
    status: DigestStatus,
) -> None:
    fake_anthropic.answer(*answers)
    build(db, claude_settings)

    digest = stored(db)
    assert digest.status == status
    correction = fake_anthropic.bodies[1]["messages"][2]["content"][0]["content"]
    assert "does not match the schema" in correction
    assert "highlights" in correction and "analysis" in correction
    if status == DigestStatus.FAILED:
        assert "does not match the schema" in (digest.error or "")


def test_output_cut_at_max_tokens_fails_without_re_ask(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("max_tokens")
    build(db, claude_settings)

    digest = stored(db)
    assert digest.status == DigestStatus.FAILED
    assert "NEWSLETTER_ANTHROPIC_MAX_TOKENS" in (digest.error or "")
    assert len(fake_anthropic.requests) == 1


@pytest.mark.parametrize("failure", ["overloaded_529", "rate_limited_429", "server_error_500"])
def test_overloaded_then_success_is_retried_by_the_sdk(
    db: Database,
    news: int,
    claude_settings: Settings,
    fake_anthropic: FakeAnthropic,
    failure: str,
) -> None:
    fake_anthropic.answer(failure, "good")
    build(db, claude_settings)

    assert stored(db).status == DigestStatus.READY
    assert len(fake_anthropic.requests) == 2


def test_persistent_overload_fails_the_digest_after_the_retries(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer(*["overloaded_529"] * 3)
    build(db, claude_settings)

    digest = stored(db)
    assert digest.status == DigestStatus.FAILED
    assert digest.error == "the Anthropic API answered 529 overloaded_error: Overloaded"
    assert len(fake_anthropic.requests) == 1 + claude_settings.anthropic_max_retries


def test_rejected_key_fails_at_once(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("unauthorized_401")
    build(db, claude_settings)

    digest = stored(db)
    assert digest.status == DigestStatus.FAILED
    assert "401 authentication_error" in (digest.error or "")
    assert len(fake_anthropic.requests) == 1


def test_time_budget_stops_the_retries(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer(*["overloaded_529"] * 3)
    ticks = iter(range(0, 1000, 20))  # every look at the clock is 20 s later

    def clock() -> float:
        return float(next(ticks))

    writer = ClaudeWriter.from_settings(claude_settings)
    writer.clock = clock
    with db.session() as session:
        outcome = build_digest(session, topic_by_slug(session, "claude"), DAY, "en", writer)

    assert outcome.digest.status == DigestStatus.FAILED
    assert "30 s time budget" in (outcome.digest.error or "")
    assert len(fake_anthropic.requests) == 1


def test_a_retry_after_beyond_the_budget_is_not_waited_for(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("overloaded_529")
    fake_anthropic.queue[0]["headers"] = {"retry-after": "120", "x-should-retry": "true"}
    build(db, claude_settings)

    digest = stored(db)
    assert digest.status == DigestStatus.FAILED
    assert "retry in 120 s, beyond the 30 s time budget" in (digest.error or "")
    assert len(fake_anthropic.requests) == 1


def test_an_attempt_gets_only_the_time_left_in_the_budget(
    db: Database, news: int, claude_settings: Settings, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.answer("good")
    fake_anthropic.delay = 2.0
    settings = dataclasses.replace(
        claude_settings, anthropic_budget_seconds=0.3, anthropic_max_retries=0
    )
    build(db, settings)

    digest = stored(db)
    assert digest.status == DigestStatus.FAILED
    assert digest.error == "the Anthropic API timed out"
