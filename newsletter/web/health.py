"""`/healthz`: is the database reachable, and Redis when one is configured."""

from __future__ import annotations

from functools import lru_cache

from flask import Blueprint
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from newsletter.services import current

bp = Blueprint("health", __name__)


def _database() -> str:
    try:
        with current().db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "unreachable"
    return "ok"


@lru_cache(maxsize=4)
def _redis_client(url: str) -> Redis:
    """One pooled client per process: a PING still crosses the wire every time."""
    return Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def _redis(url: str) -> str:
    try:
        _redis_client(url).ping()
    except RedisError:
        return "unreachable"
    return "ok"


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    checks = {"database": _database()}
    redis_url = current().settings.redis_url
    if redis_url:
        checks["redis"] = _redis(redis_url)
    healthy = all(state == "ok" for state in checks.values())
    return checks, 200 if healthy else 503
