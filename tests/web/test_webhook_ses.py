"""Amazon SES bounces and complaints through SNS: the signature verified against a signing
certificate the test makes and serves through the injected fetch (no network), the
certificate URL's host, the certificate's name and the topic all checked."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from flask import Flask
from sqlalchemy import select

from newsletter.app import create_app
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery import sns
from newsletter.models import BounceEvent, Suppression
from newsletter.services import Services
from newsletter.web.webhooks import SNS_FETCH

TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-feedback"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
SUBSCRIBE_URL = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=t"


class SigningService:
    """Plays SNS: a key, its certificate served at CERT_URL, and signed messages."""

    def __init__(self, name: str = "sns.amazonaws.com", days: int = 30) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=days))
            .sign(self.key, hashes.SHA256())
        )
        self.fetched: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        if url == CERT_URL:
            return self.certificate.public_bytes(serialization.Encoding.PEM)
        if url == SUBSCRIBE_URL:
            return b"<ConfirmSubscriptionResponse/>"
        raise AssertionError(f"unexpected fetch of {url}")

    def sign(self, message: dict[str, Any], version: str = "2") -> dict[str, Any]:
        message = {**message, "SignatureVersion": version, "SigningCertURL": CERT_URL}
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
        signature = self.key.sign(sns.signed_string(message), padding.PKCS1v15(), algorithm)
        return {**message, "Signature": base64.b64encode(signature).decode()}


def notification(ses: dict[str, Any], message_id: str = "m-1") -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": TOPIC,
        "Message": json.dumps(ses),
        "Timestamp": "2026-01-12T07:03:12.000Z",
    }


def bounce(kind: str, sub: str, *addresses: str) -> dict[str, Any]:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": kind,
            "bounceSubType": sub,
            "bouncedRecipients": [
                {"emailAddress": a, "action": "failed", "status": "5.1.1"} for a in addresses
            ],
            "timestamp": "2026-01-12T07:03:12.000Z",
            "feedbackId": "0102017f-bounce",
        },
        "mail": {"messageId": "0102017f-mail", "source": "digest@news.example.org"},
    }


def complaint(feedback: str, *addresses: str) -> dict[str, Any]:
    return {
        "notificationType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": a} for a in addresses],
            "complaintFeedbackType": feedback,
            "timestamp": "2026-01-12T09:17:33.000Z",
            "feedbackId": "0102017f-complaint",
        },
        "mail": {"messageId": "0102017f-mail", "source": "digest@news.example.org"},
    }


@pytest.fixture
def service() -> SigningService:
    sns._certificates.clear()  # each test's own certificate at the same URL
    return SigningService()


@pytest.fixture
def ses_app(settings: Settings, db: Database, service: SigningService) -> Flask:
    app = create_app(
        services=Services(replace(settings, ses_topic_arns=(TOPIC,), soft_bounce_limit=2), db)
    )
    app.extensions[SNS_FETCH] = service.fetch
    return app


def post(app: Flask, message: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = app.test_client().post(
        "/webhooks/ses",
        data=json.dumps(message),
        headers={"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "x"},
    )
    return response.status_code, response.get_json()


def suppressed(db: Database) -> dict[str, str]:
    with db.session() as session:
        return {s.email or "": s.reason for s in session.scalars(select(Suppression))}


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_verified_hard_bounce_and_complaint_suppress(
    ses_app: Flask, db: Database, service: SigningService, version: str
) -> None:
    hard = notification(bounce("Permanent", "General", "Ada@Example.com"), "m-1")
    assert post(ses_app, service.sign(hard, version)) == (200, {"events": 1, "suppressed": 1})
    spam = notification(complaint("abuse", "grace@example.com"), "m-2")
    assert post(ses_app, service.sign(spam, version)) == (200, {"events": 1, "suppressed": 1})
    assert suppressed(db) == {
        "ada@example.com": "hard: SES Permanent/General 5.1.1",
        "grace@example.com": "complaint: SES complaint abuse",
    }
    assert service.fetched == [CERT_URL]  # fetched once, then kept


def test_soft_bounces_suppress_at_the_limit_and_a_redelivery_counts_once(
    ses_app: Flask, db: Database, service: SigningService
) -> None:
    first = service.sign(notification(bounce("Transient", "MailboxFull", "x@example.com"), "s-1"))
    assert post(ses_app, first)[1] == {"events": 1, "suppressed": 0}
    assert post(ses_app, first)[1] == {"events": 1, "suppressed": 0}  # SNS delivered it twice
    assert suppressed(db) == {}
    second = service.sign(notification(bounce("Transient", "MailboxFull", "x@example.com"), "s-2"))
    assert post(ses_app, second)[1] == {"events": 1, "suppressed": 1}
    assert suppressed(db)["x@example.com"].startswith("2 soft bounces")
    with db.session() as session:
        assert len(session.scalars(select(BounceEvent)).all()) == 2


def test_a_not_spam_report_and_a_delivery_change_nothing(
    ses_app: Flask, db: Database, service: SigningService
) -> None:
    fine = notification(complaint("not-spam", "x@example.com"), "n-1")
    assert post(ses_app, service.sign(fine)) == (200, {"events": 0, "suppressed": 0})
    delivery = notification({"notificationType": "Delivery", "delivery": {}}, "n-2")
    assert post(ses_app, service.sign(delivery)) == (200, {"events": 0, "suppressed": 0})
    assert suppressed(db) == {}


def tamper(message: dict[str, Any]) -> dict[str, Any]:
    return {**message, "Message": message["Message"].replace("x@example", "y@example")}


@pytest.mark.parametrize(
    ("change", "fetches"),
    [
        (tamper, [CERT_URL]),
        (lambda m: {**m, "TopicArn": "arn:aws:sns:eu-west-1:999999999999:theirs"}, []),
        (lambda m: {**m, "SigningCertURL": "https://evil.example.com/cert.pem"}, []),
        (
            lambda m: {**m, "SigningCertURL": "https://sns.eu-west-1.amazonaws.com.evil.io/c.pem"},
            [],
        ),
        (lambda m: {**m, "SigningCertURL": CERT_URL.replace("https", "http")}, []),
        (lambda m: {**m, "SignatureVersion": "3"}, []),
        (lambda m: {**m, "Signature": "not base64!"}, [CERT_URL]),
        (lambda m: {k: v for k, v in m.items() if k != "Signature"}, [CERT_URL]),
    ],
    ids=[
        "tampered",
        "other-topic",
        "foreign-cert-host",
        "lookalike-host",
        "plain-http",
        "unknown-version",
        "garbage-signature",
        "unsigned",
    ],
)
def test_what_is_not_an_authentic_message_of_our_topic_is_refused(
    ses_app: Flask,
    db: Database,
    service: SigningService,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    fetches: list[str],
) -> None:
    signed = service.sign(notification(bounce("Permanent", "General", "x@example.com")))
    status, body = post(ses_app, change(signed))
    assert status == 403, body
    assert suppressed(db) == {}
    assert service.fetched == fetches  # a foreign URL is never fetched


def test_a_certificate_not_issued_to_sns_is_refused(settings: Settings, db: Database) -> None:
    sns._certificates.clear()
    impostor = SigningService(name="sns.amazonaws.com.evil.io")
    app = create_app(services=Services(replace(settings, ses_topic_arns=(TOPIC,)), db))
    app.extensions[SNS_FETCH] = impostor.fetch
    signed = impostor.sign(notification(bounce("Permanent", "General", "x@example.com")))
    assert post(app, signed)[0] == 403
    assert suppressed(db) == {}


def test_a_subscription_is_confirmed_at_its_sns_url_only(
    ses_app: Flask, service: SigningService
) -> None:
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "c-1",
        "Token": "t",
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe to the topic.",
        "SubscribeURL": SUBSCRIBE_URL,
        "Timestamp": "2026-01-12T07:00:00.000Z",
    }
    assert post(ses_app, service.sign(confirmation)) == (200, {"subscribed": True})
    assert service.fetched == [CERT_URL, SUBSCRIBE_URL]

    elsewhere = {**confirmation, "SubscribeURL": "https://attacker.example.com/confirm"}
    assert post(ses_app, service.sign(elsewhere))[0] == 403
    assert service.fetched == [CERT_URL, SUBSCRIBE_URL]


def test_an_unreachable_sns_is_a_503_so_it_delivers_again(
    ses_app: Flask, db: Database, service: SigningService
) -> None:
    def down(url: str) -> bytes:
        raise OSError("network unreachable")

    ses_app.extensions[SNS_FETCH] = down
    signed = service.sign(notification(bounce("Permanent", "General", "x@example.com")))
    assert post(ses_app, signed)[0] == 503
    assert suppressed(db) == {}


def test_without_topics_there_is_no_endpoint(app: Flask) -> None:
    assert app.test_client().post("/webhooks/ses", data=b"{}").status_code == 404


def test_the_sns_url_check_in_production() -> None:
    assert sns.sns_url(CERT_URL) == CERT_URL
    assert sns.sns_url("https://sns.cn-north-1.amazonaws.com.cn/x.pem")
    assert sns.sns_url("https://sns.us-gov-west-1.amazonaws.com/x.pem")
    for bad in (
        "https://sns.eu-west-1.amazonaws.com:8443/x.pem",
        "https://sns.amazonaws.com/x.pem",
        "https://s3.eu-west-1.amazonaws.com/x.pem",
        "https://sns.eu-west-1.amazonaws.com@evil.io/x.pem",
    ):
        with pytest.raises(sns.SnsRejected):
            sns.sns_url(bad)
