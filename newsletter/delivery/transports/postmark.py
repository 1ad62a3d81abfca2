"""Postmark's email API over httpx, behind the same interface as SMTP.

Postmark takes JSON fields, not MIME, so each finished message is read back into its
subject, text, HTML and list headers: about 150 µs for a digest, where the email
package's full parser took 2.3 ms. Errors map like SMTP replies: throttling and
server errors are transient, a refused request is permanent, and an inactive recipient
(Postmark error 406: hard bounce, complaint or manual suppression) or an invalid address
(300) goes on our suppression list.

Digests go through ``POST /email/batch``, ``NEWSLETTER_POSTMARK_BATCH_SIZE`` messages a
call (at most 500, and split further to stay under 50 MB of JSON). Postmark answers a
batch with one result per message, in order; a refused call (401, 422, 429, 5xx) is the
outcome of every message in it. Acceptance is known only when the call returns, so a
crash while a batch is in flight can resend at most that batch once the lease runs out:
a bounded duplicate (every copy carries the same Message-ID), never a loss. A batch
size of 1 gives the smallest window; larger batches need fewer requests. The notices
(one message now) go through ``POST /email``.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Iterator, Sequence
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from typing import Any, Self

import httpx

from newsletter.config import Settings
from newsletter.delivery.transports.base import Outgoing, TransportError

FORWARDED_HEADERS = (
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Precedence",
    "Feedback-ID",
)
PARTS = ("plain", "html")
INACTIVE_RECIPIENT = 406
INVALID_ADDRESS = 300
MAX_REQUEST_BYTES = 50_000_000  # Postmark refuses a batch call of more than 50 MB
_parser = BytesParser(policy=policy.default)
# compat32: raw header strings, ten times faster to read than header objects
_header_parser = BytesHeaderParser(policy=policy.compat32)
_DECODERS = {
    "quoted-printable": binascii.a2b_qp,
    "base64": binascii.a2b_base64,
    "7bit": bytes,
    "8bit": bytes,
}


def postmark_fields(message: bytes, stream: str) -> dict[str, Any]:
    """The JSON body of Postmark's /email call for one of our serialised messages."""
    head, _, body = message.partition(b"\r\n\r\n")
    headers = _header_parser.parsebytes(head + b"\r\n\r\n")
    parts = _text_parts(headers, body)
    if parts is None:  # not the shape we write: let the email package read it all
        parsed = _parser.parsebytes(message)
        parts = {
            subtype: part.get_content()  # type: ignore[attr-defined]
            for subtype in PARTS
            if (part := parsed.get_body((subtype,))) is not None
        }
    return {
        "From": _unfolded(headers, "From"),
        "To": _unfolded(headers, "To"),
        "Subject": _unfolded(headers, "Subject"),
        "TextBody": parts.get("plain"),
        "HtmlBody": parts.get("html"),
        "Headers": [
            {"Name": name, "Value": _unfolded(headers, name)}
            for name in FORWARDED_HEADERS
            if headers[name] is not None
        ],
        "MessageStream": stream,
        "TrackOpens": False,
    }


def _unfolded(headers: Message, name: str) -> str:
    """A header's text on one line, RFC 2047 encoded words decoded."""
    return " ".join(str(make_header(decode_header(headers[name]))).split())


def _text_parts(headers: Message, body: bytes) -> dict[str, str] | None:
    """text/plain and text/html of a message we wrote (one text part, or a flat
    multipart/alternative of them), decoded without walking its lines in Python:
    the email package takes milliseconds over a 45 KB digest, this a few microseconds.
    None for any other shape."""
    if headers.get_content_maintype() == "text":
        part = _decoded(headers, body)
        return None if part is None else dict([part])
    boundary = headers.get_boundary()
    if headers.get_content_type() != "multipart/alternative" or boundary is None:
        return None
    delimiter = b"\r\n--" + boundary.encode("ascii")
    sections = (b"\r\n" + body).split(delimiter)
    if len(sections) < 3 or not sections[-1].startswith(b"--"):
        return None
    parts = {}
    for section in sections[1:-1]:
        part_head, _, part_body = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        part = _decoded(_header_parser.parsebytes(part_head + b"\r\n\r\n"), part_body)
        if part is None:
            return None
        parts[part[0]] = part[1]
    return parts


