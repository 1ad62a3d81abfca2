"""Protection: response headers, rate limits (memory and Redis), cookies, health, language."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue

from newsletter.app import create_app
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.services import Services
from tests.web.site_helpers import REDIS_URL, csrf_token, outbox


def make_app(settings: Settings, db: Database, **changes: object) -> Flask:
    changed = replace(settings, **changes)  # type: ignore[arg-type]
    app = create_app(services=Services(changed, db))
    app.config["TESTING"] = True
    return app


def signup_data(client: FlaskClient, email: str) -> dict[str, object]:
    return {
        "csrf_token": csrf_token(client),
        "email": email,
        "topics": ["claude"],
        "language": "en",
    }


def test_every_page_sends_strict_headers(client: FlaskClient) -> None:
    for path in ("/", "/resend", "/signup/sent", "/nope", "/healthz", "/archive/claude/"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp and "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers


def test_pages_have_no_inline_script_or_style(client: FlaskClient) -> None:
    for path in ("/", "/resend", "/signup/sent"):
        html = client.get(path).get_data(as_text=True)
        assert "<script" not in html and "style=" not in html and "<style" not in html


def test_stylesheet_is_served(client: FlaskClient) -> None:
    response = client.get("/assets/site.css")
    assert response.status_code == 200 and response.mimetype == "text/css"


def test_production_cookies_are_secure_and_hsts_is_sent(
    settings: Settings, db: Database, topics: list[str]
) -> None:
    app = make_app(
        settings, db, env="production", secret_key="p" * 40, postal_address="5 Harbour Road"
    )
    client = app.test_client()
    response = client.get("/", base_url="https://news.example.org")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_signups_are_limited_per_address(
    settings: Settings, db: Database, topics: list[str]
) -> None:
    app = make_app(settings, db, signup_address_rate_limit="2/hour", signup_rate_limit="50/hour")
    client = app.test_client()
    for _ in range(2):
        assert client.post("/", data=signup_data(client, "a@example.com")).status_code == 303
    blocked = client.post("/", data=signup_data(client, "A@example.com "))
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    # the page says the wait the header gives: when the hour's window ends
    assert 3590 <= int(blocked.headers["Retry-After"]) <= 3600
    assert "Please try again in 1 hour." in blocked.get_data(as_text=True)
    assert "a few minutes" not in blocked.get_data(as_text=True)
    assert "X-RateLimit-Limit" not in blocked.headers
    assert client.post("/", data=signup_data(client, "b@example.com")).status_code == 303


def test_the_429_page_states_the_wait_left_in_the_window(
    settings: Settings, db: Database, topics: list[str]
) -> None:
    """A limit of 2 a minute, hit twice: the page and Retry-After give seconds, not the
    window's full length or "a few minutes"."""
    app = make_app(settings, db, signup_address_rate_limit="2/minute", signup_rate_limit="50/hour")
    client = app.test_client()
    for _ in range(2):
        client.post("/", data=signup_data(client, "a@example.com"))
    blocked = client.post("/", data=signup_data(client, "a@example.com"))
    wait = int(blocked.headers["Retry-After"])
    assert 50 <= wait <= 60
    page = blocked.get_data(as_text=True)
    assert f"Please try again in {wait} seconds." in page or "in 1 minute." in page


def test_signups_and_resends_are_limited_per_ip(
    settings: Settings, db: Database, topics: list[str]
) -> None:
    app = make_app(settings, db, signup_rate_limit="3/hour")
    client = app.test_client()
    for n in range(3):
        assert client.post("/", data=signup_data(client, f"{n}@example.com")).status_code == 303
    assert client.post("/", data=signup_data(client, "x@example.com")).status_code == 429
    token = csrf_token(client, "/resend")
    resend = client.post("/resend", data={"csrf_token": token, "email": "0@example.com"})
    assert resend.status_code == 303, "resend has its own counter"
    other = app.test_client()
    other_ip = {"REMOTE_ADDR": "192.0.2.7"}
    page = other.get("/", environ_base=other_ip).get_data(as_text=True)
    assert "csrf_token" in page
    allowed = other.post("/", data=signup_data(other, "y@example.com"), environ_base=other_ip)
    assert allowed.status_code == 303


