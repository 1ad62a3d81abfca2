"""The infographic drawn from a digest: real Pillow and the real font, in English and
Traditional Chinese. The images go to test-artifacts/infographic/ (gitignored) for a
human to look at."""

from __future__ import annotations

import re
import struct
import time
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from fontTools.ttLib import TTCollection
from PIL import Image, ImageChops

from newsletter.digest.schema import (
    Analysis,
    DigestContent,
    FurtherThinking,
    Highlight,
    KeyPoint,
    SourceRef,
)
from newsletter.render.fonts import FACE_TC, face_index, font, font_path
from newsletter.render.infographic import (
    HEIGHT,
    WIDTH,
    DayCount,
    Infographic,
    InfographicFacts,
    key_numbers,
    render_infographic,
)
from newsletter.render.textfit import ELLIPSIS, shorten, wrap

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "infographic"
DAY = date(2026, 1, 12)
MAX_BYTES = 300_000
ZH_FIRST = "Anthropic 進軍醫療與生命科學，推出新連接器"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def digest(language: str, **changes: object) -> DigestContent:
    sources = [
        SourceRef(item_id=i, title=f"Story {i}", url=f"https://example.com/{i}", outlet=outlet)
        for i, outlet in enumerate(
            ["Anthropic", "NBC News", "Reuters", "Hacker News", "The Verge", "Reuters"], 1
        )
    ]
    if language == "zh-TW":
        highlights = [
            Highlight(
                title="Anthropic 進軍醫療與生命科學，推出新連接器", body="報", item_ids=[1, 2, 3]
            ),
            Highlight(title="平台封堵第三方繞用 Claude Code 訂閱", body="討論。", item_ids=[4]),
            Highlight(title="安聯與 Anthropic 建立全球夥伴關係", body="合作。", item_ids=[5, 6]),
        ]
        points = [
            KeyPoint(text="企業客戶兩年內從不到 1,000 家成長到超過 30 萬家。", item_ids=[1]),
            KeyPoint(text="新一輪融資估值達 3,500 億美元。", item_ids=[2]),
            KeyPoint(text="Claude 的正常運作時間為 99.74%，於 2026 年 1 月 12 日公布。"),
        ]
        summary = ["醫療。", "平台。", "保險。"]
    else:
        highlights = [
            Highlight(title="Anthropic moves into healthcare", body="Report.", item_ids=[1, 2, 3]),
            Highlight(title="Third-party use of Claude Code blocked", body="Talk.", item_ids=[4]),
            Highlight(title="Allianz and Anthropic partner", body="Deal.", item_ids=[5, 6]),
        ]
        points = [
            KeyPoint(text="Enterprise customers grew from 1,000 to over 300,000 in 2 years."),
            KeyPoint(text="The new round values Anthropic at $350 billion.", item_ids=[2]),
            KeyPoint(text="Uptime was 99.74% in the 30 days to 2026-01-12."),
        ]
        summary = ["Health.", "Platform.", "Insurance."]
    content = DigestContent(
        topic="claude",
        topic_name="Claude",
        date=DAY,
        language=language,
        title="t",
        tagline="t",
        summary=summary,
        trends="t",
        highlights=highlights,
        analysis=Analysis(industry="i", competition="c", market="m"),
        key_points=points,
        further_thinking=FurtherThinking(developers=["d"], everyday_users=["u"]),
        sources=sources,
        writer="test",
    )
    return content.model_copy(update=changes)


def facts(counts: tuple[int, ...] = (3, 7, 2, 0, 5, 9, 12)) -> InfographicFacts:
    days = tuple(DayCount(DAY - timedelta(days=6 - i), n) for i, n in enumerate(counts))
    return InfographicFacts(days, counts[-1])


def save(name: str, picture: Infographic) -> Image.Image:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.png").write_bytes(picture.png)
    return Image.open(BytesIO(picture.png))


def tc_cmap() -> dict[int, str]:
    return TTCollection(str(font_path())).fonts[FACE_TC].getBestCmap()


