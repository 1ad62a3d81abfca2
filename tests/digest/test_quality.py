"""The quality gate's rules, one by one, on the recorded zh-TW and en digests."""

from __future__ import annotations

import json
from datetime import date

import pytest

from newsletter.digest.language import simplified_characters, word_count
from newsletter.digest.quality import GateContext, check
from newsletter.digest.schema import Highlight, KeyPoint, WrittenDigest
from tests.digest.anthropic_fake import FIXTURES

OUTLETS = {9001: "Anthropic News", 9002: "NBC News", 9003: "Hacker News"}
OUTLETS |= {9004: "VentureBeat", 9005: "Allianz"}
STORIES = {9001: 0, 9002: 0, 9003: 1, 9004: 1, 9005: 2}
TITLES = ("人工智能医疗新进展 - 新华网", "Anthropic joins OpenAI's push into health care")


def recorded(name: str) -> WrittenDigest:
    answer = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    return WrittenDigest.model_validate(answer["body"]["content"][0]["input"])


def context(language: str) -> GateContext:
    subjects = ("Anthropic", "Allianz")  # the topic's keywords, an outlet in its own news
    return GateContext(
        "Claude", date(2026, 1, 12), language, OUTLETS, STORIES, subjects, titles=TITLES
    )


def rules(written: WrittenDigest, language: str) -> list[str]:
    return [str(finding) for finding in check(written, context(language))]


def test_the_recorded_good_digests_pass() -> None:
    assert rules(recorded("good_zh_tw"), "zh-TW") == []
    assert rules(recorded("good"), "en") == []


def test_taiwanese_forms_and_quoted_titles_are_not_taken_for_simplified() -> None:
    # 台, 群, 床, 后, 里 are Traditional too (OpenCC's TWVariants, multi-valued entries)
    assert simplified_characters("台灣社群的床位、皇后與公里") == []
    assert simplified_characters("这项发展") == ["这", "项", "发"]
    written = recorded("good_zh_tw")
    written.key_points[4].text = "新華社以「人工智能医疗新进展」為題報導。"
    assert rules(written, "zh-TW") == []


def test_english_prose_in_quotation_marks_is_still_prose() -> None:
    written = recorded("good_zh_tw")
    written.highlights[1].body = (
        "「Hacker News readers report that tools routing Claude Code subscriptions through "
        "unofficial harnesses stopped working.」VentureBeat 指出此事。"
    )
    (finding,) = rules(written, "zh-TW")
    assert finding.startswith("language: highlight 2 is not Chinese")
    # a quoted item title, or a name, keeps its language
    written.highlights[1].body = (
        "VentureBeat 與 Hacker News 都報導了 Anthropic 封鎖非官方工具一事，"
        "NBC News 的報導標題為「Anthropic joins OpenAI's push into health care」。"
    )
    assert rules(written, "zh-TW") == []


def test_english_prose_in_a_chinese_digest_is_named_where_it_is() -> None:
    written = recorded("good_zh_tw")
    written.analysis.market = "Enterprises in regulated sectors gain an official path to Claude."
    assert rules(written, "zh-TW") == [
        "language: analysis market is not Chinese: “Enterprises in regulated sectors gain an "
        "official path to C…”"
    ]


def test_chinese_in_an_english_digest_fails() -> None:
    written = recorded("good")
    written.trends = "Anthropic 正同時推進兩條路線，把 Claude 帶進醫療產業。"
    assert [r.split(":")[0] for r in rules(written, "en")] == ["language"]


@pytest.mark.parametrize(
    "again",
    [
        "Allianz signed a global partnership to bring Claude to insurance.",
        "ALLIANZ signed a global partnership — to bring Claude to insurance!",  # normalised
    ],
)
def test_a_sentence_said_twice_anywhere_is_a_repetition(again: str) -> None:
    written = recorded("good")
    written.further_thinking.everyday_users.append(again)
    assert rules(written, "en") == [
        "repetition: everyday users 3 repeats summary 3: “" + again[:59] + "…”"
        if len(again) > 60
        else "repetition: everyday users 3 repeats summary 3: “" + again + "”"
    ]


def test_two_highlights_of_one_story_overlap_and_an_outlet_is_named_once() -> None:
    written = recorded("good")
    written.highlights[0].item_ids = [9001]
    written.highlights[2] = Highlight(
        title="NBC News on the health push",
        body="NBC News says the launch follows OpenAI. NBC News adds that compliance leads.",
        item_ids=[9002],
    )
    assert rules(written, "en") == [
        "overlap: highlights 1 and 3 share a story; merge them",
        "highlights: highlight 3 names NBC News 2 times; name it once",
    ]


def test_key_points_are_three_to_five() -> None:
    written = recorded("good")
    written.key_points = written.key_points[:2]
    assert rules(written, "en") == ["key_points: 2 key points; 3-5 wanted"]
    written.key_points += [KeyPoint(text=f"Fact number {n} of the day.") for n in range(4)]
    assert rules(written, "en") == ["key_points: 6 key points; 3-5 wanted"]


def test_template_sentences_are_refused_in_both_languages() -> None:
    english = recorded("good")
    english.further_thinking.developers[1] = (
        "Read “Allianz partners with Anthropic” and check what it changes for your integration."
    )
    assert [r.split(":")[0] for r in rules(english, "en")] == ["template"]
    chinese = recorded("good_zh_tw")
    chinese.further_thinking.everyday_users[0] = "「Allianz 與 Anthropic 建立全球合作」對你的意義。"
    assert [r.split(":")[0] for r in rules(chinese, "zh-TW")] == ["template"]


def test_lengths_of_sections_subject_and_whole() -> None:
    written = recorded("good_zh_tw")
    written.highlights[0].body = "醫療" * 300
    written.highlights[0].title = (
        "進軍醫療與生命科學，" + "並與多家醫院、藥廠與生技實驗室合作導入" * 4
    )
    found = rules(written, "zh-TW")
    assert "length: highlight 1 has 600 words; at most 450" in found
    assert any(f.startswith("length: highlight 1 title has") for f in found)
    short = recorded("good")
    short.trends = short.analysis.industry = short.analysis.market = ""
    short.analysis.competition = ""
    short.further_thinking.developers = short.further_thinking.everyday_users = []
    short.highlights, short.summary = short.highlights[:1], short.summary[:1]
    short.highlights[0].body = "NBC News reports it."
    short.key_points = [KeyPoint(text=t) for t in ("One fact.", "Two facts.", "Three facts.")]
    assert rules(short, "en") == ["length: the digest has 35 words; 50-5000 wanted"]


def test_cjk_characters_count_as_words() -> None:
    assert word_count("Anthropic 宣布 Claude 進軍醫療") == 2 + 6
