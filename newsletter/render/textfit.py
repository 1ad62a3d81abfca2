"""Fitting text into a box of a drawn image: wrapped to a width, at most N lines, and
shortened with an ellipsis when it does not fit (it never runs past its box).

Latin text breaks between words; Chinese, Japanese and Korean text between any two
characters, except before closing punctuation.
"""

from __future__ import annotations

import re

from PIL import ImageFont

ELLIPSIS = "…"
_CJK = "\u2e80-\u2fff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CLOSING = "\u3001\u3002\uff0c\uff0e\uff1a\uff1b\uff01\uff1f\uff09\u300d\u300f\u3011\u300b"
# A CJK character with any closing punctuation after it; a run of other non-spaces with
# the spaces after it; or spaces alone.
_TOKENS = re.compile(rf"[{_CJK}\u3000-\u303f\uff00-\uffef][{_CLOSING}]*|[^\s{_CJK}]+\s*|\s+")


def shorten(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """``text`` on one line, cut with an ellipsis if it is wider than ``width``."""
    text = " ".join(text.split())
    if font.getlength(text) <= width:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if font.getlength(text[:middle].rstrip() + ELLIPSIS) <= width:
            low = middle
        else:
            high = middle - 1
    cut = text[:low].rstrip(" ,.;:-–—、，。")
    return cut + ELLIPSIS if cut else ""


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float, max_lines: int) -> list[str]:
    """``text`` broken into lines no wider than ``width``; past ``max_lines`` the last line
    ends with an ellipsis. A word longer than a line is cut."""
    lines: list[str] = []
    line = ""
    tokens = _TOKENS.findall(" ".join(text.split()))
    for position, token in enumerate(tokens):
        candidate = line + token
        if font.getlength(candidate.rstrip()) <= width:
            line = candidate
            continue
        if len(lines) == max_lines - 1:
            rest = line + "".join(tokens[position:])
            return [*lines, shorten(rest, font, width)]
        if line.strip():
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line = token
        if font.getlength(line.rstrip()) > width:  # one word wider than the line
            if len(lines) == max_lines - 1:
                return [*lines, shorten(line + "".join(tokens[position + 1 :]), font, width)]
            lines.append(shorten(line, font, width))
            line = ""
    if line.strip():
        lines.append(line.rstrip())
    return lines