def test_limits_live_in_redis_when_configured(
    settings: Settings, db: Database, topics: list[str], redis_db: Redis
) -> None:
    first = make_app(settings, db, redis_url=REDIS_URL, signup_address_rate_limit="1/hour")
    second = make_app(settings, db, redis_url=REDIS_URL, signup_address_rate_limit="1/hour")
    one, two = first.test_client(), second.test_client()
    assert one.post("/", data=signup_data(one, "a@example.com")).status_code == 303
    assert two.post("/", data=signup_data(two, "a@example.com")).status_code == 429, (
        "a second worker sees the first one's count"
    )
    keys = [key.decode() for key in redis_db.keys("*")]
    assert keys and all("a@example.com" not in key for key in keys)
    assert Queue(settings.queue_name, connection=redis_db).count == 1  # the confirm email


def test_signup_sends_now_while_redis_is_down(
    settings: Settings, db: Database, topics: list[str]
) -> None:
    app = make_app(settings, db, redis_url="redis://127.0.0.1:1/0")
    client = app.test_client()
    assert client.post("/", data=signup_data(client, "a@example.com")).status_code == 303
    assert len(outbox(settings)) == 1


def test_healthz_checks_database_and_redis(
    settings: Settings, db: Database, redis_db: Redis
) -> None:
    assert make_app(settings, db).test_client().get("/healthz").json == {"database": "ok"}
    with_redis = make_app(settings, db, redis_url=REDIS_URL).test_client().get("/healthz")
    assert (with_redis.status_code, with_redis.json) == (200, {"database": "ok", "redis": "ok"})
    down = make_app(settings, db, redis_url="redis://127.0.0.1:1/0").test_client().get("/healthz")
    assert (down.status_code, down.json) == (503, {"database": "ok", "redis": "unreachable"})


def test_healthz_reports_an_unreachable_database(settings: Settings) -> None:
    broken = Database("postgresql+psycopg://postgres@127.0.0.1:1/nothing-listens-here")
    response = make_app(settings, broken).test_client().get("/healthz")
    assert (response.status_code, response.json) == (503, {"database": "unreachable"})


@pytest.mark.parametrize(
    ("accept", "lang", "heading"),
    [
        ("zh-TW,zh;q=0.9,en;q=0.8", "zh-TW", "訂閱 AI 每日新聞摘要"),
        ("zh-CN", "zh-TW", "訂閱 AI 每日新聞摘要"),
        ("zh-Hant-TW,en;q=0.5", "zh-TW", "訂閱 AI 每日新聞摘要"),  # Safari in Taiwan
        ("zh-Hans-CN,en;q=0.5", "zh-TW", "訂閱 AI 每日新聞摘要"),
        ("fr-FR,zh-HK;q=0.8,en;q=0.5", "zh-TW", "訂閱 AI 每日新聞摘要"),
        ("de,en-US;q=0.7,zh;q=0.3", "en", "Get the daily AI news digest"),
        ("fr-FR,fr;q=0.9", "en", "Get the daily AI news digest"),
        ("en-GB", "en", "Get the daily AI news digest"),
    ],
)
def test_language_follows_accept_language(
    client: FlaskClient, accept: str, lang: str, heading: str
) -> None:
    html = client.get("/", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert f"<h1>{heading}</h1>" in html


def test_language_switch_is_remembered(client: FlaskClient) -> None:
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="/?lang=zh-TW"' in html
    client.get("/?lang=zh-TW")
    again = client.get("/resend", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-TW">' in again


def test_form_errors_follow_the_page_language(client: FlaskClient) -> None:
    client.get("/?lang=zh-TW")
    data = signup_data(client, "not-an-address")
    html = client.post("/", data=data).get_data(as_text=True)
    assert "請輸入有效的電子郵件地址" in html


def test_a_failure_on_our_side_gets_a_plain_error_page(settings: Settings) -> None:
    broken = Database("postgresql+psycopg://postgres@127.0.0.1:1/nothing-listens-here")
    app = make_app(settings, broken)
    app.config["TESTING"] = False
    response = app.test_client().get("/", headers={"Accept-Language": "zh-TW"})
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "<h1>發生錯誤</h1>" in html and "Traceback" not in html


@pytest.mark.parametrize(("hops", "separate"), [(0, False), (1, True)])
def test_client_address_comes_from_the_proxy_only_when_configured(
    settings: Settings, db: Database, topics: list[str], hops: int, separate: bool
) -> None:
    app = make_app(settings, db, proxy_hops=hops, signup_rate_limit="1/hour")
    client = app.test_client()
    first = {"X-Forwarded-For": "198.51.100.1"}
    second = {"X-Forwarded-For": "198.51.100.2"}
    assert (
        client.post("/", data=signup_data(client, "a@example.com"), headers=first).status_code
        == 303
    )
    status = client.post("/", data=signup_data(client, "b@example.com"), headers=second).status_code
    assert status == (303 if separate else 429)
