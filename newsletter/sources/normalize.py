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
from functools import cache
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
from publicsuffixlist import PublicSuffixList

from newsletter.sources.invisible import strip_invisible

SUMMARY_MAX_CHARS = 600
# Query parameters that only track who clicked where: the one list of them (exact
# names, compared case-insensitively, then prefixes). Sources: the ClearURLs rules and
# the parameters mail, ad and social platforms add to shared links.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "igsh",
        "si",
        "_ga",
        "_gl",
        "_ke",
        "mkt_tok",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "cmpid",
        "ncid",
        "ocid",
        "icid",
        "scid",
        "s_cid",
        "s_kwcid",
        "ef_id",
        "spm",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "smid",
        "smtyp",
        "sr_share",
        "at_medium",
        "at_campaign",
        "taid",
        "wt.mc_id",
        "wt_mc_id",
        "rb_clickid",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "vero_conv",
        "_openstat",
        "__twitter_impression",
        "trk",
        "trkcampaign",
    }
)
TRACKING_PREFIXES = ("utm_", "mc_", "_hs", "hsa_", "pk_", "mtm_", "matomo_", "ga_", "stm_")
# Query parameters that only ask for the AMP or mobile rendering of the same page.
AMP_PARAMS = frozenset({"amp", "outputtype", "amp_js_v", "usqp", "mobile"})
# Hosts that only forward to another URL.
REDIRECT_HOSTS = frozenset({"news.google.com", "www.google.com", "google.com"})
_MOBILE_HOST_PREFIXES = ("m.", "mobile.", "amp.")
_SPACE = re.compile(r"\s+")
# " - Outlet", " | Outlet", " : r/Sub" at the end of a headline
_TITLE_SUFFIX = re.compile(r"\s+(?:[-|–—]|:\s*r/)\s*[^-|–—]{2,60}$")
_MARKUP = re.compile(r"<[a-zA-Z/!]|&(?:lt|#0*60|#x0*3c);", re.IGNORECASE)
MAX_UNESCAPE_PASSES = 3
_AMP_CACHE = re.compile(r"^[a-z0-9-]+\.cdn\.ampproject\.org$")


# What may stay as it is in a stored link's path, query and fragment: the reserved
# characters and "%" (already-escaped links stay as they are). Quotes, angle brackets,
# backticks, spaces and non-ASCII characters are percent-encoded.
_URL_SAFE = "/?:@!$&()*+,;=%~-._[]"


class BadLink(ValueError):
    """An item's link that cannot be stored; the message is the short reason."""


def item_url(link: str, base: str = "") -> str:
    """The absolute http(s) URL of an item link, relative links resolved against ``base``
    (the feed's or page's URL) and the scheme in lower case; :class:`BadLink` says why
    a link cannot be one."""
    link = strip_invisible(link).strip()
    if not link:
        raise BadLink("no link")
    if any(char.isspace() or ord(char) < 32 for char in link):
        raise BadLink("spaces in the link")
    try:
        url = urljoin(base, link) if base else link
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a port that is not 0-65535)
    except ValueError:
        raise BadLink("malformed link (bad port or host)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BadLink("not an http(s) link" if scheme else "relative link with no base")
    if not parts.hostname:
        raise BadLink("link without a host")
    if parts.username is not None or parts.password is not None:
        raise BadLink("link with a user name")  # https://anthropic.com@evil.example/
    path, query, fragment = (quote(part, safe=_URL_SAFE) for part in parts[2:])
    return urlunsplit((scheme, parts.netloc.lower(), path, query, fragment))


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
    query = "&".join(
        pair for pair in parts.query.split("&") if pair and not _drops_param(pair.split("=", 1)[0])
    )
    if path != "/" and path.endswith("/") and not query:
        path = path.rstrip("/")
    return urlunsplit((scheme, host, path, query, ""))


def _drops_param(raw_key: str) -> bool:
    """A query parameter that only tracks the click or asks for an AMP/mobile variant."""
    key = unquote(raw_key.replace("+", " ")).strip().lower()
    return key in TRACKING_PARAMS or key in AMP_PARAMS or key.startswith(TRACKING_PREFIXES)


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


def clean_title(title: str, *names: str) -> str:
    """The headline as text, without the " - Outlet" suffix that feeds like to append.

    A suffix is cut only when it names the outlet or the site (``names``: the outlet's
    name, the feed's title, the item's URL; see :func:`site_names`), so "Anthropic
    Launches New Model - Claude Opus 5" keeps its second half.
    """
    text = html_to_text(title).replace(" \\ ", " - ")
    keys = {key for name in names for key in _name_keys(name)}
    suffix = _TITLE_SUFFIX.search(text)
    while suffix and keys and _name_key(suffix.group().lstrip(" -|–—:")) in keys:
        text = text[: suffix.start()].rstrip()
        suffix = _TITLE_SUFFIX.search(text)
    return text


def site_names(url: str) -> list[str]:
    """Names a headline may end with to say where it comes from: the host with and
    without "www.", its registrable name ("theverge" for www.theverge.com) and, for
    Reddit, the subreddit ("r/ClaudeAI")."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return []
    if not host:
        return []
    names = [host, host.removeprefix("www.")]
    private = _suffixes().privatesuffix(host)
    if private:
        names.append(private.split(".", 1)[0])
    subreddit = re.match(r"^/r/([A-Za-z0-9_]+)", parts.path)
    if subreddit:
        names.append(f"r/{subreddit.group(1)}")
    return names


@cache
def _suffixes() -> PublicSuffixList:
    """The Public Suffix List bundled with the package (no download)."""
    return PublicSuffixList()


def _name_key(name: str) -> str:
    return "".join(char for char in name.casefold() if char.isalnum())


def _name_keys(name: str) -> set[str]:
    key = _name_key(name)
    return {key, key.removeprefix("the")} - {""}


_AGGREGATOR_TEXT = re.compile(
    r"\bhttps?://\S+|\bwww\.\S+"
    r"|\b(?:article|comments) url:|#? ?comments: \d+|\bpoints: \d+"
    r"|\b\d+ points?, \d+ comments?|\bsubmitted by /?u/\S+|\[link\]|\[comments\]|\blinks to\b",
    re.IGNORECASE,
)


def without_aggregator_text(text: str) -> str:
    """``text`` without what aggregators' feeds add to every item (Hacker News's "Points:
    87 # Comments: 41", Reddit's "submitted by /u/name [link] [comments]", our own
    "N points, M comments; links to") and without web addresses: words every item of a
    feed has say nothing about its story, and an address is no sentence."""
    return _AGGREGATOR_TEXT.sub(" ", text)


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
