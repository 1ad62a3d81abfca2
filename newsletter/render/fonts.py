"""The typeface the generated images are set in: Noto Sans CJK (variable weight), shipped
in the ``manimgx-fonts-cjk`` wheel (SIL Open Font License 1.1), so a fresh machine gets it
with ``pip install`` and no system font package.

One collection covers Latin and Chinese, Japanese and Korean; the face is picked by
language so that each language gets its own regional glyph forms (Traditional Chinese
gets the TC face). Pillow's basic layout engine is used, not raqm, so the same text gives
the same pixels wherever the wheel's FreeType runs.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from PIL import ImageFont

FONT_FILE = "NotoSansCJK-VF.otf.ttc"
# Faces of the collection, in its order.
FACE_JP, FACE_KR, FACE_SC, FACE_TC, FACE_HK = range(5)
_FACES = {"ja": FACE_JP, "ko": FACE_KR, "zh-cn": FACE_SC, "zh-hans": FACE_SC, "zh-sg": FACE_SC}
_FACES |= {"zh-hk": FACE_HK, "zh-mo": FACE_HK}

REGULAR, MEDIUM, BOLD, BLACK = 400, 500, 700, 900


def font_path() -> Path:
    return Path(str(files("manimgx_fonts_cjk").joinpath(FONT_FILE)))


def face_index(language: str) -> int:
    """The collection's face for a language: Traditional Chinese (TC) unless the language
    asks for another region's forms."""
    code = language.lower()
    return _FACES.get(code, _FACES.get(code.split("-")[0], FACE_TC))


@cache
def font(size: int, weight: int = REGULAR, face: int = FACE_TC) -> ImageFont.FreeTypeFont:
    """The font at ``size`` pixels and ``weight`` (100-900); loaded once per process."""
    loaded = ImageFont.truetype(
        str(font_path()), size, index=face, layout_engine=ImageFont.Layout.BASIC
    )
    loaded.set_variation_by_axes([weight])
    return loaded
