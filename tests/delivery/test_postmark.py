"""The Postmark transport (its API faked with an httpx MockTransport) and the signed
bounce/complaint webhook that feeds the suppression list."""

from __future__ import annotations

import hashlib
import hmac
import json
from base64 import b64encode
from collections import Counter
from dataclasses import replace

import httpx
import pytest
from flask import Flask
from sqlalchemy import select

from newsletter import pipeline
from newsletter.app import Services, services
from newsletter.config import ConfigError, Settings
from newsletter.db import Database
from newsletter.delivery.postmark import PostmarkTransport
from newsletter.demo import SAMPLE_DATE
from newsletter.models import Delivery, DeliveryState, Suppression
from tests.delivery.conftest import add_readers, make_topic

TOKEN = "server-token-123"
SECRET = "webhook-secret-0123456789"


class FakePostmark:
    """Answers /email like Postmark: 406 for inactive recipients, 503 once for some."""

    def __init__(self, inactive: set[str], flaky: set[str]) -> None:
        self.inactive, self.flaky = inactive, flaky
        self.accepted: list[dict[str, object]] = []
        self.calls: Counter[str] = Counter()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url == "https://api.postmarkapp.com/email"
        assert request.headers["X-Postmark-Server-Token"] == TOKEN
        body = json.loads(request.content)
        to = body["To"]
        self.calls[to] += 1
        if to in self.flaky and self.calls[to] == 1:
            return httpx.Response(503, text="unavailable")
        if to in self.inactive:
            return httpx.Response(
                422, json={"ErrorCode": 406, "Message": "You tried to send to inactive recipient"}
            )
        self.accepted.append(body)
        return httpx.Response(200, json={"ErrorCode": 0, "MessageID": f"pm-{len(self.accepted)}"})


@pytest.fixture
def postmark_settings(settings: Settings) -> Settings:
    return replace(settings, transport="postmark", postmark_token=TOKEN, retry_base_seconds=0.0)


def test_digests_go_out_through_the_api_with_the_same_error_mapping(
    db: Database, postmark_settings: Settings
) -> None:
    topic_id = make_topic(db, "claude", ["en"])
    pipeline.build(db, postmark_settings, "claude", SAMPLE_DATE, ["en"])
    people = sorted(add_readers(db, 6, lambda n: [topic_id], lambda n: "en"))
    api = FakePostmark(inactive={people[0]}, flaky={people[1]})
    transport = PostmarkTransport(postmark_settings, httpx.MockTransport(api))

    first = pipeline.send(db, postmark_settings, "claude", SAMPLE_DATE, transport=transport)
    assert (first[0].report.sent, first[0].report.deferred) == (4, 1)
    pipeline.send(db, postmark_settings, "claude", SAMPLE_DATE, transport=transport)

    assert sorted(body["To"] for body in api.accepted) == people[1:]
    assert api.calls[people[0]] == 1  # suppressed, never retried
    body = api.accepted[0]
    assert body["MessageStream"] == "broadcast"
    assert "<html" in str(body["HtmlBody"]).lower() and body["TextBody"]
    headers = {h["Name"]: h["Value"] for h in body["Headers"]}  # type: ignore[union-attr]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<https://news.example.org/unsubscribe/")
    assert headers["Message-ID"].startswith("<digest-")
    with db.session() as session:
        states = Counter(d.state for d in session.scalars(select(Delivery)))
        suppressed = session.scalars(select(Suppression.email)).all()
    assert states == Counter({DeliveryState.SENT: 5, DeliveryState.SUPPRESSED: 1})
    assert suppressed == [people[0]]


def test_the_postmark_transport_needs_a_token(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="POSTMARK_TOKEN"):
        replace(settings, transport="postmark")


@pytest.mark.parametrize("raw", ["0", "-1", "501", "fifty", "2.5"])
def test_a_batch_size_outside_1_to_500_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="NEWSLETTER_POSTMARK_BATCH_SIZE"):
        Settings.from_env({"NEWSLETTER_POSTMARK_BATCH_SIZE": raw})


