"""A plain web page that lists articles but has no feed (an official news page).

Links are picked with a CSS selector (soupsieve, through BeautifulSoup), or, with no
selector, the page's own links to itself whose text reads like a headline. A date is
taken from a ``<time datetime>`` or a written date near the link; a page that shows
none gives undated entries (see :func:`newsletter.sources.ingest`).
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import soupsieve
from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning

from newsletter.sources.feed import FeedEntry, FeedError
from newsletter.sources.fetch import Fetched
from newsletter.sources.normalize import clean_title, html_to_text, site_names
from newsletter.sources.spec import SourceSpec

MAX_ENTRIES = 50
MIN_HEADLINE_CHARS = 15  # shorter link texts are navigation ("News", "Read more")
CARD_DEPTH = 3  # how far up from a link to look for its date and teaser
_DATE_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%Y-%m-%d")
_WRITTEN_DATE = re.compile(
    r"\b(?:[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]{2,8} \d{4}|\d{4}-\d{2}-\d{2})\b"
)


def check_selector(selector: str) -> str:
    """The selector, if soupsieve can compile it; ValueError saying why otherwise."""
    try:
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as error:
        raise ValueError(f"bad CSS selector {selector!r}: {error.args[0]}") from None
    return selector


def read(fetched: Fetched, spec: SourceSpec) -> list[FeedEntry]:
    """Entries for the links the page lists; relative links resolve against the final URL."""
    content_type, base_url = fetched.content_type, fetched.url
    if content_type and content_type not in ("text/html", "application/xhtml+xml"):
        raise FeedError(f"expected a web page, got content type {content_type}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(fetched.content, "html.parser")
    if soup.find() is None:
        raise FeedError("the page is empty")
    unwanted = ["script", "style", "noscript", "template"]
    if not spec.query:  # the page's own links: not its menus
        unwanted += ["nav", "header", "footer", "aside"]
    for tag in soup(unwanted):
        tag.decompose()
    matches = soup.select(spec.query or "a[href]")
    entries: dict[str, FeedEntry] = {}
    site = (urlsplit(base_url).hostname or "").lower()
    for match in matches:
        anchor = match if match.name == "a" else match.select_one("a[href]")
        if anchor is None:
            continue
        url = urljoin(base_url, str(anchor.get("href", "")).strip())
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or url.rstrip("/") == base_url.rstrip("/"):
            continue
        if not spec.query and (parts.hostname or "").lower() != site:
            continue
        title = clean_title(_headline(match, anchor), spec.name, *site_names(url))
        if len(title) < MIN_HEADLINE_CHARS or url in entries:
            continue
        card = _card(anchor)
        entries[url] = FeedEntry(
            url=url,
            title=title,
            outlet=spec.name,
            published_at=_date(card),
            summary=_teaser(card, title),
        )
        if len(entries) >= MAX_ENTRIES:
            break
    return list(entries.values())


def _headline(match: Tag, anchor: Tag) -> str:
    heading = match.find(["h1", "h2", "h3", "h4"]) or anchor.find(["h1", "h2", "h3", "h4"])
    return html_to_text(str(heading or anchor))


def _card(anchor: Tag) -> Tag:
    """The smallest ancestor that holds this link's date, else the link itself."""
    node: Tag = anchor
    for _ in range(CARD_DEPTH + 1):
        if _date(node) is not None:
            return node
        if node.parent is None or len(node.parent.find_all("a", href=True)) > 1:
            break
        node = node.parent
    return anchor


def _date(node: Tag) -> datetime | None:
    time_tag = node if node.name == "time" else node.find("time")
    if isinstance(time_tag, Tag):
        found = _parse_date(str(time_tag.get("datetime") or time_tag.get_text(" ")))
        if found:
            return found
    written = _WRITTEN_DATE.search(node.get_text(" "))
    return _parse_date(written.group()) if written else None


def _parse_date(text: str) -> datetime | None:
    text = text.strip().replace(".", "")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _teaser(card: Tag, title: str) -> str:
    text = html_to_text(str(card))
    return text.replace(title, "", 1).strip(" -|·") if text != title else ""
