"""The digest as Markdown: the one Markdown rendering of the schema.

The Jekyll export wraps it in front matter; the web archive turns it into HTML with
``markdown_to_html``, so both show the same text under the same headings. The
layout follows the example digest: ``##`` section headings (emoji included) in the
digest's language, ``1)`` numbered highlights (title in bold, then a line break), dash
lists, the source list as links and an italic footer counting the sources.

Text from the writer is data: whitespace is collapsed, ``<`` and ``>`` are escaped (no
raw HTML reaches a Markdown processor) and a line cannot start a heading or a list.
"""

from __future__ import annotations

import re
from functools import cache

from markdown_it import MarkdownIt
from markupsafe import Markup

from newsletter.digest.schema import DigestContent
from newsletter.i18n import labels

_BLOCK_START = re.compile(r"^(#|>|[-+*] |\d+[.)] ?)")
_LINK_TEXT = re.compile(r"([\[\]\\])")
BREAK = "  "  # two trailing spaces: a hard line break in CommonMark and in kramdown (Jekyll)
_URL_UNSAFE = {" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E"}


def _plain(text: str) -> str:
    return " ".join(text.split()).replace("<", "&lt;").replace(">", "&gt;")


def inline(text: str) -> str:
    """One line of Markdown text saying exactly ``text``."""
    line = _plain(text)
    return "\\" + line if _BLOCK_START.match(line) else line


def link(title: str, url: str) -> str:
    for char, escaped in _URL_UNSAFE.items():
        url = url.replace(char, escaped)
    text = _LINK_TEXT.sub(r"\\\1", _plain(title))
    return f"[{text}]({url})"


def render_digest_markdown(content: DigestContent) -> str:
    """The digest body, from the trends section to the footer, ending in a newline."""
    w = labels(content.language)
    out: list[str] = [f"## {w['trends']}", inline(content.trends), ""]

    out.append(f"## {w['highlights']}")
    for number, highlight in enumerate(content.highlights, 1):
        out += [f"{number}) **{inline(highlight.title)}**{BREAK}", inline(highlight.body), ""]

    analysis = [
        (key, getattr(content.analysis, key)) for key in ("industry", "competition", "market")
    ]
    if any(text for _, text in analysis):
        out.append(f"## {w['analysis']}")
        for key, text in analysis:
            if text:
                out += [f"- **{w[key]}**{BREAK}", inline(text), ""]

    out.append(f"## {w['key_points']}")
    out += [f"- {inline(point.text)}" for point in content.key_points]
    out.append("")

    thinking = content.further_thinking
    if thinking.developers or thinking.everyday_users:
        out.append(f"## {w['thinking']}")
        for key in ("developers", "everyday_users"):
            bullets = getattr(thinking, key)
            if bullets:
                out.append(f"- {w[key]}")
                out += [f"  - {inline(bullet)}" for bullet in bullets]
                out.append("")

    out.append(f"## {w['sources']}")
    out += [f"- {link(source.title, source.url)}" for source in content.sources]
    out += ["", "---", f"*{w['footer'].format(count=len(content.sources))}*"]
    return "\n".join(out) + "\n"


@cache
def _commonmark() -> MarkdownIt:
    # html=False: any raw HTML in the source is shown as text, never passed through.
    return MarkdownIt("commonmark", {"html": False})


def markdown_to_html(markdown: str) -> Markup:
    """CommonMark to HTML, safe to put in a page as it is."""
    return Markup(_commonmark().render(markdown))
