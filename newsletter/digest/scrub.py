"""What a reader may see of untrusted text (feed items, and model text that read them).

:class:`ReaderFilter` cleans one string at a time:

- invisible and bidi characters go (:mod:`newsletter.sources.invisible`);
- a sentence that carries a link to anything but an ingested item goes whole, so that no
  remnant ("sign in at or to claim.") is left. A link is a URL with a scheme, a
  ``www.`` name, a markdown link, or any host-like token (``free-credits-claude.com``,
  ``anthropic.com.evil.example``): a dotted name whose last label is a known top-level
  domain, or whose labels mix scripts (Cyrillic ``а`` in ``аnthropic.com``), also as
  the domain of an e-mail address (mail clients link those too). Tokens are
  compared after NFKC, so full-width ``ｅｖｉｌ．ｃｏｍ`` is ``evil.com``;
- a sentence that gives the model instructions ("Ignore previous instructions ...") goes;
- a sentence that counts sources, outlets or stories with a number the code did not
  compute goes (numbers about the digest's sources come from code);
- literal markup is reduced to its text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from newsletter.sources.invisible import strip_invisible
from newsletter.sources.normalize import canonical_url, html_to_text

# Domains that are also product names and never a third party's: written bare, they are
# names ("in Claude.ai"), not links someone planted.
PRODUCT_DOMAINS = frozenset({"claude.ai"})
# Names the Public Suffix List leaves out but that are still host names somewhere
# (RFC 2606/6761 reserved names, Tor, private networks).
RESERVED_TLDS = frozenset(
    {
        "example",
        "test",
        "invalid",
        "localhost",
        "local",
        "onion",
        "internal",
        "lan",
        "home",
        "corp",
        "arpa",
    }
)

_MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_SCHEME_URL = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww[.．]|\b(?:javascript|vbscript|data|file|mailto):)"
    r"[^\s<>\"'`()\[\]{}（）「」『』【】《》〈〉，。、；！？]*",
    re.IGNORECASE,
)
# Letters of alphabetic scripts (not CJK, which has no spaces to end a token), digits,
# hyphens, and their full-width forms; dots include the full-width and halfwidth ones.
_L = (
    r"0-9A-Za-z\-\u00c0-\u024f\u0370-\u03ff\u0400-\u052f\u0530-\u058f\u0590-\u06ff"
    r"\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0d"
)
_DOT = r".\uff0e\uff61"
_HOST = re.compile(
    rf"(?<![{_L}/])(?:[{_L}]+[{_DOT}])+[{_L}]{{2,63}}(?::\d+)?(?:/[^\s<>\"'`()\[\]{{}}]*)?(?![{_L}])"
)
_TRAILING = ".,;:!?'\"。，"
_SENTENCE = re.compile(r".*?(?:[.!?…]+(?=[\s\"'”’)]|$)[\"'”’)]*|[。！？]+|$)\s*", re.DOTALL)
_SPACE_BEFORE_PUNCTUATION = re.compile(r" +([.,;:!?。，、；：！？])")
_MARKUP = re.compile(r"<[a-zA-Z/!?]|&(?:lt|#0*60|#x0*3c);", re.IGNORECASE)
_INSTRUCTIONS = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?。]{0,40}"
    r"\b(?:instructions?|prompts?|rules|directions|guidelines|system)\b"
    r"|\b(?:new|updated|real|hidden|system)\s+(?:instructions?|prompt)\b"
    r"|\bsystem\s+(?:note|message|override)\b"
    r"|\b(?:note|message|instructions?)\s+(?:to|for)\s+(?:the\s+)?(?:ai|model|assistant|llm|"
    r"writer|summari[sz]er|bot)\b"
    r"|\byou\s+are\s+now\b|\bas\s+an?\s+ai\s+(?:language\s+)?model\b"
    r"|\b(?:tell|instruct)\s+(?:every|all|the)\s+readers?\b"
    r"|忽略.{0,8}(?:指令|指示|提示)|無視.{0,8}(?:指示|命令)",
    re.IGNORECASE,
)
_NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
# Nouns that count the digest's own sources (generic ones such as "reports" or "items"
# are left alone: "Anthropic published 3 reports" is news, not a claim about us).
_COUNT_NOUNS = {
    "source": "items",
    "sources": "items",
    "article": "items",
    "articles": "items",
    "publication": "outlets",
    "publications": "outlets",
    "outlet": "outlets",
    "outlets": "outlets",
    "story": "stories",
    "stories": "stories",
    "來源": "items",
    "媒體": "outlets",
    "新聞": "stories",
}
_CJK_COUNTERS = {"家": "outlets", "篇": "items", "則": "stories"}
_COUNT_CLAIM = re.compile(
    r"\b(\d{1,4}|" + "|".join(_NUMBER_WORDS) + r")\s+(?:[a-z-]+\s+){0,2}?"
    r"(sources?|articles?|publications?|outlets?|stories|story)\b"
    r"|(\d{1,4})\s*(個|家|則|篇)[^。.!?\n]{0,12}?(來源|媒體|新聞)",
    re.IGNORECASE,
)


@cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()


def _scripts(label: str) -> set[str]:
    """The scripts of a label's letters ("LATIN", "CYRILLIC", ...)."""
    return {unicodedata.name(char, "?").split(" ")[0] for char in label if char.isalpha()}


