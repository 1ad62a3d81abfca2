"""SMTP replies mapped to errors, and AUTH on a real aiosmtpd server."""

from __future__ import annotations

import ssl
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from newsletter.config import ConfigError, Settings
from newsletter.delivery.transports import TransportError
from newsletter.delivery.transports.base import classify
from newsletter.delivery.transports.smtp import SmtpPool, SmtpTransport
from tests.delivery.conftest import SmtpSink, free_port


@pytest.mark.parametrize(
    ("code", "reply", "at_recipient", "permanent", "suppress"),
    [
        (451, b"4.7.1 greylisted", True, False, False),
        (421, b"4.3.2 shutting down", False, False, False),
        (550, b"5.1.1 no such user", True, True, True),
        (550, b"mailbox unavailable", True, True, True),
        (553, b"bad address syntax", True, True, True),
        (554, b"5.7.1 message refused as spam", False, True, False),
        (552, b"5.3.4 message too big", False, True, False),
        (550, b"5.1.1 unknown recipient", False, True, True),
    ],
)
def test_replies_map_to_retry_fail_or_suppress(
    code: int, reply: bytes, at_recipient: bool, permanent: bool, suppress: bool
) -> None:
    error = classify(code, reply, at_recipient=at_recipient)
    assert (error.permanent, error.suppress) == (permanent, suppress)
    assert str(error).startswith(str(code))


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_server():
    sink, port = SmtpSink(), free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    yield sink, port
    controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_auth_by_setting(settings: Settings, auth_server) -> None:
    sink, port = auth_server
    base = replace(settings, transport="smtp", smtp_host="127.0.0.1", smtp_port=port)
    good = replace(base, smtp_username="digest", smtp_password="s3cret")
    with SmtpTransport(good, SmtpPool(good)) as transport:
        transport.send(
            b"Subject: hi\r\n\r\nbody\r\n", "digest@news.example.org", "a@example.com", "x"
        )
    assert sink.counts() == {"a@example.com": 1}

    bad = replace(base, smtp_username="digest", smtp_password="wrong")
    with pytest.raises(TransportError) as refused, SmtpTransport(bad, SmtpPool(bad)):
        pass
    assert refused.value.permanent

    anonymous = SmtpTransport(base, SmtpPool(base))
    with pytest.raises(TransportError) as no_auth, anonymous as transport:
        transport.send(
            b"Subject: hi\r\n\r\nbody\r\n", "digest@news.example.org", "b@example.com", "x"
        )
    assert no_auth.value.permanent  # 530 authentication required


def test_an_unreachable_relay_is_a_transient_error(settings: Settings) -> None:
    down = replace(settings, transport="smtp", smtp_host="127.0.0.1", smtp_port=free_port())
    with pytest.raises(TransportError) as error:
        SmtpPool(down).connect()
    assert not error.value.permanent


@pytest.fixture
def relay_certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl): the relay's key and our CA file."""
    key, cert = tmp_path / "relay.key", tmp_path / "relay.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


def _server_context(key: Path, cert: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_by_setting_verifies_the_relay(
    settings: Settings, relay_certificate: tuple[Path, Path], security: str
) -> None:
    key, cert = relay_certificate
    sink, port = SmtpSink(), free_port()
    tls = {"tls_context": _server_context(key, cert), "require_starttls": True}
    if security == "ssl":
        tls = {"ssl_context": _server_context(key, cert)}
    controller = Controller(sink, hostname="127.0.0.1", port=port, **tls)
    controller.start()
    try:
        relay = replace(
            settings,
            transport="smtp",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security=security,
            smtp_timeout=5.0,
        )
        trusted = replace(relay, smtp_ca_file=cert)
        with SmtpTransport(trusted, SmtpPool(trusted)) as transport:
            transport.send(
                b"Subject: hi\r\n\r\nbody\r\n", "digest@news.example.org", "a@example.com", "x"
            )
        assert sink.counts() == {"a@example.com": 1}

        with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
            SmtpPool(relay).connect()  # an untrusted certificate is refused
    finally:
        controller.stop()


def test_a_missing_ca_file_is_a_config_error(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NEWSLETTER_SMTP_CA_FILE"):
        replace(settings, smtp_ca_file=tmp_path / "nope.pem")