def drawn_as_notdef(character: str, size: int, weight: int) -> bool:
    """Whether the font draws ``character`` as its missing-glyph box."""
    chosen = font(size, weight, FACE_TC)
    notdef = chosen.getmask("\ue000")  # a private-use code point no font of ours has
    mask = chosen.getmask(character)
    if mask.size != notdef.size:
        return False
    return (
        ImageChops.difference(
            Image.frombytes("L", mask.size, bytes(mask)),
            Image.frombytes("L", notdef.size, bytes(notdef)),
        ).getbbox()
        is None
    )


def assert_within_canvas_and_apart(picture: Infographic) -> None:
    for box in picture.text_boxes:
        assert box.left >= 0 and box.right <= WIDTH, box
        assert box.top >= 0 and box.bottom <= HEIGHT, box
    drawn = [box for box in picture.text_boxes if box.text.strip()]
    for index, one in enumerate(drawn):
        for other in drawn[index + 1 :]:
            apart = (
                one.right <= other.left
                or other.right <= one.left
                or one.bottom <= other.top
                or other.bottom <= one.top
            )
            assert apart, f"{one} overlaps {other}"


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_an_infographic_is_a_small_share_card_drawn_fast(language: str) -> None:
    content = digest(language)
    start = time.perf_counter()
    picture = render_infographic(content, facts())
    elapsed = time.perf_counter() - start
    image = save(f"infographic-{language}", picture)
    assert image.size == (WIDTH, HEIGHT) == (1200, 630)
    assert image.format == "PNG"
    assert len(picture.png) < MAX_BYTES
    assert elapsed < 1.0
    texts = [box.text for box in picture.text_boxes]
    for highlight in content.highlights:
        assert highlight.title in texts
    assert_within_canvas_and_apart(picture)


def test_the_english_card_says_what_the_digest_says() -> None:
    picture = render_infographic(digest("en"), facts())
    texts = [box.text for box in picture.text_boxes]
    assert "Monday, January 12, 2026" in texts
    assert "Claude daily digest" in texts
    assert [t for t in texts if "outlet" in t][:3] == ["3 outlets", "1 outlet", "2 outlets"]
    assert {"300,000", "$350 billion", "99.74%"} <= set(texts)
    assert "6 sources cited · 5 outlets · 12 news items read" in texts
    # the chart: each day's count, under the weekday it was
    assert [t for t in texts if t in ("Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Mon")] == [
        "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Mon"
    ]  # fmt: skip
    assert picture.alt.startswith("Claude daily digest, Monday, January 12, 2026: Anthropic")


def test_traditional_chinese_is_drawn_with_real_glyphs() -> None:
    picture = render_infographic(digest("zh-TW"), facts())
    save("infographic-zh-TW-glyphs", picture)
    cmap = tc_cmap()
    checked = 0
    for box in picture.text_boxes:
        for character in set(CJK.findall(box.text)):
            assert ord(character) in cmap, f"{character!r} has no glyph in the TC face"
            assert not drawn_as_notdef(character, box.size, box.weight), character
            checked += 1
    assert checked > 60  # the heading, the highlights, the captions, the labels
    texts = [box.text for box in picture.text_boxes]
    assert "Claude 每日動態" in texts and "2026 年 1 月 12 日 星期一" in texts
    assert "3 家媒體報導" in texts and "週一" in texts


def test_the_glyph_check_does_see_a_missing_glyph() -> None:
    assert drawn_as_notdef("\ue001", 24, 500)  # a character the font does not have
    assert ord("\ue001") not in tc_cmap()
    assert not drawn_as_notdef("體", 24, 500)


