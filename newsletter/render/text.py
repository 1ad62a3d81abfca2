"""The plain-text part, written from the digest schema (not scraped from the HTML).

Lines wrap at 76 columns, counting East Asian wide characters as two; links become
numbered footnotes so the prose stays readable.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from newsletter.digest.schema import DigestContent
from newsletter.i18n import labels
from newsletter.render.placeholders import PREFERENCES, UNSUBSCRIBE

WIDTH = 76


def _width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _tokens(text: str) -> Iterator[str]:
    """Words, single spaces, and each wide character on its own."""
    word = ""
    for char in " ".join(text.split()):
        if char == " " or _width(char) == 2:
            if word:
                yield word
            word = ""
            yield char
        else:
            word += char
    if word:
        yield word


def wrap(text: str, width: int = WIDTH, indent: str = "", hanging: str = "") -> list[str]:
    """Wrap at spaces, or between wide characters (CJK has no spaces to break at)."""
    lines: list[str] = []
    line, used = indent, len(indent)
    for token in _tokens(text):
        size = sum(map(_width, token))
        if token != " " and used + size > width and line.strip():
            lines.append(line.rstrip())
            line, used = hanging, len(hanging)
        if token == " " and used == len(hanging) and line == hanging:
            continue
        line, used = line + token, used + size
    if line.strip():
        lines.append(line.rstrip())
    return lines


def render_digest_text(content: DigestContent, *, view_online_url: str, postal_address: str) -> str:
    w = labels(content.language)
    notes: dict[str, int] = {}

    def note(url: str) -> str:
        return f"[{notes.setdefault(url, len(notes) + 1)}]"

    sources = {source.item_id: source for source in content.sources}
    out: list[str] = [content.title, "=" * min(WIDTH, sum(map(_width, content.title)))]
    out += [content.tagline, ""]

    def heading(text: str) -> None:
        out.extend(["", text, "-" * min(WIDTH, sum(map(_width, text)))])

    def bullets(lines: list[str]) -> None:
        for line in lines:
            out.extend(wrap(line, indent="- ", hanging="  "))

    heading(w["summary"])
    bullets(content.summary)
    heading(w["trends"])
    out.extend(wrap(content.trends))
    heading(w["highlights"])
    for number, highlight in enumerate(content.highlights, 1):
        refs = " ".join(
            f"{sources[i].outlet} {note(sources[i].url)}"
            for i in highlight.item_ids
            if i in sources
        )
        out.append("")
        out.extend(wrap(f"{number}) {highlight.title}"))
        out.extend(wrap(highlight.body))
        out.extend(wrap(refs))
    heading(w["analysis"])
    for key in ("industry", "competition", "market"):
        out.append("")
        out.append(w[key])
        out.extend(wrap(getattr(content.analysis, key)))
    heading(w["key_points"])
    bullets([point.text for point in content.key_points])
    heading(w["thinking"])
    out.append(w["developers"])
    bullets(content.further_thinking.developers)
    out.append(w["everyday_users"])
    bullets(content.further_thinking.everyday_users)
    heading(w["sources"])
    bullets([f"{s.title} ({s.outlet}) {note(s.url)}" for s in content.sources])
    out += ["", "---", *wrap(w["footer"].format(count=len(content.sources))), ""]
    out += [f"{number:>3}. {url}" for url, number in notes.items()]
    out += [
        "",
        *wrap(w["why_received"].format(topic=content.topic_name)),
        f"{w['view_online']}: {view_online_url}",
        f"{w['preferences']}: {PREFERENCES}",
        f"{w['unsubscribe']}: {UNSUBSCRIBE}",
        postal_address,
    ]
    return "\n".join(out) + "\n"
