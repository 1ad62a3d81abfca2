"""Who gets into the console: operators made on the command line, signing in and out,
sessions that end, CSRF, rate limits and lockout, and no page for anyone else."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from newsletter import admins
from newsletter.app import create_app
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.models import Admin, utcnow
from newsletter.services import Services
from tests.support import cli_runner
from tests.web.admin.console_helpers import OPERATOR, PASSWORD, sign_in
from tests.web.site_helpers import csrf_token

CSRF_VALUE = re.compile(r'value="[^"]+"')


def _page(client: FlaskClient) -> str:
    return CSRF_VALUE.sub("", client.get("/").get_data(as_text=True))


def test_admins_add_asks_twice_and_stores_only_a_hash(app: Flask, db: Database) -> None:
    runner = cli_runner(app)
    result = runner.invoke(
        args=["admins", "add", "Ops@Example.com"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    with db.session() as session:
        admin = session.scalars(select(Admin)).one()
    assert admin.email == "ops@example.com"
    assert PASSWORD not in admin.password_hash and admin.password_hash.startswith("scrypt:")

    listed = runner.invoke(args=["admins", "list"])
    assert "ops@example.com" in listed.output
    assert runner.invoke(args=["admins", "remove", "ops@example.com"]).exit_code == 0
    again = runner.invoke(args=["admins", "remove", "ops@example.com"])
    assert again.exit_code == 1 and "Error: ops@example.com is not an operator" in again.output


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        (f"{PASSWORD}\nsomething else entirely\n", "do not match"),
        ("short\nshort\n", "12 to 1024 characters"),
    ],
)
def test_admins_add_refuses_a_mismatch_or_a_short_password(
    app: Flask, db: Database, typed: str, problem: str
) -> None:
    result = cli_runner(app).invoke(args=["admins", "add", "ops@example.com"], input=typed)
    assert problem in result.output
    with db.session() as session:
        assert session.scalars(select(Admin)).all() == []


def test_sign_in_and_out(app: Flask, topics: list[str], operator: str) -> None:
    client = app.test_client()
    assert client.get("/admin/").status_code == 302
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    token = csrf_token(client, "/admin/")
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_unknown_address_and_wrong_password_get_the_same_answer(
    app: Flask, topics: list[str], operator: str
) -> None:
    answers = []
    for email, password in ((OPERATOR, "wrong password here"), ("nobody@example.com", PASSWORD)):
        client = app.test_client()
        response = sign_in(client, email, password)
        answers.append((response.status_code, CSRF_VALUE.sub("", response.get_data(as_text=True))))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401 and "do not match an operator" in answers[0][1]


def test_an_unknown_address_costs_a_hash_check_too(db: Database, operator: str) -> None:
    def timed(email: str) -> float:
        best = []
        for _ in range(3):
            start = time.perf_counter()
            with db.session() as session:
                assert admins.authenticate(session, email, "wrong password here") is None
            best.append(time.perf_counter() - start)
            with db.session() as session:  # keep the account unlocked
                session.execute(update(Admin).values(failed_logins=0, locked_until=None))
        return min(best)

    known, unknown = timed(OPERATOR), timed("nobody@example.com")
    assert unknown > known * 0.5, (known, unknown)


def test_the_fifth_wrong_password_locks_the_account(
    app: Flask, db: Database, topics: list[str], operator: str
) -> None:
    client = app.test_client()
    for _ in range(admins.MAX_FAILURES):
        assert sign_in(client, OPERATOR, "wrong password here").status_code == 401
    locked = sign_in(client)  # the right password, during the lockout
    assert locked.status_code == 401 and "do not match an operator" in locked.get_data(as_text=True)
    with db.session() as session:
        session.execute(update(Admin).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert sign_in(client).status_code == 302


def test_sign_in_is_rate_limited_per_client(
    settings: Settings, db: Database, topics: list[str], operator: str
) -> None:
    app = create_app(services=Services(replace(settings, admin_login_rate_limit="3/minute"), db))
    client = app.test_client()
    codes = [sign_in(client, OPERATOR, "wrong password here").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_the_form_needs_its_csrf_token(app: Flask, topics: list[str], operator: str) -> None:
    client = app.test_client()
    response = client.post("/admin/login", data={"email": OPERATOR, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_a_session_ends_when_idle_or_when_the_operator_is_removed(
    app: Flask, db: Database, topics: list[str], operator: str
) -> None:
    client = app.test_client()
    sign_in(client)
    idle = app.extensions["newsletter"].settings.admin_session_minutes * 60
    with client.session_transaction() as session:
        state = dict(session["operator"])
        state["seen"] -= idle + 1
        session["operator"] = state
    assert client.get("/admin/").status_code == 302

    sign_in(client)
    assert client.get("/admin/").status_code == 200
    with db.session() as session:
        admins.remove_admin(session, OPERATOR)
    assert client.get("/admin/").status_code == 302


def test_a_new_password_ends_older_sessions(
    app: Flask, db: Database, topics: list[str], operator: str
) -> None:
    client = app.test_client()
    sign_in(client)
    with db.session() as session:
        admin = session.scalars(select(Admin)).one()
        admin.password_hash = admins.hash_password("another long password")
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/admin\\@x"])
def test_sign_in_never_redirects_off_the_console(
    app: Flask, topics: list[str], operator: str, target: str
) -> None:
    client = app.test_client()
    token = csrf_token(client, "/admin/login")
    response = client.post(
        "/admin/login",
        query_string={"next": target},
        data={"csrf_token": token, "email": OPERATOR, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/admin/"


def _example_url(rule) -> str:  # type: ignore[no-untyped-def]
    values = {}
    for name, converter in rule._converters.items():
        values[name] = 1 if type(converter).__name__ == "IntegerConverter" else "x"
    return rule.build(values, append_unknown=False)[1]


def test_every_console_route_turns_away_an_anonymous_visitor(
    app: Flask, db: Database, topics: list[str], operator: str
) -> None:
    client = app.test_client()
    token = csrf_token(client, "/admin/login")  # an attacker can get one too
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")]
    assert len(rules) >= 3
    for rule in rules:
        if rule.endpoint == "admin.login":
            continue
        url = _example_url(rule)
        for method in sorted(rule.methods - {"OPTIONS"}):
            for data in ({}, {"csrf_token": token}):
                response = client.open(url, method=method, data=data)
                assert response.status_code in (302, 403), (method, url, response.status_code)
                if response.status_code == 302:
                    assert response.headers["Location"].startswith("/admin/login")
                assert OPERATOR not in response.get_data(as_text=True)
