"""Transports take a finished message and hand it on: to files, or to an SMTP relay."""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from newsletter.config import Settings


class TransportError(RuntimeError):
    """Sending failed; ``permanent`` means retrying will not help (an SMTP 5xx)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def send(self, message: bytes, sender: str, recipient: str, name: str) -> None: ...


class OutboxTransport:
    """Writes each message as ``NAME.eml`` into a folder (the embedded default)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> Self:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, message: bytes, sender: str, recipient: str, name: str) -> None:
        partial = self.folder / f".{name}.eml.partial"
        partial.write_bytes(message)
        partial.replace(self.folder / f"{name}.eml")


class SmtpTransport:
    """One SMTP connection for the life of the ``with`` block, many messages on it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        s = self.settings
        try:
            if s.smtp_security == "ssl":
                context = ssl.create_default_context()
                self._smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, context=context)
            else:
                self._smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30)
                if s.smtp_security == "starttls":
                    self._smtp.starttls(context=ssl.create_default_context())
            if s.smtp_username:
                self._smtp.login(s.smtp_username, s.smtp_password)
        except (OSError, smtplib.SMTPException) as error:
            raise TransportError(
                f"cannot connect to SMTP relay: {error}", permanent=False
            ) from error
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None

    def send(self, message: bytes, sender: str, recipient: str, name: str) -> None:
        assert self._smtp is not None, "use the transport in a with block"
        try:
            self._smtp.sendmail(sender, [recipient], message)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = error.recipients[recipient]
            raise TransportError(f"{code} {reply!r}", permanent=code >= 500) from error
        except smtplib.SMTPResponseException as error:
            raise TransportError(
                f"{error.smtp_code} {error.smtp_error!r}", permanent=error.smtp_code >= 500
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            raise TransportError(str(error), permanent=False) from error


def make_transport(settings: Settings) -> Transport:
    if settings.transport == "smtp":
        return SmtpTransport(settings)
    assert settings.outbox_dir is not None
    return OutboxTransport(settings.outbox_dir)
