"""Bounces from an SMTP relay: each digest leaves with its own return path (VERP), and
the bounce mailbox (a POP3 server on loopback) is read for DSNs (RFC 3464) and ARF
complaints (RFC 5965), samples in tests/fixtures/bounces/."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from newsletter.app import create_app
from newsletter.config import ConfigError, Settings
from newsletter.db import Database
from newsletter.delivery.dsn import read_notice
from newsletter.delivery.mailbox import MAX_MESSAGE_BYTES
from newsletter.delivery.transports.smtp import close_pools
from newsletter.delivery.verp import ReturnPath
from newsletter.demo import SAMPLE_DATE
from newsletter.models import BounceKind, Delivery, Subscriber, Suppression
from newsletter.services import Services
from tests.delivery.conftest import SmtpServer, add_readers, build_digests, make_topic
from tests.delivery.pop3_server import Mailbox, pop3_server
from tests.support import cli_runner, send_day

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bounces"
BOUNCES = "bounces@news.example.org"


def sample(name: str, return_path: str, recipient: str, message_id: str = "<x@y>") -> bytes:
    text = (FIXTURES / name).read_text()
    text = text.replace("{RETURN_PATH}", return_path).replace("{RECIPIENT}", recipient)
    return text.replace("{MESSAGE_ID}", message_id).replace("\n", "\r\n").encode()


@pytest.mark.parametrize(
    ("name", "kind", "status"),
    [
        ("postfix-user-unknown.eml", BounceKind.HARD, "5.1.1"),
        ("gmail-mailbox-full.eml", BounceKind.SOFT, "5.2.2"),
        ("yahoo-arf-abuse.eml", BounceKind.COMPLAINT, "feedback abuse"),
        ("exchange-delayed.eml", None, ""),
    ],
)
def test_samples_are_read_and_name_their_delivery(
    name: str, kind: BounceKind | None, status: str
) -> None:
    paths = ReturnPath(BOUNCES, "a secret key")
    notice = read_notice(sample(name, paths.for_delivery(4711), "ada@example.com"))
    assert notice is not None
    assert notice.kind == kind
    assert notice.detail.startswith(status)
    assert paths.deliveries_in(notice.text) == {4711}
    # another key (a forger's) names nothing
    assert ReturnPath(BOUNCES, "another key").deliveries_in(notice.text) == set()


def test_a_message_that_is_no_report_is_not_a_notice() -> None:
    assert read_notice(sample("out-of-office.eml", "bounces@x.org", "ada@example.com")) is None


def test_return_paths_are_unforgeable_and_survive_lower_casing() -> None:
    paths = ReturnPath(BOUNCES, "key")
    genuine = paths.for_delivery(12)
    assert genuine.startswith("bounces+d12-") and genuine.endswith("@news.example.org")
    assert paths.deliveries_in(f"To: <{genuine.upper()}>") == {12}
    forged = genuine.replace("+d12-", "+d13-")
    assert paths.deliveries_in(forged) == set()


@pytest.fixture
def bounce_settings(smtp_settings: Settings) -> Settings:
    return replace(smtp_settings, bounce_address=BOUNCES, soft_bounce_limit=3)


@pytest.fixture
def sent(db: Database, bounce_settings: Settings, smtp_server: SmtpServer) -> dict[str, str]:
    """Today's digest sent over SMTP to five readers: address -> its envelope sender."""
    topic_id = make_topic(db, "claude", ["en"])
    build_digests(db, bounce_settings, "claude")
    readers = add_readers(db, 5, lambda n: [topic_id], lambda n: "en")
    send_day(Services(bounce_settings, db), "claude", SAMPLE_DATE)
    close_pools()
    senders = {address: smtp_server.sink.senders[address] for address in readers}
    assert all(len(envelope) == 1 for envelope in senders.values())
    return {address: envelope[0] for address, envelope in senders.items()}


