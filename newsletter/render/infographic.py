"""The digest's infographic: a 1200x630 PNG (the size of a share card) drawn from the
structured digest and a few figures of our own data, with Pillow.

It shows the topic and date, the top three highlights with how many outlets reported
each, the key numbers the digest cites, the source count, and a bar chart of the topic's
news items per day over the week up to the digest. Every piece of text is fitted into its
box (wrapped, then shortened with an ellipsis); the boxes actually drawn are returned with
the image so that tests can check that nothing leaves its place.

Deterministic: the same digest and facts give the same bytes (no time stamp or other
metadata in the PNG, a fixed font from a pinned wheel, no system fonts).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date

from PIL import Image, ImageDraw, ImageFont

from newsletter.digest.schema import DigestContent
from newsletter.render.fonts import BOLD, MEDIUM, REGULAR, face_index, font
from newsletter.render.textfit import shorten, wrap

WIDTH, HEIGHT = 1200, 630
MARGIN = 48
HIGHLIGHTS = 3
NUMBERS = 3

BACKGROUND = (11, 18, 32)
PANEL = (21, 31, 51)
TEXT = (243, 246, 251)
MUTED = (169, 180, 199)  # 8.9:1 on the background
ACCENT = (96, 156, 255)
NUMBER = (255, 196, 87)
BAR = (58, 79, 117)
GRID = (40, 54, 80)

_LABELS = {
    "en": {
        "kicker": "AI DAILY DIGEST",
        "heading": "{topic} daily digest",
        "highlights": "TOP STORIES",
        "outlets": "{n} outlets",
        "outlet": "1 outlet",
        "numbers": "KEY NUMBERS",
        "chart": "NEWS ITEMS PER DAY, LAST 7 DAYS",
        "sources": "{n} sources cited",
        "outlets_total": "{n} outlets",
        "items": "{n} news items read",
        "items_one": "1 news item read",
        "weekdays": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        "short_date": "{d.month}/{d.day}",
        "long_date": "{weekday}, {month} {d.day}, {d.year}",
        "months": (
            "January February March April May June July August September October November December"
        ).split(),
        "long_weekdays": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
        "fallback_sources": "sources cited in this digest",
        "fallback_outlets": "outlets reported today's stories",
        "fallback_items": "news items read for this digest",
        "alt": "{topic} daily digest, {date}: {headlines}",
    },
    "zh-TW": {
        "kicker": "AI 每日動態",
        "heading": "{topic} 每日動態",
        "highlights": "今日焦點",
        "outlets": "{n} 家媒體報導",
        "outlet": "1 家媒體報導",
        "numbers": "關鍵數字",
        "chart": "近 7 天每日新聞則數",
        "sources": "引用 {n} 則來源",
        "outlets_total": "{n} 家媒體",
        "items": "閱讀 {n} 則新聞",
        "items_one": "閱讀 1 則新聞",
        "weekdays": ("週一", "週二", "週三", "週四", "週五", "週六", "週日"),
        "short_date": "{d.month}/{d.day}",
        "long_date": "{d.year} 年 {d.month} 月 {d.day} 日 {weekday}",
        "months": [str(month) for month in range(1, 13)],
        "long_weekdays": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
        "fallback_sources": "本期引用的新聞來源",
        "fallback_outlets": "報導今日新聞的媒體",
        "fallback_items": "本期閱讀的新聞則數",
        "alt": "{topic} 每日動態，{date}：{headlines}",
    },
}

# A figure worth showing: a currency amount, a percentage, or a number with a unit or
# scale word (English or Chinese); bare years and list numbers are not.
_NUMBER = re.compile(
    r"(?:(?:US|NT|HK)?[$€£¥]\s?)?\d+(?:[.,]\d+)*\s?"
    r"(?:%|percent\b|(?:[bmk]|bn|billion|million|thousand|trillion)\b|[xX×]\b|"
    r"[萬億兆](?:美元|元)?|倍|美元|元|家|名|位|款|項|人)?",
    re.IGNORECASE,
)


_COUNTERS = "家名位款項人"  # "1,000 家": a count of things, not a scale


def labels(language: str) -> dict:
    return _LABELS.get(language) or _LABELS.get(language.split("-")[0], _LABELS["en"])


@dataclass(frozen=True)
class DayCount:
    day: date
    items: int


@dataclass(frozen=True)
class InfographicFacts:
    """Our own figures for the digest's day, gathered when the digest is built."""

    daily_items: tuple[DayCount, ...]  # oldest first; the last is the digest's day
    items_read: int


