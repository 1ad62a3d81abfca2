"""Messages per second per transport, shared by every worker through Redis.

A virtual clock (GCRA): the key holds the time at which the next message may go.
Reserving ``n`` messages moves it ``n / rate`` seconds on and tells the caller how long
to wait for its turn. Workers reserve a few slots per round trip, so the limiter costs
one Redis call per handful of messages, and the Redis server's clock is the only clock.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from redis import Redis

_RESERVE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local interval = tonumber(ARGV[1]) / tonumber(ARGV[2])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
if next_free < t then next_free = t end
redis.call('SET', KEYS[1], tostring(next_free + interval), 'EX', 3600)
return tostring(next_free - t)
"""


class RateLimiter(Protocol):
    def wait(self) -> None:
        """Block until one more message may be sent."""


class Unlimited:
    def wait(self) -> None:
        return None


class _Slots:
    """Spends slots reserved in bulk; ``reserve`` returns the wait before the first slot."""

    def __init__(self, rate: float, chunk: int) -> None:
        self.rate = rate
        self.chunk = chunk
        self._left = 0
        self._next_at = 0.0

    def wait(self) -> None:
        if self._left == 0:
            delay = self.reserve(self.chunk)
            self._left, self._next_at = self.chunk, time.monotonic() + delay
        pause = self._next_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self._left -= 1
        self._next_at += 1 / self.rate

    def reserve(self, count: int) -> float:
        raise NotImplementedError


class RedisRateLimiter(_Slots):
    def __init__(self, redis: Redis, name: str, rate: float, chunk: int | None = None) -> None:
        super().__init__(rate, chunk or max(1, min(20, int(rate // 10))))
        self._key = f"newsletter:rate:{name}"
        self._script = redis.register_script(_RESERVE)

    def reserve(self, count: int) -> float:
        return float(self._script(keys=[self._key], args=[count, self.rate]))


class LocalRateLimiter(_Slots):
    """The same schedule within one process, for inline mode without Redis."""

    _lock = threading.Lock()

    def __init__(self, rate: float) -> None:
        super().__init__(rate, 1)
        self._free_at = 0.0

    def reserve(self, count: int) -> float:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._free_at)
            self._free_at = start + count / self.rate
            return start - now


def make_rate_limiter(rate: float, redis: Redis | None, name: str) -> RateLimiter:
    if rate <= 0:
        return Unlimited()
    if redis is None:
        return LocalRateLimiter(rate)
    return RedisRateLimiter(redis, name, rate)
