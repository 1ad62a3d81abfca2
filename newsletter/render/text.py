"""The plain-text part, written from the digest schema (not scraped from the HTML).

Lines wrap at 76 columns, counting East Asian wide characters as two. CJK text has no
spaces, so it may break between any two wide characters, except that closing punctuation
never starts a line (it may hang up to 78 columns instead) and opening punctuation never
ends one. Words and URLs are never split: a URL longer than a line gets a line of its own.
Links become numbered footnotes so the prose stays readable.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from functools import lru_cache

from newsletter.digest.schema import DigestContent
from newsletter.i18n import labels
from newsletter.render.frame import EmailFrame
from newsletter.render.links import public_url
from newsletter.render.placeholders import PREFERENCES, UNSUBSCRIBE

WIDTH = 76
HANG = 2  # room for one full-width closing mark past WIDTH (so at most 78 columns)
# Characters that must not begin a line (kinsoku shori) and ones that must not end it.
NO_LINE_START = frozenset("、。，．：；？！）」』】〕〉》〗〙〛〞’”…‥・ー々〜ゝゞ,.:;?!)]}%")
NO_LINE_END = frozenset("（「『【〔〈《〖〘〚〝‘“([{")


@lru_cache(maxsize=4096)
def char_width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns ``text`` takes in a monospace terminal or mail client."""
    if text.isascii():
        return len(text)
    return sum(map(char_width, text))


def _tokens(text: str) -> Iterator[str]:
    """Words, single spaces, and each wide character on its own."""
    word = ""
    for char in " ".join(text.split()):
        if char == " " or char_width(char) == 2:
            if word:
                yield word
            word = ""
            yield char
        else:
            word += char
    if word:
        yield word


def _starts_badly(token: str) -> bool:
    return token[0] in NO_LINE_START


def _ends_badly(token: str) -> bool:
    return token == " " or token[-1] in NO_LINE_END


def _break(current: list[str], token: str) -> list[str]:
    """Start a new line with ``token``: take tokens back from ``current`` (in place)
    until the new line does not begin with a closing mark and the old one does not end
    with an opening mark or a space. Returns the new line's tokens."""
    carried = [token]
    while len(current) > 1 and (carried[0] == " " or _starts_badly(carried[0])):
        moved = current.pop()
        carried = carried[1:] if carried[0] == " " else carried
        carried.insert(0, moved)
    while len(current) > 1 and _ends_badly(current[-1]):
        moved = current.pop()
        if moved != " ":
            carried.insert(0, moved)
    while carried and carried[0] == " ":
        carried.pop(0)
    return carried


def wrap(text: str, width: int = WIDTH, indent: str = "", hanging: str = "") -> list[str]:
    """Wrap at spaces, or between wide characters (CJK has no spaces to break at).

    ``indent`` starts the first line and ``hanging`` the others (for bullets: "- ", "  ").
    """
    lines: list[str] = []
    prefix, current = indent, []
    used = display_width(prefix)
    for token in _tokens(text):
        if token == " " and not current:
            continue
        size = display_width(token)
        fits = used + size <= width or not current or token == " "
        hangs = _starts_badly(token) and size <= HANG and used + size <= width + HANG
        if fits or hangs:
            current.append(token)
            used += size
            continue
        carried = _break(current, token)
        lines.append((prefix + "".join(current)).rstrip())
        prefix, current = hanging, carried
        used = display_width(prefix + "".join(current))
    if current:
        lines.append((prefix + "".join(current)).rstrip())
    return lines


def _underline(text: str, char: str) -> str:
    return char * min(WIDTH, display_width(text))


ANALYSIS_KEYS = ("industry", "competition", "market")
THINKING_KEYS = ("developers", "everyday_users")


def render_digest_text(content: DigestContent, frame: EmailFrame) -> str:
    w = labels(content.language)
    join = w["list_join"]
    notes: dict[str, int] = {}

    def cite(text: str, url: str) -> str:
        """``text [n]``, with the link kept as footnote n (or just the text if the URL
        cannot be a public link)."""
        safe = public_url(url)
        if safe is None:
            return text
        return f"{text} [{notes.setdefault(safe, len(notes) + 1)}]"

    sources = {source.item_id: source for source in content.sources}
    out: list[str] = [*wrap(f"{frame.site_name} · {content.topic_name}"), ""]
    out += [*wrap(content.title), _underline(content.title, "=")]
    out += wrap(w["long_date"].format(d=content.date))
    out += wrap(content.tagline)

    def heading(text: str) -> None:
        out.extend(["", "", text, _underline(text, "-"), ""])

    def subheading(text: str) -> None:
        if out[-1]:
            out.append("")
        out.extend(wrap(text))

    def paragraph(text: str) -> None:
        out.extend(wrap(text))

    def bullets(lines: list[str]) -> None:
        for line in lines:
            out.extend(wrap(line, indent="- ", hanging="  "))

    heading(w["summary"])
    bullets(content.summary)
    heading(w["trends"])
    paragraph(content.trends)
    heading(w["highlights"])
    for number, highlight in enumerate(content.highlights, 1):
        refs = join.join(
            cite(sources[i].outlet, sources[i].url) for i in highlight.item_ids if i in sources
        )
        if number > 1:
            out.append("")
        prefix = f"{number}. "
        out.extend(wrap(highlight.title, indent=prefix, hanging=" " * len(prefix)))
        out.extend(wrap(highlight.body, indent=" " * len(prefix), hanging=" " * len(prefix)))
        out.extend(
            wrap(
                w["cited"].format(outlets=refs), indent=" " * len(prefix), hanging=" " * len(prefix)
            )
        )
    analysis = [(key, getattr(content.analysis, key)) for key in ANALYSIS_KEYS]
    if any(text for _, text in analysis):
        heading(w["analysis"])
        for key, text in analysis:
            if text:
                subheading(w[key])
                paragraph(text)
    heading(w["key_points"])
    bullets([point.text for point in content.key_points])
    thinking = content.further_thinking
    if thinking.developers or thinking.everyday_users:
        heading(w["thinking"])
        for key in THINKING_KEYS:
            if getattr(thinking, key):
                subheading(w[key])
                bullets(getattr(thinking, key))
    heading(w["sources"])
    bullets([f"{cite(s.title, s.url)} ({s.outlet})" for s in content.sources])
    out.append("")
    out += [f"[{number}] {url}" for url, number in notes.items()]
    out += ["", "", "---", *wrap(w["footer"].format(count=len(content.sources)))]
    out += ["", *wrap(w["forwarded"]), frame.subscribe_url]
    out += ["", *wrap(w["why_received"].format(topic=content.topic_name))]
    for label, url in (
        (w["view_online"], frame.view_online_url),
        (w["preferences"], PREFERENCES),
        (w["unsubscribe"], UNSUBSCRIBE),
        (w["privacy"], frame.privacy_url),
    ):
        out += ["", label, url]
    out += ["", *wrap(frame.postal_address)]
    return "\n".join(out) + "\n"