@dataclass(frozen=True)
class KeyNumber:
    value: str
    caption: str


@dataclass(frozen=True)
class Box:
    """A text drawn on the image, and the pixels its glyphs cover."""

    text: str
    size: int
    weight: int
    left: int
    top: int
    right: int
    bottom: int


@dataclass(frozen=True)
class Infographic:
    png: bytes
    text_boxes: tuple[Box, ...]
    alt: str


def key_numbers(content: DigestContent, limit: int = NUMBERS) -> list[KeyNumber]:
    """The figures the digest cites, each with the sentence it comes from: key points
    first, then the highlights; one per sentence, no figure twice."""
    sentences = [point.text for point in content.key_points]
    sentences += [h.body for h in content.highlights]
    found: list[KeyNumber] = []
    for sentence in sentences:
        value = _figure(sentence)
        if value and value not in {number.value for number in found}:
            found.append(KeyNumber(value, sentence))
        if len(found) == limit:
            break
    return found


def _figure(sentence: str) -> str | None:
    """The sentence's figure: its first with a scale, currency or percent sign, else its
    largest other number (of two digits or more, not a year, not part of a date)."""
    plain: list[tuple[int, str]] = []
    for match in _NUMBER.finditer(sentence):
        value = match.group().strip()
        if _inside_date(sentence, match.start(), match.end()):
            continue
        number = re.sub(r"[^\d.,]", "", value)
        digits = re.sub(r"\D", "", value)
        if value != number and value[-1] not in _COUNTERS:
            return value
        if len(digits) >= 2 and not (value == number and 1900 <= int(digits) <= 2100):
            plain.append((int(digits), value))
    return max(plain)[1] if plain else None


def _inside_date(sentence: str, start: int, end: int) -> bool:
    before, after = sentence[max(0, start - 1) : start], sentence[end : end + 1]
    return before in ("-", "/") or after in ("-", "/", "年", "月", "日")


def outlet_count(content: DigestContent, item_ids: list[int]) -> int:
    outlets = {source.item_id: source.outlet for source in content.sources}
    return len({outlets[i] for i in item_ids if i in outlets})


def alt_text(content: DigestContent) -> str:
    """What the image says, for screen readers and for anyone with images off."""
    words = labels(content.language)
    headlines = "; ".join(h.title for h in content.highlights[:HIGHLIGHTS])
    return words["alt"].format(
        topic=content.topic_name, date=_long_date(content.date, words), headlines=headlines
    )


def _long_date(day: date, words: dict) -> str:
    return words["long_date"].format(
        d=day, weekday=words["long_weekdays"][day.weekday()], month=words["months"][day.month - 1]
    )