def test_traditional_chinese_gets_the_tc_face() -> None:
    assert face_index("zh-TW") == FACE_TC == face_index("en")
    assert face_index("zh-CN") != FACE_TC and face_index("ja") != FACE_TC


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_text_that_does_not_fit_is_shortened_never_overflows(language: str) -> None:
    long_en = "An extraordinarily long headline " * 9
    long_zh = "這是一則非常非常長而且完全放不下的新聞標題" * 8
    long = long_zh if language == "zh-TW" else long_en
    content = digest(
        language,
        topic_name="Supercalifragilisticexpialidocious" * 4,
        highlights=[
            Highlight(title=long, body="b", item_ids=[1]),
            Highlight(title="W" * 300 if language == "en" else "體" * 280, body="b", item_ids=[2]),
            Highlight(title=long, body="b", item_ids=[3]),
        ],
        key_points=[
            KeyPoint(text=f"It cost $123,456,789,012,345,678,901 billion. {long}"),
            KeyPoint(text=long + " 45%"),
        ],
    )
    picture = render_infographic(content, facts((1, 9999, 3, 12_345_678, 5, 6, 123_456)))
    save(f"infographic-{language}-overflow", picture)
    assert_within_canvas_and_apart(picture)
    assert {"9999", "12M", "123k"} <= {box.text for box in picture.text_boxes}
    shortened = [box.text for box in picture.text_boxes if box.text.endswith(ELLIPSIS)]
    assert len(shortened) >= 5  # the heading, three titles, a figure, its caption


def test_the_same_digest_gives_the_same_bytes_without_metadata() -> None:
    first = render_infographic(digest("zh-TW"), facts())
    again = render_infographic(digest("zh-TW"), facts())
    assert first.png == again.png
    chunks, position = [], 8
    while position < len(first.png):
        length, kind = struct.unpack(">I4s", first.png[position : position + 8])
        chunks.append(kind.decode())
        position += 12 + length
    assert set(chunks) <= {"IHDR", "IDAT", "IEND"}, chunks  # no tIME, tEXt or other stamp
    assert render_infographic(digest("zh-TW"), facts((1, 1, 1, 1, 1, 1, 1))).png != first.png


def test_a_quiet_day_still_draws_with_our_own_figures() -> None:
    content = digest(
        "en",
        highlights=[Highlight(title="The only story", body="b", item_ids=[1])],
        key_points=[KeyPoint(text="Nothing was counted.")],
    )
    picture = render_infographic(content, facts((0, 0, 0, 0, 0, 0, 1)))
    save("infographic-en-quiet", picture)
    assert_within_canvas_and_apart(picture)
    texts = [box.text for box in picture.text_boxes]
    assert "The only story" in texts and "2" not in texts  # no second highlight
    # no figure in the text: the tiles show the sources, the outlets and the items read
    tiles = {
        caption: texts[texts.index(caption) - 1]
        for caption in (
            "sources cited in this digest",
            "outlets reported today's stories",
            "news items read for this digest",
        )
    }
    assert list(tiles.values()) == ["6", "5", "1"]
    assert "6 sources cited · 5 outlets · 1 news item read" in texts


def test_key_numbers_are_the_figures_the_digest_cites() -> None:
    found = key_numbers(digest("en"))
    assert [n.value for n in found] == ["300,000", "$350 billion", "99.74%"]
    assert found[1].caption == "The new round values Anthropic at $350 billion."
    zh = [n.value for n in key_numbers(digest("zh-TW"))]
    assert zh == ["30 萬", "3,500 億美元", "99.74%"]
    years_and_dates = digest(
        "en", key_points=[KeyPoint(text="In 2026, on 2026-01-12, 3 models shipped.")]
    )
    assert key_numbers(years_and_dates) == []


def test_wrapping_keeps_to_the_width_and_ends_with_an_ellipsis() -> None:
    chosen = font(24, 500, FACE_TC)
    lines = wrap("one two three four five six seven eight nine ten " * 5, chosen, 200, 2)
    assert len(lines) == 2 and lines[-1].endswith(ELLIPSIS)
    assert all(chosen.getlength(line) <= 200 for line in lines)
    assert lines[0].split()[-1] != "" and not lines[0].endswith(" ")
    zh = wrap("人工智慧新聞。" * 20, chosen, 150, 3)
    assert len(zh) == 3 and all(chosen.getlength(line) <= 150 for line in zh)
    assert not any(line.startswith("。") for line in zh)  # closing marks stay with their word
    assert shorten("short", chosen, 200) == "short"
    assert chosen.getlength(shorten("x" * 500, chosen, 90)) <= 90
