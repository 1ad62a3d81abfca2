"""SMTP pipelining (RFC 2920) against a real aiosmtpd relay: what arrives, and how
refusals at each stage map to the same errors as smtplib's own sendmail."""

from __future__ import annotations

import re
import smtplib

import pytest

from newsletter.config import Settings
from newsletter.delivery.transports import TransportError
from newsletter.delivery.transports.pipelining import can_pipeline, dot_stuffed
from newsletter.delivery.transports.smtp import SmtpPool, SmtpTransport
from tests.delivery.conftest import SmtpServer

SENDER = "digest@news.example.org"
MESSAGE = b"Subject: dots\r\n\r\n.starts with a dot\r\nmiddle\r\n..two dots\r\n.\r\nlast line\r\n"


def _transport(settings: Settings) -> SmtpTransport:
    return SmtpTransport(settings, SmtpPool(settings))


@pytest.mark.parametrize(
    "message",
    [
        MESSAGE,
        b".at the very start\r\nbody",
        b"no final newline",
        b"bare\n.lf line\r\n",
        b"",
    ],
)
def test_dot_stuffing_matches_smtplib(message: bytes) -> None:
    stuffed = re.sub(rb"(?m)^\.", b"..", message)  # what smtplib.SMTP.data sends
    if stuffed[-2:] != b"\r\n":
        stuffed += b"\r\n"
    assert dot_stuffed(message) == stuffed + b".\r\n"


@pytest.mark.parametrize(
    ("recipient", "pipelined"),
    [
        ("reader@example.com", True),
        ("o'brien+news@example.com", True),
        ("two words@example.com", False),
        ("a@example.com>\r\nRCPT TO:<b@example.com", False),
        ("ünï@example.com", False),
    ],
)
def test_only_plain_addresses_are_pipelined(
    smtp_settings: Settings, recipient: str, pipelined: bool
) -> None:
    smtp = SmtpPool(smtp_settings).connect()
    try:
        assert can_pipeline(smtp, SENDER, recipient) is pipelined
    finally:
        smtp.quit()


@pytest.mark.parametrize("offered", [True, False])
def test_messages_arrive_byte_for_byte_with_or_without_pipelining(
    smtp_settings: Settings,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    offered: bool,
) -> None:
    smtp_server.sink.pipelining = offered
    calls: list[str] = []
    sendmail = smtplib.SMTP.sendmail

    def counted(self: smtplib.SMTP, *args: object, **kwargs: object) -> object:
        calls.append("sendmail")
        return sendmail(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(smtplib.SMTP, "sendmail", counted)
    with _transport(smtp_settings) as transport:
        for n in range(3):
            transport.send(MESSAGE, SENDER, f"reader{n}@example.com", "x")
    assert [content for _, content in smtp_server.sink.received] == [MESSAGE] * 3
    assert calls == ([] if offered else ["sendmail"] * 3)


def test_refused_recipients_map_like_sendmail_and_the_session_goes_on(
    smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    replies = {
        "gone@example.com": "550 5.1.1 No such user",
        "later@example.com": "451 4.7.1 Try again later",
    }
    smtp_server.sink.on_rcpt = replies.get
    with _transport(smtp_settings) as transport:
        with pytest.raises(TransportError) as gone:
            transport.send(MESSAGE, SENDER, "gone@example.com", "x")
        with pytest.raises(TransportError) as later:
            transport.send(MESSAGE, SENDER, "later@example.com", "x")
        transport.send(MESSAGE, SENDER, "fine@example.com", "x")
    assert (gone.value.permanent, gone.value.suppress) == (True, True)
    assert (later.value.permanent, later.value.suppress) == (False, False)
    assert smtp_server.sink.counts() == {"fine@example.com": 1}


def test_a_refused_sender_or_message_is_an_error_and_the_next_message_still_goes(
    smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    sink = smtp_server.sink
    sink.on_mail = lambda _: "553 5.7.1 Sender not allowed" if refuse == "mail" else None
    sink.on_data = lambda _: "554 5.7.1 Message refused as spam" if refuse == "data" else None
    with _transport(smtp_settings) as transport:
        refuse = "mail"
        with pytest.raises(TransportError) as sender:
            transport.send(MESSAGE, SENDER, "a@example.com", "x")
        refuse = "data"
        with pytest.raises(TransportError) as spam:
            transport.send(MESSAGE, SENDER, "b@example.com", "x")
        refuse = ""
        transport.send(MESSAGE, SENDER, "c@example.com", "x")
    assert sender.value.permanent and not sender.value.suppress
    assert spam.value.permanent and not spam.value.suppress
    assert sink.counts() == {"c@example.com": 1}
