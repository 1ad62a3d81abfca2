"""Turn what a feed says into clean, comparable item fields.

Feed text is never trusted: HTML is reduced to plain text here and escaped again
wherever it is shown.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from datetime import UTC, datetime
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

SUMMARY_MAX_CHARS = 600
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "ref",
        "ref_src",
        "cmpid",
        "ncid",
        "ocid",
        "guccounter",
        "smid",
        "smtyp",
        "sr_share",
        "at_medium",
        "at_campaign",
        "taid",
    }
)
# Query parameters that only ask for the AMP or mobile rendering of the same page.
AMP_PARAMS = frozenset({"amp", "outputtype", "amp_js_v", "usqp", "mobile"})
# Hosts that only forward to another URL.
REDIRECT_HOSTS = frozenset({"news.google.com", "www.google.com", "google.com"})
_MOBILE_HOST_PREFIXES = ("m.", "mobile.", "amp.")
_NAME_JOINERS = frozenset({"of", "the", "and", "for", "on", "de", "&"})
_SPACE = re.compile(r"\s+")
# " - Outlet", " | Outlet", " : r/Sub" at the end of a headline
_TITLE_SUFFIX = re.compile(r"\s+(?:[-|–—]|:\s*r/)\s*[^-|–—]{2,60}$")
_MARKUP = re.compile(r"<[a-zA-Z/!]|&(?:lt|#0*60|#x0*3c);", re.IGNORECASE)
MAX_UNESCAPE_PASSES = 3
_AMP_CACHE = re.compile(r"^[a-z0-9-]+\.cdn\.ampproject\.org$")


def canonical_url(url: str) -> str:
    """The URL without tracking parameters, fragment, default port or AMP/mobile variants."""
    parts = urlsplit(_unwrap_amp_cache(url.strip()))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    for prefix in _MOBILE_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    if parts.port and not (
        (scheme == "http" and parts.port == 80) or (scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    path = re.sub(r"/amp/?$", "/", parts.path)
    path = re.sub(r"\.amp(\.html?)$", r"\1", path)
    path = re.sub(r"^/amp/(?=.)", "/", path) or "/"
    query = urlencode(
        sorted(
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if not key.lower().startswith("utm_")
            and key.lower() not in TRACKING_PARAMS
            and key.lower() not in AMP_PARAMS
        )
    )
    if path != "/" and path.endswith("/") and not query:
        path = path.rstrip("/")
    return urlunsplit((scheme, host, path, query, ""))


def _unwrap_amp_cache(url: str) -> str:
    """The publisher URL behind a Google AMP cache or AMP viewer URL."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if _AMP_CACHE.match(host):
        match = re.match(r"^/[cvi]/(s/)?(.+)$", parts.path)
        if match:
            scheme = "https" if match.group(1) else "http"
            return f"{scheme}://{match.group(2)}" + (f"?{parts.query}" if parts.query else "")
    if host in ("www.google.com", "google.com") and parts.path.startswith("/amp/"):
        rest = parts.path[len("/amp/") :]
        if rest.startswith("s/"):
            return f"https://{rest[2:]}"
        return f"http://{rest}"
    return url


def resolve_redirect(link: str, summary_html: str = "") -> str:
    """The article behind a news aggregator's redirect link, when the feed tells us.

    Google News and Google search wrap article links; the target is found in a
    ``url``/``q`` parameter, in an old-style article id (which embeds the URL), or as the
    one off-site link in the item's description. A link we cannot resolve is returned
    as it is.
    """
    parts = urlsplit(link)
    if (parts.hostname or "").lower() not in REDIRECT_HOSTS:
        return link
    params = dict(parse_qsl(parts.query))
    for key in ("url", "q"):
        target = unquote(params.get(key, ""))
        if _is_offsite(target):
            return target
    embedded = _url_in_article_id(parts.path.rsplit("/", 1)[-1])
    if embedded:
        return embedded
    offsite = [href for href in _links(summary_html) if _is_offsite(href)]
    if len(set(offsite)) == 1:
        return offsite[0]
    return link


def _is_offsite(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme in ("http", "https") and bool(host) and host not in REDIRECT_HOSTS


def _url_in_article_id(article_id: str) -> str | None:
    """The URL inside an old-style Google News article id (base64 of a small protobuf)."""
    if len(article_id) < 8:
        return None
    try:
        raw = base64.urlsafe_b64decode(article_id + "=" * (-len(article_id) % 4))
    except (binascii.Error, ValueError):
        return None
    match = re.search(rb"https?://[\x21-\x7e]+", raw)
    if not match:
        return None
    url = match.group().decode("ascii")
    return url if _is_offsite(url) else None


def _links(fragment: str) -> list[str]:
    if "<a" not in fragment:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(fragment, "html.parser")
    return [str(anchor["href"]).strip() for anchor in soup.find_all("a", href=True)]


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, whitespace collapsed; scripts and styles dropped.

    Feeds often escape their HTML twice or more, so text that still reads as markup (or
    as escaped markup) gets another pass: no tag from a feed survives, even as text.
    """
    text = _text_once(fragment)
    for _ in range(MAX_UNESCAPE_PASSES):
        if not _MARKUP.search(text):
            break
        text = _text_once(text)
    return text


def _text_once(fragment: str) -> str:
    if "<" not in fragment and "&" not in fragment:
        return _SPACE.sub(" ", fragment).strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(fragment, "html.parser")
    for tag in soup(["script", "style", "noscript", "iframe", "object", "embed", "template"]):
        tag.decompose()
    return _SPACE.sub(" ", soup.get_text(" ")).strip()


def clean_title(title: str, outlet: str = "") -> str:
    """The headline as text, without the " - Outlet" suffix that feeds like to append."""
    text = html_to_text(title).replace(" \\ ", " - ")
    if outlet:
        for separator in (" - ", " | ", " – ", " — "):
            suffix = f"{separator}{outlet.strip()}"
            if text.lower().endswith(suffix.lower()) and len(text) > len(suffix):
                return text[: -len(suffix)].strip()
    suffix = _TITLE_SUFFIX.search(text)
    if suffix and _looks_like_a_name(suffix.group().lstrip(" -|–—:")):
        return text[: suffix.start()]
    return text


def _looks_like_a_name(text: str) -> bool:
    """An outlet's name: at most five words, each capitalised, a number, a domain or a
    joining word ("NBC News", "The Wall Street Journal", "theverge.com", "r/ClaudeAI");
    not the second half of a headline ("what's new")."""
    words = text.split()
    return (
        0 < len(words) <= 5
        and all(
            word[0].isupper()
            or word[0].isdigit()
            or "." in word
            or word.startswith("r/")
            or word.lower() in _NAME_JOINERS
            for word in words
        )
        and not all(word.lower() in _NAME_JOINERS for word in words)
    )


def cap(text: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


def from_timestamp(value: object) -> datetime | None:
    """A UTC time from a Unix timestamp in JSON, or None if it is not a usable one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def not_after(when: datetime, now: datetime) -> datetime:
    """A publish time no later than ``now``: a future date would sit in every window."""
    return min(when, now)
