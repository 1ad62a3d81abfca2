"""Quotations in another language get a lang span; everything stays escaped."""

from __future__ import annotations

from newsletter.render.quotes import mark_quotations


def test_an_english_headline_in_a_chinese_sentence_is_marked() -> None:
    text = "NBC News 於 1 月 12 日報導此事，原標題為「Anthropic joins OpenAI's push」。"
    assert mark_quotations(text, "zh-TW") == (
        'NBC News 於 1 月 12 日報導此事，原標題為「<span lang="en">Anthropic joins '
        "OpenAI&#39;s push</span>」。"
    )


def test_a_chinese_headline_in_an_english_sentence_is_marked() -> None:
    text = "TechNews reported “Anthropic 封鎖第三方工具使用 Claude Code 訂閱”."
    assert '“<span lang="zh-TW">Anthropic 封鎖第三方工具使用 Claude Code 訂閱</span>”' in (
        mark_quotations(text, "en")
    )


def test_quotations_in_the_digest_language_and_hostile_text_are_left_escaped() -> None:
    assert mark_quotations("他說「這是好消息」。", "zh-TW") == "他說「這是好消息」。"
    marked = mark_quotations("<b>x</b> 標題「<script>alert(1)</script> is here」", "zh-TW")
    assert "<script>" not in marked and "<b>" not in marked
    assert '<span lang="en">&lt;script&gt;alert(1)&lt;/script&gt; is here</span>' in marked
