"""The plain-text part: wrapping (CJK width, kinsoku, long URLs, bullets) and content."""

from __future__ import annotations

import itertools
import re

import pytest

from newsletter.i18n import labels
from newsletter.render.frame import EmailFrame
from newsletter.render.placeholders import PREFERENCES, UNSUBSCRIBE
from newsletter.render.text import (
    HANG,
    NO_LINE_END,
    NO_LINE_START,
    WIDTH,
    display_width,
    render_digest_text,
    wrap,
)
from tests.render.sections import shown_sections

ENGLISH = (
    "Anthropic has started blocking third-party harnesses that reuse Claude Code "
    "subscriptions; people in the thread are looking for workarounds while others warn "
    "that accounts may be banned, and the company says more changes are coming soon."
)
CHINESE = (
    "Anthropic 本週同時在兩條線上加速：一邊正式擴張至醫療與生命科學場域，"
    "推出面向合規與科研工作流程的新能力與連接器（如 Benchling 已可直接在 Claude.ai 上使用）；"
    "另一邊強化平台政策執行，封堵第三方對 Claude Code 訂閱的未授權使用，"
    "並據報對競品實驗室的存取採取限制。加上與保險巨頭 Allianz 的全球合作與企業客戶規模成長，"
    "顯示其正以「垂直化＋合規＋直連官方通道」的策略搶佔企業市場。"
)
LONG_URL = "https://www.example.com/" + "very-long-path-segment/" * 6 + "article.html"


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_display_width_counts_wide_characters_twice() -> None:
    assert display_width("abc") == 3
    assert display_width("中文") == 4
    assert display_width("，。") == 4
    assert display_width("Claude 的") == 9


def test_english_wraps_at_spaces_within_the_width() -> None:
    lines = wrap(ENGLISH)
    assert len(lines) > 2
    assert all(display_width(line) <= WIDTH for line in lines)
    assert " ".join(lines) == ENGLISH
    assert all(display_width(line) > WIDTH - 15 for line in lines[:-1])


@pytest.mark.parametrize("width", [20, 30, 40, 76])
def test_chinese_wraps_by_display_width_and_keeps_every_character(width: int) -> None:
    lines = wrap(CHINESE, width=width)
    assert squeeze("".join(lines)) == squeeze(CHINESE)
    for line in lines:
        assert display_width(line) <= width + HANG, line
        if display_width(line) > width:
            assert line[-1] in NO_LINE_START, line
    for before, after in itertools.pairwise(lines):
        assert after[0] not in NO_LINE_START, (before, after)
        assert before[-1] not in NO_LINE_END, (before, after)


def test_full_lines_of_chinese_use_the_width() -> None:
    lines = wrap(CHINESE)
    assert all(display_width(line) >= WIDTH - 8 for line in lines[:-1]), lines


def test_closing_punctuation_hangs_instead_of_starting_a_line() -> None:
    # Ten wide characters fill 20 columns exactly; the full stop must not start line 2.
    lines = wrap("一二三四五六七八九十。再來", width=20)
    assert lines == ["一二三四五六七八九十。", "再來"]


def test_opening_punctuation_moves_to_the_next_line() -> None:
    lines = wrap("一二三四五六七八九「十一」", width=20)
    assert lines == ["一二三四五六七八九", "「十一」"]


def test_a_long_url_gets_a_line_of_its_own_unbroken() -> None:
    lines = wrap(f"Read more at {LONG_URL} today.")
    assert LONG_URL in lines
    assert lines[0] == "Read more at"


def test_bullets_hang_under_their_text() -> None:
    lines = wrap(ENGLISH, width=40, indent="- ", hanging="  ")
    assert lines[0].startswith("- ")
    assert all(line.startswith("  ") and line[2] != " " for line in lines[1:])
    assert all(display_width(line) <= 40 for line in lines)
    cjk = wrap(CHINESE, width=40, indent="- ", hanging="  ")
    assert all(line.startswith("  ") for line in cjk[1:])


def test_empty_and_blank_text_wrap_to_nothing() -> None:
    assert wrap("") == []
    assert wrap("   \n ") == []


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_the_text_part_has_every_section_and_footnoted_link(demo_digests, language) -> None:
    content = demo_digests[language]
    words = labels(language)
    text = render_digest_text(content, frame("https://news.example.org/archive/claude/2026-01-12"))
    lines = text.splitlines()
    for key in shown_sections(content):
        index = lines.index(words[key])
        assert set(lines[index + 1]) == {"-"}, key
    assert lines[0] == f"AI Daily Digest · {content.topic_name}"  # the masthead
    assert lines[2] == content.title and set(lines[3]) == {"="}
    assert "https://news.example.org/" in lines  # forwarded? subscribe
    assert "https://news.example.org/privacy" in lines
    for number, highlight in enumerate(content.highlights, 1):
        assert any(line.startswith(f"{number}. {highlight.title[:20]}") for line in lines)
    footnotes = {m.group(2): int(m.group(1)) for m in re.finditer(r"^\[(\d+)\] (\S+)$", text, re.M)}
    for source in content.sources:
        assert source.url in footnotes
        assert f"[{footnotes[source.url]}]" in text.split(source.url)[0]
    assert sorted(footnotes.values()) == list(range(1, len(footnotes) + 1))
    assert words["footer"].format(count=len(content.sources)) in squeeze_lines(lines)
    assert UNSUBSCRIBE in lines and PREFERENCES in lines
    for line in lines:
        if "://" not in line and not line.startswith("[["):
            assert display_width(line) <= WIDTH + HANG, line


def frame(view_online: str) -> EmailFrame:
    base = "https://news.example.org"
    return EmailFrame(
        "AI Daily Digest",
        "AI Daily Digest, 1 Example Street, Taipei",
        view_online,
        f"{base}/",
        f"{base}/privacy",
    )


def squeeze_lines(lines: list[str]) -> str:
    """Wrapped prose joined back (CJK lines join without a space)."""
    return " ".join(lines).replace("。 ", "。")


def test_a_chinese_digest_wraps_cleanly(claude_written_digest) -> None:
    text = render_digest_text(
        claude_written_digest,
        frame("https://news.example.org/archive/claude/2026-01-12?lang=zh-TW"),
    )
    prose = [line for line in text.splitlines() if "://" not in line and line]
    assert len(prose) > 60
    for line in prose:
        assert display_width(line) <= WIDTH + HANG, line
        assert line.lstrip()[0] not in NO_LINE_START, line
    assert sum(display_width(line) >= WIDTH - 4 for line in prose) > 30
    assert squeeze(claude_written_digest.highlights[0].body) in squeeze(text)