def _is_host(token: str) -> bool:
    """A dotted name a reader (or a mail client) would take for a web address."""
    host = unicodedata.normalize("NFKC", token).split("/", 1)[0].split(":", 1)[0].lower()
    labels = host.split(".")
    if any(len(_scripts(label)) > 1 for label in labels):
        return True  # a look-alike: Latin and Cyrillic letters in one name
    tld = labels[-1]
    if tld in RESERVED_TLDS:
        return True
    try:
        ascii_tld = tld.encode("idna").decode("ascii")
    except UnicodeError:
        return True
    return _suffixes().publicsuffix(ascii_tld, accept_unknown=False) is not None


def _key(url: str) -> str | None:
    """How an URL is compared: NFKC, no scheme, no trackers; None if it is malformed."""
    url = unicodedata.normalize("NFKC", url).strip()
    if "://" not in url:
        url = "http://" + url
    try:
        return canonical_url(url).split("://", 1)[-1].rstrip("/")
    except ValueError:
        return None


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url if "://" in url else f"http://{url}").hostname or "").lower()
    except ValueError:
        return ""


@dataclass(frozen=True)
class ReaderFilter:
    """Cleans untrusted strings for readers; see the module docstring."""

    allowed: frozenset[str]  # URL keys of the ingested items
    hosts: frozenset[str]  # their hosts, which may be named bare ("anthropic.com")
    counts: Mapping[str, frozenset[int]] = field(default_factory=dict)

    @classmethod
    def for_items(
        cls, urls: Iterable[str], counts: Mapping[str, frozenset[int]] | None = None
    ) -> ReaderFilter:
        urls = list(urls)
        hosts = {host for url in urls if (host := _host_of(url))}
        hosts |= {host.removeprefix("www.") for host in hosts} | PRODUCT_DOMAINS
        return cls(
            frozenset(key for url in urls if (key := _key(url))), frozenset(hosts), counts or {}
        )

    def is_allowed(self, url: str) -> bool:
        key = _key(url)
        if key is None:
            return False
        return key in self.allowed or key in self.hosts

    def foreign_urls(self, text: str) -> list[str]:
        """The links in ``text`` that are not an ingested item's."""
        found = []
        for match in _MARKDOWN_LINK.finditer(text):
            if not self.is_allowed(match[2]):
                found.append(match[2] or "(empty link)")
        rest = _MARKDOWN_LINK.sub(lambda m: m[1] if self.is_allowed(m[2]) else " ", text)
        for match in _SCHEME_URL.finditer(rest):
            url = match[0].rstrip(_TRAILING)
            if not self.is_allowed(url):
                found.append(url)
        rest = _SCHEME_URL.sub(" ", rest)
        for match in _HOST.finditer(rest):
            token = match[0].rstrip(_TRAILING)
            if _is_host(token) and not self.is_allowed(token):
                found.append(token)
        return found

    def _wrong_count(self, sentence: str) -> bool:
        if not self.counts:
            return False
        for match in _COUNT_CLAIM.finditer(sentence):
            if match[1]:
                number, kind = match[1], _COUNT_NOUNS.get(match[2].lower())
            else:  # the measure word says what is counted: 家 outlets, 篇 articles, 則 stories
                number, kind = match[3], _CJK_COUNTERS.get(match[4]) or _COUNT_NOUNS[match[5]]
            value = _NUMBER_WORDS.get(number.lower()) if not number.isdigit() else int(number)
            if kind and value is not None and value not in self.counts.get(kind, frozenset()):
                return True
        return False

    def clean(self, text: str, removed: list[str]) -> str:
        """``text`` as a reader may see it; what was taken out is added to ``removed``."""
        cleaned = strip_invisible(text)
        kept = []
        for sentence in _SENTENCE.findall(cleaned):
            foreign = self.foreign_urls(sentence)
            if foreign:
                removed.extend(foreign)
            elif _INSTRUCTIONS.search(sentence):
                removed.append(f"instruction: {sentence.strip()[:80]}")
            elif self._wrong_count(sentence):
                removed.append(f"count: {sentence.strip()[:80]}")
            else:
                kept.append(sentence)
        cleaned = "".join(kept).strip()
        if _MARKUP.search(cleaned):
            cleaned = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", html_to_text(cleaned))
        return cleaned if cleaned != text.strip() else text
