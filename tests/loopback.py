"""Helpers for the servers the tests and benchmarks reach on loopback: a free port for
one they start, a fresh database on the local Postgres, and a Redis database of the
run's own."""

from __future__ import annotations

import atexit
import functools
import os
import socket
import uuid

from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def recreate_database(url: str) -> None:
    """Drop and create the Postgres database named in ``url``."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


REDIS_BASE = "redis://127.0.0.1:6379"
_OWNER_KEY = "newsletter-test-run"
_RUN_ID = uuid.uuid4().hex
_OWNERSHIP_SECONDS = 3 * 3600


@functools.cache
def redis_test_url() -> str:
    """``NEWSLETTER_TEST_REDIS_URL``, else a database of the local Redis that no other
    test run holds (each run claims one of 1-15 and keeps it; tests flush it freely, so
    two runs on one machine must never share one)."""
    if configured := os.environ.get("NEWSLETTER_TEST_REDIS_URL"):
        return configured
    for number in range(1, 16):
        url = f"{REDIS_BASE}/{number}"
        with Redis.from_url(url) as client:
            if client.set(_OWNER_KEY, _RUN_ID, nx=True, ex=_OWNERSHIP_SECONDS):
                atexit.register(_release, url)
                return url
    raise RuntimeError("every Redis database 1-15 is held by another test run")


def flush_redis(client: Redis) -> None:
    """Empty this run's Redis database, keeping the claim on it."""
    client.flushdb()
    if "NEWSLETTER_TEST_REDIS_URL" not in os.environ:
        client.set(_OWNER_KEY, _RUN_ID, ex=_OWNERSHIP_SECONDS)


def _release(url: str) -> None:
    with Redis.from_url(url) as client:
        if client.get(_OWNER_KEY) == _RUN_ID.encode():
            client.flushdb()