def _decoded(headers: Message, body: bytes) -> tuple[str, str] | None:
    decode = _DECODERS.get(headers.get("Content-Transfer-Encoding", "7bit").lower())
    subtype = headers.get_content_subtype()
    if decode is None or headers.get_content_maintype() != "text" or subtype not in PARTS:
        return None
    charset = headers.get_content_charset("us-ascii")
    return subtype, decode(body).decode(charset)


def error_for(response: httpx.Response, *, one_recipient: bool = True) -> TransportError | None:
    """None when Postmark accepted the request, else the error it amounts to.

    ``one_recipient``: the request was one message, so an error about its recipient
    (406, 300) suppresses the address. A refused batch call is about the call, never
    about every recipient in it.
    """
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
        suppress=one_recipient and code in (INACTIVE_RECIPIENT, INVALID_ADDRESS),
    )


def batch_outcomes(response: httpx.Response, count: int) -> list[TransportError | None]:
    """Each message's outcome from the answer to a batch call of ``count`` messages.

    A 200 whose body is not one result per message says nothing about which went, so
    every message gets a transient error: a retry may duplicate some, none is lost.
    """
    refused = error_for(response, one_recipient=False)
    if refused is not None:
        return [refused] * count
    try:
        results = [(int(r["ErrorCode"]), str(r.get("Message", ""))) for r in response.json()]
    except (ValueError, TypeError, KeyError, AttributeError):
        results = []
    if len(results) != count:
        unreadable = TransportError(
            f"Postmark 200 without a result per message: {response.text[:200]}",
            permanent=False,
        )
        return [unreadable] * count
    return [
        None
        if code == 0
        else TransportError(
            f"Postmark error {code}: {text}",
            permanent=True,
            suppress=code in (INACTIVE_RECIPIENT, INVALID_ADDRESS),
        )
        for code, text in results
    ]


def request_parts(bodies: Sequence[bytes], limit: int) -> Iterator[list[bytes]]:
    """``bodies`` in order, in runs whose JSON array ``[a,b,...]`` fits in ``limit`` bytes.

    A body too big on its own still goes, alone, for Postmark to refuse.
    """
    part: list[bytes] = []
    size = 1  # "[", then each body brings one byte more: its "," or the closing "]"
    for body in bodies:
        if part and size + len(body) + 1 > limit:
            yield part
            part, size = [], 1
        part.append(body)
        size += len(body) + 1
    if part:
        yield part


def _unreachable(error: httpx.HTTPError) -> TransportError:
    return TransportError(f"Postmark unreachable: {error}", permanent=False, unreachable=True)


class PostmarkTransport:
    max_request_bytes = MAX_REQUEST_BYTES

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.batch_size = settings.postmark_batch_size
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
            raise _unreachable(error) from error
        error = error_for(response)
        if error is not None:
            raise error

    def send_many(self, batch: Sequence[Outgoing]) -> list[TransportError | None]:
        """One /email/batch call per ``max_request_bytes`` of JSON; outcomes in order.

        Once Postmark is unreachable, the rest of the batch is not tried and shares
        that error.
        """
        stream = self.settings.postmark_stream
        bodies = [_json(postmark_fields(outgoing.message, stream)) for outgoing in batch]
        outcomes: list[TransportError | None] = []
        for part in request_parts(bodies, self.max_request_bytes):
            outcomes += self._post_batch(part)
            last = outcomes[-1]
            if last is not None and last.unreachable:
                return outcomes + [last] * (len(batch) - len(outcomes))
        return outcomes

    def _post_batch(self, bodies: list[bytes]) -> list[TransportError | None]:
        assert self._client is not None, "use the transport in a with block"
        try:
            response = self._client.post(
                "/email/batch",
                content=b"[" + b",".join(bodies) + b"]",
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as error:
            return [_unreachable(error)] * len(bodies)
        return batch_outcomes(response, len(bodies))


def _json(fields: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as httpx would send it; its length counts toward the cap."""
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
