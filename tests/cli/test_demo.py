"""The demo end to end on embedded defaults: fetch, write, render, deliver to the outbox."""

from __future__ import annotations

import email
from email import policy
from email.message import Message
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from newsletter.digest.schema import DigestContent
from newsletter.i18n import labels
from newsletter.models import Digest
from newsletter.services import current
from tests.support import cli_runner

HEADINGS = (
    "trends",
    "highlights",
    "analysis",
    "industry",
    "competition",
    "market",
    "key_points",
    "thinking",
    "developers",
    "everyday_users",
    "sources",
)


def _parts(message: Message) -> dict[str, str]:
    parts = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return parts


def test_demo_delivers_one_email_per_confirmed_reader(app: Flask, settings) -> None:
    result = cli_runner(app).invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Done: 3 email(s) delivered" in result.output

    files = sorted(Path(settings.outbox_dir).glob("*.eml"))
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in files
    ]
    recipients = sorted(message["To"] for message in messages)
    assert recipients == ["ada@example.com", "grace@example.com", "mei@example.com"]

    with app.app_context(), current().db.session() as session:
        digests = {
            d.language: DigestContent.model_validate(d.content)
            for d in session.scalars(select(Digest))
        }
    for message in messages:
        assert message.get_content_type() == "multipart/alternative"
        parts = _parts(message)
        assert set(parts) == {"text/plain", "text/html"}
        language = "zh-TW" if message["To"] == "mei@example.com" else "en"
        digest = digests[language]
        assert message["Subject"] == digest.title
        words = labels(language)
        for key in HEADINGS:
            assert words[key] in parts["text/html"], key
        for source in digest.sources:
            assert f'href="{source.url}"' in parts["text/html"]
            assert source.url in parts["text/plain"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "https://news.example.org/unsubscribe/" in message["List-Unsubscribe"]


def test_demo_twice_sends_nothing_new(app: Flask, settings) -> None:
    runner = cli_runner(app)
    assert runner.invoke(args=["demo"]).exit_code == 0
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert len(list(Path(settings.outbox_dir).glob("*.eml"))) == 3
    with app.app_context(), current().db.session() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 2
