"""Checks of a rendered email before it is sent: its size against Gmail's clipping, its
subject's length, and whether its links answer.

Gmail cuts off an HTML body above 102 KB behind "[Message clipped]" (and the
unsubscribe footer with it); phones show about the first 60 characters of a subject.
Links are asked with HEAD (GET when a site refuses HEAD), concurrently, each with a
short timeout; the service's own links (archive, unsubscribe, preferences) are skipped.
A link's answer is kept ten minutes per process, so the review page, shown again after
each action, does not ask every site again.

The links come from news feeds, so a link (or a redirect) to an address that is not
public (loopback, private networks, link-local cloud metadata) is reported and never
asked, unless ``NEWSLETTER_LINK_CHECK_PRIVATE_HOSTS`` allows it (an intranet's news).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser

import httpx

GMAIL_CLIP_BYTES = 102 * 1024
SUBJECT_MAX = 60
LINK_TIMEOUT = 5.0
LINK_WORKERS = 16
MAX_LINKS = 48  # at most three rounds of timeouts: a page answers within ~15 s
REMEMBER_SECONDS = 600.0
_answers: dict[str, tuple[float, LinkCheck]] = {}


@dataclass(frozen=True)
class LinkCheck:
    url: str
    ok: bool
    problem: str = ""


@dataclass(frozen=True)
class EmailChecks:
    html_bytes: int
    subject_length: int
    links: list[LinkCheck]

    @property
    def size_ok(self) -> bool:
        return self.html_bytes <= GMAIL_CLIP_BYTES

    @property
    def subject_ok(self) -> bool:
        return self.subject_length <= SUBJECT_MAX

    @property
    def links_ok(self) -> bool:
        return all(link.ok for link in self.links)

    @property
    def ok(self) -> bool:
        return self.size_ok and self.subject_ok and self.links_ok


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith(("http://", "https://")):
                self.found.append(href)


def links_in(html: str, own_base_url: str) -> list[str]:
    """The distinct http(s) links of ``html`` that lead off the service's own site."""
    parser = _Links()
    parser.feed(html)
    own = own_base_url.rstrip("/") + "/"
    return list(dict.fromkeys(u for u in parser.found if not u.startswith(own)))[:MAX_LINKS]


class _NotPublic(Exception):
    """A request was about to go to an address that is not public."""


def is_public(host: str) -> bool:
    """True if every address ``host`` resolves to is a global one (a name that does not
    resolve counts as public: the request then fails and says so)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return True
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_global for info in infos)


def _refuse_private(request: httpx.Request) -> None:
    if not is_public(request.url.host):
        raise _NotPublic(request.url.host)


def _check(client: httpx.Client, url: str) -> LinkCheck:
    try:
        response = client.head(url)
        if response.status_code in (403, 405, 501):  # some sites refuse HEAD only
            with client.stream("GET", url) as streamed:
                response = streamed
    except httpx.HTTPError as error:
        return LinkCheck(url, False, type(error).__name__)
    except _NotPublic as error:
        return LinkCheck(url, False, f"not a public address ({error}): not asked")
    if response.status_code >= 400:
        return LinkCheck(url, False, f"HTTP {response.status_code}")
    return LinkCheck(url, True)


def check_links(
    urls: list[str], timeout: float = LINK_TIMEOUT, *, private_hosts: bool = False
) -> list[LinkCheck]:
    """Each link's answer; ``private_hosts`` also asks links to non-public addresses."""
    now = time.monotonic()
    key = "private:" if private_hosts else "public:"
    known = {u: kept[1] for u in urls if (kept := _answers.get(key + u)) and kept[0] > now}
    asking = [url for url in urls if url not in known]
    if asking:
        headers = {"User-Agent": "newsletter-link-check/1"}
        hooks = {"request": [] if private_hosts else [_refuse_private]}
        with (
            httpx.Client(
                timeout=timeout, follow_redirects=True, headers=headers, event_hooks=hooks
            ) as client,
            ThreadPoolExecutor(max_workers=min(LINK_WORKERS, len(asking))) as pool,
        ):
            for check in pool.map(lambda url: _check(client, url), asking):
                known[check.url] = check
                _answers[key + check.url] = (now + REMEMBER_SECONDS, check)
    return [known[url] for url in urls]


def check_email(
    subject: str, html: str, own_base_url: str, *, private_hosts: bool = False
) -> EmailChecks:
    return EmailChecks(
        html_bytes=len(html.encode("utf-8")),
        subject_length=len(subject),
        links=check_links(links_in(html, own_base_url), private_hosts=private_hosts),
    )
