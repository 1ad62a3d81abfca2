"""Amazon SES bounce and complaint notifications, delivered by SNS to a webhook.

An SNS message is trusted only when (1) its signature verifies against the certificate
at its ``SigningCertURL``, (2) that URL is ``https://sns.<region>.amazonaws.com/...pem``
(so a forger cannot point at a certificate of their own) and the certificate is issued
to ``sns.amazonaws.com`` and current, and (3) its ``TopicArn`` is one of
NEWSLETTER_SES_TOPIC_ARNS: anyone can make an SNS topic, whose messages AWS signs just
the same. The string signed is the message's fields in SNS's fixed order (signature
version 1 signs it with SHA1, version 2 with SHA256, both RSA PKCS#1 v1.5).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from newsletter.addresses import normalize_email
from newsletter.errors import InputError
from newsletter.models import BounceKind

Fetch = Callable[[str], bytes]  # GET a URL, return the body (raise on failure)
SNS_HOST = re.compile(r"sns\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com(\.cn)?")
_CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": _CONFIRMATION_FIELDS,
    "UnsubscribeConfirmation": _CONFIRMATION_FIELDS,
}
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
CERTIFICATE_NAME = "sns.amazonaws.com"


class SnsRejected(InputError):
    """Not an authentic SNS message of one of our topics."""


class SnsUnavailable(RuntimeError):
    """SNS could not be reached (a certificate, a confirmation): SNS will deliver again."""


def get(fetch: Fetch, url: str) -> bytes:
    """``fetch(url)``, any failure of it (network, HTTP status) as SnsUnavailable."""
    try:
        return fetch(url)
    except Exception as error:  # whatever the client raises: the message is retried later
        raise SnsUnavailable(f"{url[:100]}: {error}") from error


def sns_url(url: object) -> str:
    """``url`` if it is an https URL on an SNS endpoint, else SnsRejected."""
    if not isinstance(url, str):
        raise SnsRejected("missing URL")
    parts = urlsplit(url)
    if parts.scheme != "https" or not SNS_HOST.fullmatch(parts.hostname or "") or parts.port:
        raise SnsRejected(f"not an SNS URL: {url[:100]!r}")
    return url


def signed_string(message: dict[str, Any]) -> bytes:
    fields = SIGNED_FIELDS[message["Type"]]
    return "".join(
        f"{name}\n{message[name]}\n" for name in fields if isinstance(message.get(name), str)
    ).encode()


def verify(message: Any, topics: tuple[str, ...], fetch: Fetch) -> dict[str, Any]:
    """The message if it is an authentic SNS message of one of ``topics``; else SnsRejected."""
    if not isinstance(message, dict) or message.get("Type") not in SIGNED_FIELDS:
        raise SnsRejected("not an SNS message")
    if message.get("TopicArn") not in topics:
        raise SnsRejected("not one of our topics")
    version = message.get("SignatureVersion")
    if version not in HASHES:
        raise SnsRejected("unknown signature version")
    certificate = _certificate(sns_url(message.get("SigningCertURL")), fetch)
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise SnsRejected("not an RSA certificate")
        public_key.verify(signature, signed_string(message), padding.PKCS1v15(), HASHES[version]())
    except (InvalidSignature, binascii.Error, ValueError) as error:
        raise SnsRejected("bad signature") from error
    return message


_certificates: dict[str, x509.Certificate] = {}
_lock = threading.Lock()


def _certificate(url: str, fetch: Fetch) -> x509.Certificate:
    """The signing certificate at ``url``, fetched once per process and checked each use."""
    with _lock:
        certificate = _certificates.get(url)
    if certificate is None:
        if not urlsplit(url).path.endswith(".pem"):
            raise SnsRejected("the signing certificate URL is not a .pem")
        try:
            certificate = x509.load_pem_x509_certificate(get(fetch, url))
        except ValueError as error:
            raise SnsRejected("unreadable signing certificate") from error
        with _lock:
            _certificates[url] = certificate
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if [name.value for name in names] != [CERTIFICATE_NAME]:
        raise SnsRejected("the signing certificate is not SNS's")
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise SnsRejected("the signing certificate is not current")
    return certificate


@dataclass(frozen=True)
class SesEvent:
    address: str
    kind: BounceKind
    detail: str
    source: str  # names the notice, so a redelivery counts once


def ses_events(message: dict[str, Any]) -> list[SesEvent]:
    """The bounces and complaints in a verified notification (SES's ``Message`` JSON)."""
    try:
        notice = json.loads(message["Message"])
    except (KeyError, TypeError, ValueError) as error:
        raise InputError("the SES notification is not JSON") from error
    if not isinstance(notice, dict):
        raise InputError("the SES notification is not an object")
    kind = notice.get("notificationType") or notice.get("eventType")
    events = []
    if kind == "Bounce":
        bounce = notice.get("bounce") or {}
        hard = bounce.get("bounceType") == "Permanent"
        detail = f"SES {bounce.get('bounceType')}/{bounce.get('bounceSubType')}"
        for recipient in bounce.get("bouncedRecipients") or []:
            status = recipient.get("status") or ""
            events.append(
                _event(
                    message,
                    recipient.get("emailAddress"),
                    BounceKind.HARD if hard else BounceKind.SOFT,
                    f"{detail} {status}".strip(),
                )
            )
    elif kind == "Complaint":
        complaint = notice.get("complaint") or {}
        feedback = complaint.get("complaintFeedbackType") or "abuse"
        if feedback != "not-spam":
            for recipient in complaint.get("complainedRecipients") or []:
                events.append(
                    _event(
                        message,
                        recipient.get("emailAddress"),
                        BounceKind.COMPLAINT,
                        f"SES complaint {feedback}",
                    )
                )
    return events


def _event(message: dict[str, Any], address: Any, kind: BounceKind, detail: str) -> SesEvent:
    if not isinstance(address, str):
        raise InputError("an SES recipient without an address")
    normalized = normalize_email(address)
    return SesEvent(normalized, kind, detail, f"ses:{message.get('MessageId')}:{normalized}")


def https_fetch(url: str) -> bytes:
    """What production uses to GET a certificate or confirm a subscription."""
    import httpx

    response = httpx.get(url, timeout=10.0, follow_redirects=False)
    response.raise_for_status()
    return response.content
