"""The shared HTTP layer against a real local server: retries, caps, validators."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from newsletter.sources.fetch import (
    Fetched,
    Fetcher,
    FetchError,
    FetchPolicy,
    make_client,
    retry_after_seconds,
)
from tests.sources.fakeweb import FakeSite, Reply

FAST = FetchPolicy(timeout=2.0, retries=2, backoff=0.01, max_retry_after=5.0, max_bytes=50_000)
FEED = b"<rss version='2.0'><channel><title>t</title></channel></rss>"


@dataclass
class Run:
    sleeps: list[float] = field(default_factory=list)

    def get(self, url: str, policy: FetchPolicy = FAST, **kwargs: str) -> Fetched:
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        async def main() -> Fetched:
            async with make_client(policy) as client:
                return await Fetcher(client, policy, sleep=sleep).get(url, **kwargs)

        return asyncio.run(main())


def test_ok_response_carries_body_type_and_validators(site: FakeSite) -> None:
    url = site.route(
        "/feed",
        Reply(
            body=FEED,
            headers={
                "Content-Type": "application/rss+xml; charset=utf-8",
                "ETag": '"v1"',
                "Last-Modified": "Mon, 12 Jan 2026 04:00:00 GMT",
            },
        ),
    )
    fetched = Run().get(url)
    assert (fetched.content, fetched.content_type, fetched.etag) == (
        FEED,
        "application/rss+xml",
        '"v1"',
    )
    assert fetched.last_modified == "Mon, 12 Jan 2026 04:00:00 GMT"
    assert not fetched.not_modified and fetched.attempts == 1
    assert "newsletter-digest" in site.requests[0][1]["user-agent"]


def test_conditional_get_sends_validators_and_304_has_no_body(site: FakeSite) -> None:
    def respond(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(body=FEED, headers={"ETag": '"v1"'})

    url = site.route("/feed", respond)
    fetched = Run().get(url, etag='"v1"', last_modified="Mon, 12 Jan 2026 04:00:00 GMT")
    assert fetched.not_modified and fetched.content == b""
    headers = site.requests[0][1]
    assert headers["if-modified-since"] == "Mon, 12 Jan 2026 04:00:00 GMT"
    assert not Run().get(url).not_modified


def test_429_waits_for_retry_after_then_succeeds(site: FakeSite) -> None:
    url = site.route("/feed", Reply(429, headers={"Retry-After": "3"}), Reply(body=FEED))
    run = Run()
    fetched = run.get(url)
    assert fetched.content == FEED and fetched.attempts == 2
    assert run.sleeps == [3.0]


def test_429_with_too_long_retry_after_gives_up_at_once(site: FakeSite) -> None:
    url = site.route("/feed", Reply(429, headers={"Retry-After": "3600"}), Reply(body=FEED))
    run = Run()
    with pytest.raises(FetchError, match=r"HTTP 429, Retry-After 3600 s is longer than the 5 s"):
        run.get(url)
    assert site.hits("/feed") == 1 and run.sleeps == []


def test_retry_after_as_http_date() -> None:
    now = datetime(2026, 1, 12, 4, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(later, now) == 90
    assert retry_after_seconds("soon", now) is None


def test_500_then_200_retries_with_backoff(site: FakeSite) -> None:
    url = site.route("/feed", Reply(500), Reply(503), Reply(body=FEED))
    run = Run()
    assert run.get(url).attempts == 3
    assert run.sleeps == [0.01, 0.02]


def test_persistent_500_gives_up_after_limited_retries(site: FakeSite) -> None:
    url = site.route("/feed", Reply(500))
    with pytest.raises(FetchError, match=r"HTTP 500 \(gave up after 3 attempts\)"):
        Run().get(url)
    assert site.hits("/feed") == 3


def test_404_is_not_retried(site: FakeSite) -> None:
    url = site.route("/feed", Reply(404))
    with pytest.raises(FetchError, match=r"^HTTP 404$"):
        Run().get(url)
    assert site.hits("/feed") == 1


def test_refused_connection_is_retried_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = Run()
    with pytest.raises(FetchError, match=r"ConnectError.*gave up after 3 attempts"):
        run.get(f"http://127.0.0.1:{port}/feed")
    assert len(run.sleeps) == 2


def test_redirects_are_followed(site: FakeSite) -> None:
    site.route("/old", Reply(301, headers={"Location": "/moved"}))
    site.route("/moved", Reply(302, headers={"Location": site.url("/feed")}))
    site.route("/feed", Reply(body=FEED))
    fetched = Run().get(site.url("/old"))
    assert fetched.content == FEED and fetched.url == site.url("/feed")


def test_redirect_loop_fails(site: FakeSite) -> None:
    url = site.route("/loop", Reply(302, headers={"Location": "/loop"}))
    with pytest.raises(FetchError, match="more than 5 redirects"):
        Run().get(url)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body=b"x" * 60_000),
        Reply(body=b"x" * 60_000, chunked=True),
        Reply(body=gzip.compress(b"<rss>" + b" " * 200_000), headers={"Content-Encoding": "gzip"}),
    ],
    ids=["declared", "streamed", "gzip-bomb"],
)
def test_huge_response_is_capped(site: FakeSite, reply: Reply) -> None:
    url = site.route("/huge", reply)
    with pytest.raises(FetchError, match="over the 50000 byte cap"):
        Run().get(url)


def test_gzip_is_decoded(site: FakeSite) -> None:
    url = site.route("/feed", Reply(body=gzip.compress(FEED), headers={"Content-Encoding": "gzip"}))
    assert Run().get(url).content == FEED
    assert "gzip" in site.requests[0][1]["accept-encoding"]


def test_slow_source_times_out_without_retry(site: FakeSite) -> None:
    url = site.route("/slow", Reply(body=FEED, delay=1.5))
    started = time.perf_counter()
    with pytest.raises(FetchError, match=r"^timed out after 0\.3 s$"):
        Run().get(url, FetchPolicy(timeout=0.3, retries=2, backoff=0.01))
    assert time.perf_counter() - started < 1.0
    assert site.hits("/slow") == 1


def test_per_host_concurrency_is_capped(make_site: Callable[[], FakeSite]) -> None:
    site, other = make_site(), make_site()
    for name in "abcdef":
        site.route(f"/{name}", Reply(body=FEED, delay=0.2))
    other.route("/x", Reply(body=FEED, delay=0.2))
    policy = FetchPolicy(timeout=5.0, per_host=2)

    async def main() -> None:
        async with make_client(policy) as client:
            fetcher = Fetcher(client, policy)
            urls = [site.url(f"/{name}") for name in "abcdef"] + [other.url("/x")]
            await asyncio.gather(*(fetcher.get(url) for url in urls))

    asyncio.run(main())
    assert site.max_in_flight == 2
    assert len(site.requests) == 6 and len(other.requests) == 1


def test_overall_concurrency_is_capped(site: FakeSite) -> None:
    for name in "abcdef":
        site.route(f"/{name}", Reply(body=FEED, delay=0.2))
    policy = FetchPolicy(timeout=5.0, per_host=10, max_connections=3)

    async def main() -> None:
        async with make_client(policy) as client:
            fetcher = Fetcher(client, policy)
            await asyncio.gather(*(fetcher.get(site.url(f"/{name}")) for name in "abcdef"))

    asyncio.run(main())
    assert site.max_in_flight == 3 and len(site.requests) == 6
