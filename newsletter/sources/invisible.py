"""Characters a reader cannot see, removed from untrusted text.

Zero-width spaces and joiners, word joiners, byte-order marks and bidi overrides hide
text from the keyword filter and from dedupe (``Cla\\u200bude``), and bidi controls make
text display as something else (``update \\u202egnp.exe`` shows as "exe.png"). Every
Unicode *format* character (category Cf) goes, with two exceptions that only join what
is visible: U+200D inside an emoji sequence (👩‍💻) and the tag characters that spell a
subdivision flag (🏴 + tags). Control characters other than line breaks and tabs become
spaces.
"""

from __future__ import annotations

import re
import unicodedata

ZWJ = "\u200d"
_BLACK_FLAG = "\U0001f3f4"
_TAG = re.compile("[\U000e0020-\U000e007f]")
_HAS_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|[^\x00-\u00ac\u00ae-\u05ff]")


def _is_pictographic(char: str) -> bool:
    """An emoji-like character (pictographs, symbols, or a variation selector after one)."""
    if not char:
        return False
    code = ord(char)
    return (
        unicodedata.category(char) == "So"
        or 0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or code in (0xFE0F, 0x20E3)
        or 0x1F3FB <= code <= 0x1F3FF
    )


def strip_invisible(text: str) -> str:
    """``text`` without invisible format characters (emoji joins kept)."""
    if not _HAS_INVISIBLE.search(text):
        return text
    out: list[str] = []
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if category == "Cf":
            before = out[-1] if out else ""
            after = text[index + 1] if index + 1 < len(text) else ""
            joins_emoji = char == ZWJ and _is_pictographic(before) and _is_pictographic(after)
            spells_flag = bool(_TAG.match(char)) and (
                before == _BLACK_FLAG or bool(_TAG.match(before or "x"))
            )
            if joins_emoji or spells_flag:
                out.append(char)
            continue
        out.append(" " if category == "Cc" and char not in "\n\t" else char)
    return "".join(out)