def test_each_digest_leaves_with_the_return_path_of_its_delivery(
    db: Database, bounce_settings: Settings, smtp_server: SmtpServer, sent: dict[str, str]
) -> None:
    paths = ReturnPath(BOUNCES, bounce_settings.secret_key)
    with db.session() as session:
        deliveries = dict(
            session.execute(
                select(Subscriber.email, Delivery.id).join(
                    Delivery, Delivery.subscriber_id == Subscriber.id
                )
            ).all()
        )
    assert sent == {address: paths.for_delivery(deliveries[address]) for address in sent}
    assert {m["From"] for m in smtp_server.sink.messages()} == {
        "AI Daily Digest <digest@news.example.org>"
    }


def suppressed(db: Database) -> dict[str, str]:
    with db.session() as session:
        return {s.email or "": s.reason for s in session.scalars(select(Suppression))}


def fetch(app: Flask) -> str:
    result = cli_runner(app).invoke(args=["bounces", "fetch"])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_the_mailbox_reader_suppresses_hard_bounces_complaints_and_repeated_soft_ones(
    db: Database, bounce_settings: Settings, sent: dict[str, str]
) -> None:
    hard, soft, complaint, delayed, forged = sorted(sent)
    box = Mailbox("bounces", "p@ss word")
    wrong_mac = re.sub(r"-[0-9a-f]{16}@", "-0123456789abcdef@", sent[forged])
    assert wrong_mac != sent[forged]

    def gmail(number: int) -> bytes:
        raw = sample("gmail-mailbox-full.eml", sent[soft], soft)
        return raw.replace(b"0a2bSMTPIN", b"0a2b%dSMTPIN" % number)

    box.messages = [
        sample("postfix-user-unknown.eml", sent[hard], hard),
        sample("postfix-user-unknown.eml", sent[hard], hard),  # the same notice twice
        gmail(1),
        gmail(2),
        sample("yahoo-arf-abuse.eml", sent[complaint], complaint),
        sample("exchange-delayed.eml", sent[delayed], delayed),
        sample("postfix-user-unknown.eml", wrong_mac, forged),  # forged: not our token
        sample("out-of-office.eml", sent[delayed], delayed),
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="x"\r\n'
        b"\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\n\xff\xfe\x00 garbage",
        b"Subject: huge\r\n\r\n" + (b"x" * 98 + b"\r\n") * (MAX_MESSAGE_BYTES // 100 + 1),
    ]
    with pop3_server(box) as port:
        settings = replace(
            bounce_settings, bounce_mailbox=f"pop3://bounces:p%40ss%20word@127.0.0.1:{port}"
        )
        app = create_app(services=Services(settings, db))

        output = fetch(app)
        assert "10 message(s) read: 2 hard bounce(s), 2 soft, 1 complaint(s); " in output
        assert "2 address(es) suppressed; 4 asked for nothing, 1 named none" in output
        assert box.messages == []  # all taken in, all deleted
        got = suppressed(db)
        assert set(got) == {hard, complaint}
        assert got[hard].startswith("hard: 5.1.1")
        assert got[complaint] == "complaint: feedback abuse"

        box.messages = [gmail(2), gmail(3)]  # one seen before, one new: the third
        assert "1 address(es) suppressed" in fetch(app)
        assert set(suppressed(db)) == {hard, complaint, soft}
        assert suppressed(db)[soft].startswith("3 soft bounces, last: 5.2.2")


def test_a_wrong_password_is_a_one_line_error(db: Database, bounce_settings: Settings) -> None:
    with pop3_server(Mailbox("bounces", "right")) as port:
        settings = replace(bounce_settings, bounce_mailbox=f"pop3://bounces:wrong@127.0.0.1:{port}")
        result = cli_runner(create_app(services=Services(settings, db))).invoke(
            args=["bounces", "fetch"]
        )
    assert result.exit_code == 1
    assert "Error: cannot read the bounce mailbox" in result.output


def test_bounce_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="NEWSLETTER_BOUNCE_ADDRESS"):
        Settings(bounce_address="bounces+x@example.org")
    with pytest.raises(ConfigError, match="NEWSLETTER_BOUNCE_MAILBOX"):
        Settings(bounce_mailbox="imap://u:p@host")
    with pytest.raises(ConfigError, match="NEWSLETTER_SOFT_BOUNCE_LIMIT"):
        Settings(soft_bounce_limit=0)
    assert "hunter2" not in repr(Settings(bounce_mailbox="pop3s://u:hunter2@host"))
