"""SMTP: a per-process pool of persistent relay connections, many messages on each.

A worker keeps its connections open between jobs (``pool_for`` is per process and per
relay), so a send job pays no handshake, and a relay that offers PIPELINING takes each
message in two round trips instead of four (``pipelining``). A connection the relay
dropped while idle, or at any point before the message's final dot went out, is noticed,
replaced, and that message sent once more on the new one. A connection lost after the
final dot and before the reply is ambiguous (the relay may have taken the message), so
that message is not sent again at once: it fails with an ``ambiguous`` error, and the
send loop defers it to a later attempt or, with NEWSLETTER_AMBIGUOUS=drop, gives it up.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from types import TracebackType
from typing import Self

from newsletter.config import Settings
from newsletter.delivery.transports.base import OneAtATime, TransportError, classify
from newsletter.delivery.transports.pipelining import can_pipeline, send_pipelined

_DISCONNECTED = (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError)
_FINAL_DOT = b"\r\n.\r\n"


class RelayConnection(smtplib.SMTP):
    """An SMTP connection that notes when a whole message, final dot included, has been
    written (``smtplib``'s ``data`` and our pipelining both write it in one ``send``)."""

    payload_sent = False

    def send(self, s: bytes | str) -> None:
        super().send(s)
        if isinstance(s, bytes) and s.endswith(_FINAL_DOT):
            self.payload_sent = True


class SslRelayConnection(RelayConnection, smtplib.SMTP_SSL):
    pass


class SmtpPool:
    """Up to ``size`` open connections to one relay, handed out one at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._idle: list[RelayConnection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(settings.smtp_pool_size)

    def connect(self) -> RelayConnection:
        """A new, authenticated connection (STARTTLS, SSL and AUTH as the settings say)."""
        s = self.settings
        try:
            if s.smtp_security == "ssl":
                context = self._tls_context()
                smtp: RelayConnection = SslRelayConnection(
                    s.smtp_host, s.smtp_port, context=context, timeout=s.smtp_timeout
                )
            else:
                smtp = RelayConnection(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
                if s.smtp_security == "starttls":
                    smtp.starttls(context=self._tls_context())
            smtp.ehlo_or_helo_if_needed()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
        except smtplib.SMTPAuthenticationError as error:
            raise TransportError(
                f"SMTP relay refused the login: {error.smtp_code}", permanent=True
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            raise TransportError(
                f"cannot connect to SMTP relay: {error}", permanent=False, unreachable=True
            ) from error
        return smtp

    def _tls_context(self) -> ssl.SSLContext:
        """Verifies the relay's certificate: against NEWSLETTER_SMTP_CA_FILE if set (a
        private CA), else the system's trusted CAs."""
        cafile = self.settings.smtp_ca_file
        return ssl.create_default_context(cafile=str(cafile) if cafile else None)

    def acquire(self) -> RelayConnection:
        self._slots.acquire()
        with self._lock:
            if self._idle:
                return self._idle.pop()
        try:
            return self.connect()
        except BaseException:
            self._slots.release()
            raise

    def release(self, smtp: RelayConnection | None) -> None:
        """Give a connection back; ``None`` for one that was closed after an error."""
        if smtp is not None:
            with self._lock:
                self._idle.append(smtp)
        self._slots.release()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for smtp in idle:
            _quit(smtp)


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


_pools: dict[tuple[object, ...], SmtpPool] = {}
_pools_lock = threading.Lock()


def pool_for(settings: Settings) -> SmtpPool:
    """This process's pool for the relay that ``settings`` names."""
    key = (
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_security,
        settings.smtp_ca_file,
        settings.smtp_timeout,
        settings.smtp_username,
        settings.smtp_password,
        settings.smtp_pool_size,
    )
    with _pools_lock:
        if key not in _pools:
            _pools[key] = SmtpPool(settings)
        return _pools[key]


def close_pools() -> None:
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


class SmtpTransport(OneAtATime):
    """One pooled connection for the life of the ``with`` block, many messages on it."""

    def __init__(self, settings: Settings, pool: SmtpPool | None = None) -> None:
        self.settings = settings
        self.pool = pool or pool_for(settings)
        self._smtp: RelayConnection | None = None
        self._held = False

    def __enter__(self) -> Self:
        self._smtp = self.pool.acquire()
        self._held = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._held:
            self.pool.release(self._smtp)
        self._smtp, self._held = None, False

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
        self._smtp = None

    def send(self, message: bytes, sender: str, recipient: str, name: str) -> None:
        assert self._held, "use the transport in a with block"
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self.pool.connect()
            smtp = self._smtp
            smtp.payload_sent = False
            try:
                if can_pipeline(smtp, sender, recipient):
                    send_pipelined(smtp, sender, recipient, message)
                else:
                    smtp.sendmail(sender, [recipient], message)
                return
            except _DISCONNECTED as error:
                self._drop()
                if smtp.payload_sent:  # the relay has it all and may have said 250
                    raise TransportError(
                        f"SMTP connection lost after the message, before the reply: {error}",
                        permanent=False,
                        ambiguous=True,
                    ) from error
                if attempt == 2:  # else dropped while idle or before the end: once more
                    raise TransportError(
                        f"SMTP connection lost: {error}", permanent=False
                    ) from error
            except smtplib.SMTPRecipientsRefused as refused:
                code, reply = refused.recipients[recipient]
                raise classify(code, reply, at_recipient=True) from refused
            except smtplib.SMTPResponseException as error:
                if error.smtp_code == 421:  # the relay is closing this connection
                    self._drop()
                raise classify(error.smtp_code, _reply_bytes(error), at_recipient=False) from error
            except (OSError, smtplib.SMTPException) as error:
                self._drop()
                raise TransportError(str(error), permanent=False) from error


def _reply_bytes(error: smtplib.SMTPResponseException) -> bytes:
    reply = error.smtp_error
    return reply if isinstance(reply, bytes) else str(reply).encode()
