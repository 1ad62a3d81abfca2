"""The Redis rate limit holds across limiters (workers) sharing one key."""

from __future__ import annotations

import threading
import time

from redis import Redis

from newsletter.delivery.ratelimit import (
    LocalRateLimiter,
    RedisRateLimiter,
    Unlimited,
    make_rate_limiter,
)
from tests.delivery.conftest import REDIS_URL


def test_two_workers_share_one_rate(redis: Redis) -> None:
    rate, per_worker = 100.0, 30
    limiters = [RedisRateLimiter(Redis.from_url(REDIS_URL), "smtp", rate) for _ in range(2)]

    def work(limiter: RedisRateLimiter) -> None:
        for _ in range(per_worker):
            limiter.wait()

    start = time.monotonic()
    threads = [threading.Thread(target=work, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    # 60 messages at 100/s: the last one may go 0.59 s after the first, not sooner
    assert elapsed >= (2 * per_worker - 1) / rate * 0.95
    assert elapsed < 3


def test_the_local_limiter_spaces_messages_in_one_process() -> None:
    limiter = LocalRateLimiter(200.0)
    start = time.monotonic()
    for _ in range(21):
        limiter.wait()
    assert time.monotonic() - start >= 20 / 200 * 0.95


def test_no_rate_means_no_limiter(redis: Redis) -> None:
    assert isinstance(make_rate_limiter(0, redis, "smtp"), Unlimited)
    assert isinstance(make_rate_limiter(5, None, "smtp"), LocalRateLimiter)
    assert isinstance(make_rate_limiter(5, redis, "smtp"), RedisRateLimiter)
