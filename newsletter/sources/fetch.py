"""HTTP for ingestion: one shared client, bounded and polite.

Every request gets a total deadline, a capped body size, per-host and overall
concurrency limits, conditional-GET headers, and a few retries with exponential backoff
on 429, 5xx and broken connections. A timeout is not retried: a slow source would only
be slow again, and it must not hold up the run. A ``Retry-After`` longer than the
policy allows ends the attempt instead of stalling the whole topic.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from newsletter.sources.sample_transport import SCHEME, SampleFeedTransport

USER_AGENT = "newsletter-digest/0.1 (self-hosted daily news digest)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Broken or refused connections are worth another try; timeouts are not (see above).
RETRY_ERRORS = (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch run; the defaults suit a daily job, tests shrink them."""

    timeout: float = 15.0  # seconds for a whole attempt, body included
    retries: int = 2  # further attempts after the first
    backoff: float = 1.0  # seconds before the first retry, doubled each time
    max_retry_after: float = 30.0  # longest Retry-After we are willing to wait
    per_host: int = 4  # requests in flight to one host (host:port) at once
    max_connections: int = 32  # requests in flight in all
    max_bytes: int = 5_000_000  # decoded body size
    max_redirects: int = 5


class FetchError(Exception):
    """The source could not be fetched; the message says why, in one line."""


@dataclass(frozen=True)
class Fetched:
    """A usable answer: ``not_modified`` (304, nothing to parse) or a body."""

    url: str
    not_modified: bool
    content: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    attempts: int


def make_client(
    policy: FetchPolicy, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one client a fetch run shares; ``sample://`` URLs read the bundled feeds."""
    return httpx.AsyncClient(
        transport=transport,
        mounts={f"{SCHEME}://": SampleFeedTransport()},
        timeout=httpx.Timeout(policy.timeout),
        follow_redirects=True,
        max_redirects=policy.max_redirects,
        limits=httpx.Limits(max_connections=policy.max_connections),
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
    )


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


class Fetcher:
    """GETs through a shared client under a :class:`FetchPolicy`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        policy: FetchPolicy,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.policy = policy
        self._sleep = sleep
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._all = asyncio.Semaphore(policy.max_connections)

    def _slot(self, url: str) -> asyncio.Semaphore:
        host = urlsplit(url).netloc.lower()
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self.policy.per_host)
        return self._hosts[host]

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Fetched:
        """The response to ``url``, or :class:`FetchError` once retries are spent."""
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            attempt += 1
            try:
                # the host's slot first: a request waiting on a busy host holds no global one
                async with self._slot(url), self._all:
                    return await self._attempt(url, request_headers, attempt)
            except _Retry as retry:
                if attempt > self.policy.retries:
                    raise FetchError(f"{retry} (gave up after {attempt} attempts)") from None
                backoff = self.policy.backoff * 2 ** (attempt - 1)
                await self._sleep(max(backoff, retry.wait or 0.0))

    async def _attempt(self, url: str, headers: dict[str, str], attempt: int) -> Fetched:
        policy = self.policy
        try:
            async with asyncio.timeout(policy.timeout):
                async with self.client.stream("GET", url, headers=headers) as response:
                    self._check_status(response)
                    if response.status_code == 304:
                        return self._fetched(response, b"", attempt)
                    return self._fetched(response, await self._read_capped(response), attempt)
        except (TimeoutError, httpx.TimeoutException):
            raise FetchError(f"timed out after {policy.timeout:g} s") from None
        except httpx.TooManyRedirects:
            raise FetchError(f"more than {policy.max_redirects} redirects") from None
        except RETRY_ERRORS as error:
            reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            raise _Retry(reason) from None
        except httpx.HTTPError as error:
            raise FetchError(f"{type(error).__name__}: {error}") from None

    def _check_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 304 or 200 <= status < 300:
            return
        if status in RETRY_STATUSES:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is not None and wait > self.policy.max_retry_after:
                raise FetchError(
                    f"HTTP {status}, Retry-After {wait:.0f} s is longer than "
                    f"the {self.policy.max_retry_after:.0f} s we wait"
                )
            raise _Retry(f"HTTP {status}", wait)
        raise FetchError(f"HTTP {status}")

    async def _read_capped(self, response: httpx.Response) -> bytes:
        limit = self.policy.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"response of {int(declared)} bytes is over the {limit} byte cap")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise FetchError(f"response is over the {limit} byte cap")
        return bytes(body)

    @staticmethod
    def _fetched(response: httpx.Response, content: bytes, attempt: int) -> Fetched:
        return Fetched(
            url=str(response.url),
            not_modified=response.status_code == 304,
            content=content,
            content_type=response.headers.get("Content-Type", "").split(";")[0].strip().lower(),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            attempts=attempt,
        )
