"""DKIM signing by setting: what reaches the relay verifies against the published key."""

from __future__ import annotations

import base64
import subprocess
from dataclasses import replace
from email.parser import BytesParser
from pathlib import Path

import dkim
import pytest
from sqlalchemy import select

from newsletter.config import ConfigError, Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.delivery.notices import notify_subscriber
from newsletter.demo import SAMPLE_DATE
from newsletter.models import Subscriber
from newsletter.render.notices import Kind
from newsletter.services import Services
from tests.delivery.conftest import SmtpServer, add_readers, make_topic
from tests.support import send_day


@pytest.fixture
def dkim_key(tmp_path: Path) -> tuple[Path, bytes]:
    """A fresh RSA key (openssl) and its DNS TXT record."""
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_messages_are_signed_and_verify(
    db: Database,
    smtp_settings: Settings,
    smtp_server: SmtpServer,
    dkim_key: tuple[Path, bytes],
) -> None:
    key, record = dkim_key
    settings = replace(smtp_settings, dkim_selector="mail2026", dkim_private_key=key)
    topic_id = make_topic(db, "claude", ["en"])
    steps.build(Services(settings, db), "claude", SAMPLE_DATE, ["en"])
    add_readers(db, 2, lambda n: [topic_id], lambda n: "en")

    send_day(Services(settings, db), "claude", SAMPLE_DATE)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mail2026._domainkey.news.example.org."
        return record

    raw = [content for _, content in smtp_server.sink.received]
    assert len(raw) == 2
    for message in raw:
        assert message.startswith(b"DKIM-Signature:")
        value = BytesParser().parsebytes(message, headersonly=True)["DKIM-Signature"]
        tags = dict(tag.strip().split("=", 1) for tag in "".join(value.split()).split(";") if tag)
        signed = set(tags["h"].lower().split(":"))
        assert {"from", "to", "subject", "date", "message-id", "list-id"} <= signed
        assert {"list-unsubscribe", "list-unsubscribe-post", "feedback-id"} <= signed
        assert dkim.verify(message, dnsfunc=dns)
        tampered = message.replace(b"Subject:", b"Subject: FW:", 1)  # folded or not
        assert not dkim.verify(tampered, dnsfunc=dns)
        # a header added on top, where readers look first, breaks it too (over-signing)
        for added in (
            b"Subject: Your account is locked",
            b"Reply-To: thief@example.net",
            b"From: Bank <bank@example.net>",
            b"List-Unsubscribe: <https://evil.example.net/u>",
            b"Date: Fri, 01 Jan 2027 00:00:00 +0000",
            b"Message-ID: <copy@example.net>",
        ):
            assert not dkim.verify(added + b"\r\n" + message, dnsfunc=dns), added


def test_notices_are_signed_too(
    db: Database,
    smtp_settings: Settings,
    smtp_server: SmtpServer,
    dkim_key: tuple[Path, bytes],
) -> None:
    """The confirmation email is the first one a reader's provider judges us by."""
    key, record = dkim_key
    settings = replace(smtp_settings, dkim_selector="mail2026", dkim_private_key=key)
    topic_id = make_topic(db, "claude", ["en"])
    add_readers(db, 1, lambda n: [topic_id], lambda n: "en")
    with db.session() as session:
        subscriber_id = session.scalar(select(Subscriber.id))
    notify_subscriber(db, settings, Kind.CONFIRM, subscriber_id)

    ((_, message),) = smtp_server.sink.received
    assert message.startswith(b"DKIM-Signature:")
    assert dkim.verify(message, dnsfunc=lambda name, timeout=5: record)


def test_dkim_settings_come_together(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DKIM"):
        Settings(instance_dir=tmp_path, dkim_selector="mail2026")


def test_dkim_is_refused_with_postmark_which_signs_itself(
    tmp_path: Path, dkim_key: tuple[Path, bytes]
) -> None:
    with pytest.raises(ConfigError, match="Postmark signs"):
        Settings(
            instance_dir=tmp_path,
            transport="postmark",
            postmark_token="t",
            dkim_selector="mail2026",
            dkim_private_key=dkim_key[0],
        )
