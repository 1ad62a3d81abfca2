"""Postmark's email API over httpx, behind the same interface as SMTP.

Postmark takes JSON fields, not MIME, so each finished message is read back into its
subject, text, HTML and list headers. Errors map like SMTP replies: throttling and
server errors are transient, a refused request is permanent, and an inactive recipient
(Postmark error 406: hard bounce, complaint or manual suppression) goes on our
suppression list. One message per request: a batch call could only report acceptance
after the whole batch, which would widen the window in which a crash resends mail.
"""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from typing import Any, Self

import httpx

from newsletter.config import Settings
from newsletter.delivery.errors import TransportError
from newsletter.delivery.outgoing import OneAtATime

FORWARDED_HEADERS = (
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Precedence",
    "Feedback-ID",
)
INACTIVE_RECIPIENT = 406
INVALID_ADDRESS = 300
_parser = BytesParser(policy=policy.default)


def postmark_fields(message: bytes, stream: str) -> dict[str, Any]:
    """The JSON body of Postmark's /email call for one of our serialised messages."""
    parsed = _parser.parsebytes(message)
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    return {
        "From": str(parsed["From"]),
        "To": str(parsed["To"]),
        "Subject": str(parsed["Subject"]),
        "TextBody": text.get_content() if text is not None else None,  # type: ignore[attr-defined]
        "HtmlBody": html.get_content() if html is not None else None,  # type: ignore[attr-defined]
        "Headers": [
            {"Name": name, "Value": " ".join(str(parsed[name]).split())}
            for name in FORWARDED_HEADERS
            if parsed[name] is not None
        ],
        "MessageStream": stream,
        "TrackOpens": False,
    }


def error_for(response: httpx.Response) -> TransportError | None:
    """None when Postmark accepted the message, else the error it amounts to."""
    if response.status_code == 200:
        return None
    if response.status_code == 429 or response.status_code >= 500:
        return TransportError(f"Postmark HTTP {response.status_code}", permanent=False)
    try:
        body = response.json()
        code, text = int(body.get("ErrorCode", -1)), str(body.get("Message", ""))
    except (ValueError, AttributeError):
        code, text = -1, response.text[:200]
    return TransportError(
        f"Postmark {response.status_code} error {code}: {text}",
        permanent=True,
        suppress=code in (INACTIVE_RECIPIENT, INVALID_ADDRESS),
    )


class PostmarkTransport(OneAtATime):
    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self._transport = transport
        self._client: httpx.Client | None = None

    def __enter__(self) -> Self:
        self._client = httpx.Client(
            base_url=self.settings.postmark_url,
            headers={
                "Accept": "application/json",
                "X-Postmark-Server-Token": self.settings.postmark_token,
            },
            timeout=self.settings.smtp_timeout,
            transport=self._transport,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    def send(self, message: bytes, sender: str, recipient: str, name: str) -> None:
        assert self._client is not None, "use the transport in a with block"
        try:
            response = self._client.post(
                "/email", json=postmark_fields(message, self.settings.postmark_stream)
            )
        except httpx.HTTPError as error:
            raise TransportError(
                f"Postmark unreachable: {error}", permanent=False, unreachable=True
            ) from error
        error = error_for(response)
        if error is not None:
            raise error