@dataclass
class _Canvas:
    """An image being drawn, keeping the box of every text drawn on it."""

    face: int
    image: Image.Image = field(init=False)
    draw: ImageDraw.ImageDraw = field(init=False)
    boxes: list[Box] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)

    def font(self, size: int, weight: int = REGULAR) -> ImageFont.FreeTypeFont:
        return font(size, weight, self.face)

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        size: int,
        weight: int = REGULAR,
        fill: tuple[int, int, int] = TEXT,
        anchor: str = "la",
    ) -> Box:
        chosen = self.font(size, weight)
        self.draw.text(xy, text, font=chosen, fill=fill, anchor=anchor)
        bounds = self.draw.textbbox(xy, text, font=chosen, anchor=anchor)
        box = Box(text, size, weight, *(round(value) for value in bounds))
        self.boxes.append(box)
        return box

    def lines(
        self,
        xy: tuple[float, float],
        text: str,
        size: int,
        width: float,
        max_lines: int,
        weight: int = REGULAR,
        fill: tuple[int, int, int] = TEXT,
        leading: float = 1.3,
    ) -> float:
        """Draws ``text`` wrapped into ``width``; returns the y below the last line."""
        x, y = xy
        for line in wrap(text, self.font(size, weight), width, max_lines):
            self.text((x, y), line, size, weight, fill)
            y += size * leading
        return y


def render_infographic(content: DigestContent, facts: InfographicFacts) -> Infographic:
    """Draw the digest's infographic; the PNG bytes with the boxes of the text drawn."""
    words = labels(content.language)
    canvas = _Canvas(face_index(content.language))
    _header(canvas, content, words)
    _highlights(canvas, content, words)
    _chart(canvas, content, facts, words)
    _numbers(canvas, content, facts, words)
    _footer(canvas, content, facts, words)
    buffer = io.BytesIO()
    # zlib's default level: 2% bigger than level 9 and ten times as fast
    canvas.image.save(buffer, "PNG", compress_level=6)
    return Infographic(buffer.getvalue(), tuple(canvas.boxes), alt_text(content))


def _header(canvas: _Canvas, content: DigestContent, words: dict) -> None:
    canvas.draw.rectangle((0, 0, WIDTH, 6), fill=ACCENT)
    kicker = shorten(_long_date(content.date, words), canvas.font(18, BOLD), WIDTH / 2)
    canvas.text((MARGIN, 32), kicker, 18, BOLD, ACCENT)
    canvas.text((WIDTH - MARGIN, 32), words["kicker"], 15, BOLD, MUTED, anchor="ra")
    heading = words["heading"].format(topic=content.topic_name)
    canvas.text((MARGIN, 58), shorten(heading, canvas.font(48, BOLD), WIDTH - 2 * MARGIN), 48, BOLD)


LEFT_WIDTH = 680
RIGHT_X = MARGIN + LEFT_WIDTH + 40
RIGHT_WIDTH = WIDTH - MARGIN - RIGHT_X
BODY_TOP = 140
BODY_BOTTOM = 446


def _highlights(canvas: _Canvas, content: DigestContent, words: dict) -> None:
    canvas.text((MARGIN, BODY_TOP), words["highlights"], 15, BOLD, MUTED)
    y = BODY_TOP + 30
    row = (BODY_BOTTOM - y) / HIGHLIGHTS
    text_x = MARGIN + 52
    for number, highlight in enumerate(content.highlights[:HIGHLIGHTS], start=1):
        canvas.draw.ellipse((MARGIN, y + 2, MARGIN + 34, y + 36), fill=ACCENT)
        canvas.text((MARGIN + 17, y + 19), str(number), 19, BOLD, BACKGROUND, anchor="mm")
        bottom = canvas.lines(
            (text_x, y), highlight.title, 24, LEFT_WIDTH - 52, 2, MEDIUM, leading=1.25
        )
        count = outlet_count(content, highlight.item_ids)
        reported = words["outlet"] if count == 1 else words["outlets"].format(n=count)
        canvas.text((text_x, bottom + 2), reported, 16, MEDIUM, NUMBER)
        y += row