@pytest.mark.parametrize(("raw", "size"), [(None, 50), ("1", 1), ("500", 500)])
def test_the_batch_size_defaults_to_50_and_takes_1_to_500(raw: str | None, size: int) -> None:
    environ = {} if raw is None else {"NEWSLETTER_POSTMARK_BATCH_SIZE": raw}
    assert Settings.from_env(environ).postmark_batch_size == size


@pytest.fixture
def webhook_app(app: Flask, settings: Settings, db: Database) -> Flask:
    app.extensions["newsletter"] = Services(replace(settings, webhook_secret=SECRET), db)
    return app


def _signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Newsletter-Signature": f"sha256={digest}", "Content-Type": "application/json"}


def _suppressed(app: Flask) -> dict[str, str]:
    with app.app_context(), services().db.session() as session:
        return {s.email: s.reason for s in session.scalars(select(Suppression))}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (
            {"RecordType": "Bounce", "Type": "HardBounce", "Email": "Gone@Example.com"},
            "bounce: HardBounce",
        ),
        ({"RecordType": "SpamComplaint", "Email": "gone@example.com"}, "spam complaint"),
        (
            {
                "RecordType": "SubscriptionChange",
                "Recipient": "gone@example.com",
                "SuppressSending": True,
            },
            "suppressed at Postmark",
        ),
    ],
)
def test_a_signed_hard_bounce_or_complaint_suppresses(
    webhook_app: Flask, payload: dict[str, object], reason: str
) -> None:
    body = json.dumps(payload).encode()
    response = webhook_app.test_client().post(
        "/webhooks/postmark", data=body, headers=_signed(body)
    )
    assert response.status_code == 200
    assert response.json == {"suppressed": True}
    assert _suppressed(webhook_app) == {"gone@example.com": reason}


def test_basic_auth_with_the_secret_is_accepted(webhook_app: Flask) -> None:
    body = json.dumps({"RecordType": "SpamComplaint", "Email": "x@example.com"})
    credentials = b64encode(f"postmark:{SECRET}".encode()).decode()
    response = webhook_app.test_client().post(
        "/webhooks/postmark",
        data=body,
        headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert set(_suppressed(webhook_app)) == {"x@example.com"}


def test_a_soft_bounce_changes_nothing(webhook_app: Flask) -> None:
    body = json.dumps(
        {"RecordType": "Bounce", "Type": "SoftBounce", "Email": "x@example.com"}
    ).encode()
    response = webhook_app.test_client().post(
        "/webhooks/postmark", data=body, headers=_signed(body)
    )
    assert response.json == {"suppressed": False}
    assert _suppressed(webhook_app) == {}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Newsletter-Signature": "sha256=" + "0" * 64},
        {"Authorization": "Basic " + b64encode(b"postmark:wrong").decode()},
    ],
)
def test_an_unsigned_or_badly_signed_call_is_refused(
    webhook_app: Flask, headers: dict[str, str]
) -> None:
    body = json.dumps({"RecordType": "SpamComplaint", "Email": "x@example.com"})
    response = webhook_app.test_client().post(
        "/webhooks/postmark", data=body, headers={"Content-Type": "application/json", **headers}
    )
    assert response.status_code == 401
    assert _suppressed(webhook_app) == {}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"RecordType": "Bounce", "Type": "HardBounce"}).encode(),
        json.dumps({"RecordType": "SpamComplaint", "Email": "not-an-address"}).encode(),
    ],
)
def test_a_malformed_payload_is_a_400_and_changes_nothing(webhook_app: Flask, body: bytes) -> None:
    response = webhook_app.test_client().post(
        "/webhooks/postmark", data=body, headers=_signed(body)
    )
    assert response.status_code == 400
    assert _suppressed(webhook_app) == {}


def test_without_a_secret_there_is_no_endpoint(app: Flask) -> None:
    body = b"{}"
    assert app.test_client().post("/webhooks/postmark", data=body).status_code == 404
