"""Helpers for the site's tests: the CSRF token of a page, the emails the outbox
transport wrote, and real subscribers."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from newsletter.catalog import add_subscriber, topic_by_slug
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.models import Subscriber
from newsletter.services import current
from newsletter.tokens import Purpose, Tokens
from tests.loopback import redis_test_url

REDIS_URL = redis_test_url()
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https://news\.example\.org(/[a-z]+/[A-Za-z0-9._-]+)")


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def outbox(settings: Settings) -> list[EmailMessage]:
    """The messages the outbox transport wrote, oldest first."""
    folder = Path(settings.outbox_dir or "")
    files = sorted(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in files
    ]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return part.get_content()


def link_in(message: EmailMessage, kind: str) -> str:
    """The path of the first /``kind``/<token> link in the plain-text part."""
    for path in LINK.findall(text_of(message)):
        if path.startswith(f"/{kind}/"):
            return path
    raise AssertionError(f"no /{kind}/ link in {text_of(message)!r}")


def subscriber(db: Database, address: str) -> Subscriber | None:
    with db.session() as session:
        found = session.scalar(select(Subscriber).where(Subscriber.email == address))
        if found is not None:
            found.topics  # noqa: B018 - load before the session closes
        return found


def add_reader(db: Database, address: str, *, confirmed: bool = True, language: str = "en") -> int:
    with db.session() as session:
        reader = add_subscriber(
            session,
            address,
            language=language,
            topics=[topic_by_slug(session, "claude")],
            hash_key=b"unused: no suppressions in these tests",
            confirmed=confirmed,
        )
        return reader.id


def tampered(signed: str) -> str:
    """``signed`` with its next-to-last character changed (never to what it was).

    Not the last one: it carries only part of a byte, and base64 decoding ignores its
    other bits, so changing it can leave the decoded signature as it was.
    """
    changed = "A" if signed[-2] != "A" else "B"
    return signed[:-2] + changed + signed[-1]


def token(app: Flask, purpose: Purpose, subscriber_id: int) -> str:
    """A token for the stored subscriber, naming their row's link key as emails do."""
    with app.app_context():
        app_services = current()
        with app_services.db.session() as session:
            link_key = session.get_one(Subscriber, subscriber_id).link_key
        return Tokens(app_services.settings.secret_key).make(purpose, subscriber_id, link_key)
