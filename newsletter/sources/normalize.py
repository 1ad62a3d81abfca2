"""Turn what a feed says into clean, comparable item fields.

Feed text is never trusted: HTML is reduced to plain text here and escaped again
wherever it is shown.
"""

from __future__ import annotations

import re
import warnings
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

SUMMARY_MAX_CHARS = 600
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "cmpid",
        "ncid",
        "guccounter",
    }
)
_SPACE = re.compile(r"\s+")
# " - Outlet", " | Outlet", " : r/Sub" at the end of a headline
_TITLE_SUFFIX = re.compile(r"\s+(?:[-|–—]|:\s*r/)\s*[^-|–—]{2,60}$")


def canonical_url(url: str) -> str:
    """The URL without tracking parameters, fragment, default port or AMP/mobile variants."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("m.") or host.startswith("amp."):
        host = host.split(".", 1)[1]
    if parts.port and not (
        (scheme == "http" and parts.port == 80) or (scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    path = re.sub(r"/amp/?$", "/", parts.path) or "/"
    if path != "/" and path.endswith("/") and not parts.query:
        path = path.rstrip("/")
    query = urlencode(
        [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMS
        ]
    )
    return urlunsplit((scheme, host, path, query, ""))


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, whitespace collapsed."""
    if "<" not in fragment and "&" not in fragment:
        return _SPACE.sub(" ", fragment).strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(fragment, "html.parser")
    for tag in soup(["script", "style", "noscript", "iframe", "object"]):
        tag.decompose()
    return _SPACE.sub(" ", soup.get_text(" ")).strip()


def clean_title(title: str) -> str:
    """The headline as text, without the " - Outlet" suffix that feeds like to append."""
    text = html_to_text(title).replace(" \\ ", " - ")
    suffix = _TITLE_SUFFIX.search(text)
    if suffix and len(suffix.group().split()) <= 5:
        return text[: suffix.start()]
    return text


def cap(text: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"