def _chart(canvas: _Canvas, content: DigestContent, facts: InfographicFacts, words: dict) -> None:
    left, top, right, bottom = RIGHT_X, BODY_TOP - 8, WIDTH - MARGIN, BODY_BOTTOM + 4
    canvas.draw.rounded_rectangle((left, top, right, bottom), radius=14, fill=PANEL)
    inner = RIGHT_WIDTH - 40
    title = shorten(words["chart"], canvas.font(15, BOLD), inner)
    canvas.text((left + 20, top + 18), title, 15, BOLD, MUTED)
    days = facts.daily_items
    if not days:
        return
    base = bottom - 58
    peak = max(1, *(d.items for d in days))
    area = base - (top + 74)
    slot = inner / len(days)
    bar = min(34.0, slot * 0.62)
    canvas.draw.line((left + 20, base, right - 20, base), fill=GRID, width=2)
    for index, count in enumerate(days):
        center = left + 20 + slot * (index + 0.5)
        height = max(3.0, area * count.items / peak) if count.items else 0.0
        today = index == len(days) - 1
        if height:
            canvas.draw.rounded_rectangle(
                (center - bar / 2, base - height, center + bar / 2, base),
                radius=4,
                fill=ACCENT if today else BAR,
            )
        value_font = 17 if today else 15
        canvas.text(
            (center, base - height - 6),
            shorten(_count(count.items), canvas.font(value_font, BOLD), slot - 4),
            value_font,
            BOLD,
            TEXT if today else MUTED,
            anchor="md",
        )
        weekday = words["weekdays"][count.day.weekday()]
        canvas.text(
            (center, base + 10),
            shorten(weekday, canvas.font(14, BOLD if today else REGULAR), slot - 2),
            14,
            BOLD if today else REGULAR,
            TEXT if today else MUTED,
            anchor="ma",
        )
        canvas.text(
            (center, base + 30),
            words["short_date"].format(d=count.day),
            13,
            REGULAR,
            MUTED,
            anchor="ma",
        )


def _count(items: int) -> str:
    """A bar's label, short enough to stay above its bar: 950, 12k, 3M."""
    if items >= 1_000_000:
        return f"{items // 1_000_000}M"
    return f"{items // 1000}k" if items >= 10_000 else str(items)


def _numbers(canvas: _Canvas, content: DigestContent, facts: InfographicFacts, words: dict) -> None:
    found = key_numbers(content)
    fallback = [
        KeyNumber(str(len(content.sources)), words["fallback_sources"]),
        KeyNumber(str(_outlets(content)), words["fallback_outlets"]),
        KeyNumber(str(facts.items_read), words["fallback_items"]),
    ]
    tiles = (found + fallback)[:NUMBERS]
    top, bottom = BODY_BOTTOM + 18, BODY_BOTTOM + 120
    gap = 20
    tile = (WIDTH - 2 * MARGIN - gap * (NUMBERS - 1)) / NUMBERS
    for index, number in enumerate(tiles):
        x = MARGIN + index * (tile + gap)
        canvas.draw.rounded_rectangle((x, top, x + tile, bottom), radius=14, fill=PANEL)
        canvas.draw.rectangle((x, top + 16, x + 4, bottom - 16), fill=NUMBER)
        width = tile - 40
        value = shorten(number.value, canvas.font(32, BOLD), width)
        canvas.text((x + 22, top + 8), value, 32, BOLD, NUMBER)
        canvas.lines((x + 22, top + 54), number.caption, 15, width, 2, REGULAR, MUTED, 1.3)


def _outlets(content: DigestContent) -> int:
    return len({source.outlet for source in content.sources})


def _footer(canvas: _Canvas, content: DigestContent, facts: InfographicFacts, words: dict) -> None:
    y = HEIGHT - 28
    parts = [
        words["sources"].format(n=len(content.sources)),
        words["outlets_total"].format(n=_outlets(content)),
        words["items_one"] if facts.items_read == 1 else words["items"].format(n=facts.items_read),
    ]
    line = shorten("  ·  ".join(parts), canvas.font(16, MEDIUM), WIDTH - 2 * MARGIN)
    canvas.text((MARGIN, y), line, 16, MEDIUM, MUTED, anchor="ls")
