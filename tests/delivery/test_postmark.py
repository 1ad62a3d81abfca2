"""The Postmark transport (its API faked with an httpx MockTransport) and the signed
bounce/complaint webhook that feeds the suppression list."""

from __future__ import annotations

import hashlib
import hmac
import json
from base64 import b64encode
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import insert, select, update

from newsletter.config import ConfigError, Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.delivery.notices import build_notice
from newsletter.delivery.rows import fan_out
from newsletter.delivery.send import (
    SendReport,
    _mailing,
    close_journals,
    process_journal,
    send_range,
)
from newsletter.delivery.transports import postmark
from newsletter.delivery.transports.base import Outgoing, TransportError
from newsletter.delivery.transports.postmark import (
    FORWARDED_HEADERS,
    PostmarkTransport,
    postmark_fields,
)
from newsletter.demo import SAMPLE_DATE
from newsletter.models import (
    Delivery,
    DeliveryState,
    Digest,
    Subscriber,
    SubscriberStatus,
    Subscription,
    Suppression,
    utcnow,
)
from newsletter.render.email import RenderedEmail
from newsletter.render.links import PublicLinks
from newsletter.services import Services, current
from newsletter.subscriptions import unsubscribe
from tests.delivery.conftest import add_readers, build_digests, make_topic
from tests.support import send_day

TOKEN = "server-token-123"
SECRET = "webhook-secret-0123456789"


class FakePostmark:
    """Answers /email and /email/batch like Postmark.

    ``codes``: a recipient's Postmark error (406 inactive, 300 invalid address, ...): a
    422 from /email, that message's result from /email/batch. ``flaky``: recipients whose
    first call gets a 503 (the whole call, in a batch). ``refusals``: what the next batch
    calls get instead of an answer, in turn: a whole-call response, an exception to raise,
    or None for the usual answer. ``before_answer`` sees each batch call's recipients
    first.
    """

    def __init__(self, codes: dict[str, int] | None = None, flaky: set[str] | None = None) -> None:
        self.codes, self.flaky = codes or {}, flaky or set()
        self.refusals: list[httpx.Response | Exception | None] = []
        self.before_answer: Callable[[list[str]], None] | None = None
        self.accepted: list[dict[str, Any]] = []
        self.calls: Counter[str] = Counter()
        self.batches: list[list[str]] = []  # the recipients of each /email/batch call
        self.sizes: list[int] = []  # the bytes of each /email/batch call

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["X-Postmark-Server-Token"] == TOKEN
        if request.url == "https://api.postmarkapp.com/email/batch":
            return self._batch(request)
        assert request.url == "https://api.postmarkapp.com/email"
        body = json.loads(request.content)
        to = body["To"]
        self.calls[to] += 1
        if to in self.flaky and self.calls[to] == 1:
            return httpx.Response(503, text="unavailable")
        if to in self.codes:
            return httpx.Response(422, json={"ErrorCode": self.codes[to], "Message": "refused"})
        self.accepted.append(body)
        return httpx.Response(200, json={"ErrorCode": 0, "MessageID": f"pm-{len(self.accepted)}"})

    def _batch(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Content-Type"] == "application/json"
        messages = json.loads(request.content.decode("utf-8"))
        assert isinstance(messages, list) and 1 <= len(messages) <= 500
        recipients = [message["To"] for message in messages]
        self.batches.append(recipients)
        self.sizes.append(len(request.content))
        self.calls.update(recipients)
        if self.before_answer is not None:
            self.before_answer(recipients)
        refusal = self.refusals.pop(0) if self.refusals else None
        if isinstance(refusal, Exception):
            raise refusal
        if refusal is not None:
            return refusal
        if any(to in self.flaky and self.calls[to] == 1 for to in recipients):
            return httpx.Response(503, text="unavailable")
        results = []
        for message in messages:
            to = message["To"]
            if to in self.codes:
                results.append({"ErrorCode": self.codes[to], "Message": "refused", "To": to})
            else:
                self.accepted.append(message)
                results.append(
                    {"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{len(self.accepted)}"}
                )
        return httpx.Response(200, json=results)


@pytest.fixture
def postmark_settings(settings: Settings) -> Settings:
    return replace(settings, transport="postmark", postmark_token=TOKEN, retry_base_seconds=0.0)


def test_digests_go_out_through_the_api_with_the_same_error_mapping(
    db: Database, postmark_settings: Settings
) -> None:
    topic_id = make_topic(db, "claude", ["en"])
    steps.build(Services(postmark_settings, db), "claude", SAMPLE_DATE, ["en"])
    people = sorted(add_readers(db, 6, lambda n: [topic_id], lambda n: "en"))
    api = FakePostmark(codes={people[0]: 406}, flaky={people[1]})
    one_a_call = replace(postmark_settings, postmark_batch_size=1)
    transport = PostmarkTransport(one_a_call, httpx.MockTransport(api))

    first = send_day(Services(one_a_call, db), "claude", SAMPLE_DATE, transport=transport)
    assert (first[0].report.sent, first[0].report.deferred) == (4, 1)
    send_day(Services(one_a_call, db), "claude", SAMPLE_DATE, transport=transport)

    assert sorted(body["To"] for body in api.accepted) == people[1:]
    assert api.calls[people[0]] == 1  # suppressed, never retried
    body = api.accepted[0]
    assert body["MessageStream"] == "broadcast"
    assert "<html" in str(body["HtmlBody"]).lower() and body["TextBody"]
    headers = {h["Name"]: h["Value"] for h in body["Headers"]}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<https://news.example.org/unsubscribe/")
    assert headers["Message-ID"].endswith("@news.example.org>")
    with db.session() as session:
        states = Counter(d.state for d in session.scalars(select(Delivery)))
        suppressed = session.scalars(select(Suppression.email)).all()
    assert states == Counter({DeliveryState.SENT: 5, DeliveryState.SUPPRESSED: 1})
    assert suppressed == [people[0]]


def _readers(db: Database, settings: Settings, count: int, language: str = "en") -> list[str]:
    """The 'claude' digest built in ``language`` and ``count`` readers of it, sorted (the
    order of their deliveries)."""
    topic_id = make_topic(db, "claude", [language])
    steps.build(Services(settings, db), "claude", SAMPLE_DATE, [language])
    return sorted(add_readers(db, count, lambda n: [topic_id], lambda n: language))


def _send(db: Database, settings: Settings, api: FakePostmark) -> SendReport:
    transport = PostmarkTransport(settings, httpx.MockTransport(api))
    return send_day(Services(settings, db), "claude", SAMPLE_DATE, transport=transport)[0].report


def _deliveries(db: Database) -> dict[str, Delivery]:
    with db.session() as session:
        rows = session.execute(
            select(Subscriber.email, Delivery).join(
                Delivery, Delivery.subscriber_id == Subscriber.id
            )
        )
        return {email: delivery for email, delivery in rows}


def _states(db: Database) -> dict[str, DeliveryState]:
    return {email: delivery.state for email, delivery in _deliveries(db).items()}


def _suppressions(db: Database) -> dict[str, str]:
    with db.session() as session:
        return {s.email: s.reason for s in session.scalars(select(Suppression))}


def test_a_batch_call_reports_each_message_on_its_own(
    db: Database, postmark_settings: Settings
) -> None:
    people = _readers(db, postmark_settings, 6)
    inactive, invalid, refused = people[1], people[3], people[4]
    api = FakePostmark(codes={inactive: 406, invalid: 300, refused: 405})

    report = _send(db, postmark_settings, api)

    assert api.batches == [people]
    assert (report.sent, report.failed, report.deferred) == (3, 3, 0)
    assert _states(db) == {
        **{address: DeliveryState.SENT for address in people},
        inactive: DeliveryState.SUPPRESSED,
        invalid: DeliveryState.SUPPRESSED,
        refused: DeliveryState.FAILED,
    }
    assert _suppressions(db) == {
        inactive: "bounced: Postmark error 406: refused",
        invalid: "bounced: Postmark error 300: refused",
    }
    assert _deliveries(db)[refused].last_error == "Postmark error 405: refused"
    assert sorted(body["To"] for body in api.accepted) == [people[0], people[2], people[5]]
    _send(db, postmark_settings, api)
    assert len(api.batches) == 1  # nothing to retry


@pytest.mark.parametrize("status", [429, 503])
def test_a_throttled_or_failed_call_is_retried_for_each_message_and_delivered(
    db: Database, postmark_settings: Settings, status: int
) -> None:
    people = _readers(db, postmark_settings, 4)
    api = FakePostmark()
    api.refusals = [httpx.Response(status, text="later")]

    first = _send(db, postmark_settings, api)
    assert (first.sent, first.deferred) == (0, 4)
    waiting = _deliveries(db)
    assert {d.state for d in waiting.values()} == {DeliveryState.PENDING}
    assert {d.last_error for d in waiting.values()} == {f"Postmark HTTP {status}"}
    assert all(d.next_attempt_at is not None for d in waiting.values())

    second = _send(db, postmark_settings, api)
    assert second.sent == 4
    assert set(_states(db).values()) == {DeliveryState.SENT}
    assert api.batches == [people, people]
    assert sorted(body["To"] for body in api.accepted) == people


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            httpx.Response(401, json={"ErrorCode": 10, "Message": "Bad or missing API token"}),
            "Postmark 401 error 10: Bad or missing API token",
        ),
        (  # about the request, not its recipients: nobody is suppressed for it
            httpx.Response(422, json={"ErrorCode": 300, "Message": "Invalid email request"}),
            "Postmark 422 error 300: Invalid email request",
        ),
    ],
)
def test_a_refused_call_fails_every_message_in_it_and_suppresses_nobody(
    db: Database, postmark_settings: Settings, answer: httpx.Response, error: str
) -> None:
    people = _readers(db, postmark_settings, 3)
    api = FakePostmark()
    api.refusals = [answer]

    report = _send(db, postmark_settings, api)
    _send(db, postmark_settings, api)

    assert (report.sent, report.failed) == (0, 3)
    assert api.batches == [people]  # never retried
    assert {d.state for d in _deliveries(db).values()} == {DeliveryState.FAILED}
    assert {d.last_error for d in _deliveries(db).values()} == {error}
    assert _suppressions(db) == {}


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"ErrorCode": 0, "Message": "OK"}),
        httpx.Response(200, json=[{"ErrorCode": 0, "Message": "OK"}]),
        httpx.Response(200, json=[{"Message": "OK"}] * 3),
        httpx.Response(200, text="<html>maintenance</html>"),
    ],
)
def test_a_200_without_a_result_per_message_is_retried_not_taken_as_sent(
    db: Database, postmark_settings: Settings, answer: httpx.Response
) -> None:
    people = _readers(db, postmark_settings, 3)
    api = FakePostmark()
    api.refusals = [answer]

    first = _send(db, postmark_settings, api)
    assert (first.sent, first.deferred) == (0, 3)
    _send(db, postmark_settings, api)
    assert set(_states(db).values()) == {DeliveryState.SENT}
    assert api.batches == [people, people]


def test_an_unreachable_api_holds_back_the_rest_of_the_job(
    db: Database, postmark_settings: Settings
) -> None:
    settings = replace(postmark_settings, postmark_batch_size=2)
    people = _readers(db, settings, 5)
    api = FakePostmark()
    api.refusals = [httpx.ConnectError("connection refused")]

    first = _send(db, settings, api)
    assert api.batches == [people[:2]]  # the rest was not tried
    assert (first.sent, first.deferred) == (0, 5)
    rows = _deliveries(db)
    assert {rows[a].state for a in people} == {DeliveryState.PENDING}
    assert all(rows[a].last_error.startswith("Postmark unreachable") for a in people)  # type: ignore[union-attr]
    assert all(rows[a].next_attempt_at is not None for a in people[:2])  # tried: backoff
    assert all(rows[a].next_attempt_at is None for a in people[2:])  # held back: due now

    _send(db, settings, api)
    assert set(_states(db).values()) == {DeliveryState.SENT}
    assert api.batches[1:] == [people[:2], people[2:4], people[4:]]


@pytest.mark.parametrize(("size", "calls"), [(1, [1] * 7), (3, [3, 3, 1]), (50, [7])])
def test_messages_go_in_calls_of_the_batch_size(
    db: Database, postmark_settings: Settings, size: int, calls: list[int]
) -> None:
    settings = replace(postmark_settings, postmark_batch_size=size)
    people = _readers(db, settings, 7)
    api = FakePostmark()

    report = _send(db, settings, api)

    assert [len(batch) for batch in api.batches] == calls
    assert [address for batch in api.batches for address in batch] == people
    assert report.sent == 7
    assert set(_states(db).values()) == {DeliveryState.SENT}


class RecordingLimiter:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def wait(self) -> None:
        self.events.append("wait")


def test_a_call_of_n_messages_first_takes_n_rate_limit_slots(
    db: Database, postmark_settings: Settings
) -> None:
    settings = replace(postmark_settings, postmark_batch_size=3)
    _readers(db, settings, 7)
    with db.session() as session:
        digest = session.scalars(select(Digest)).one()
        fan_out(session, digest)
        digest_id = digest.id
    events: list[str] = []
    api = FakePostmark()
    api.before_answer = lambda recipients: events.append(f"call of {len(recipients)}")
    transport = PostmarkTransport(settings, httpx.MockTransport(api))

    send_range(db, settings, digest_id, transport, limiter=RecordingLimiter(events))

    wait = ["wait"]
    assert events == wait * 3 + ["call of 3"] + wait * 3 + ["call of 3"] + wait + ["call of 1"]


def test_the_journal_holds_exactly_the_accepted_ids_once_each_call_returns(
    db: Database, postmark_settings: Settings
) -> None:
    settings = replace(postmark_settings, postmark_batch_size=2)
    people = _readers(db, settings, 6)
    api = FakePostmark(codes={people[1]: 406, people[4]: 405})
    journal = process_journal(settings)
    seen: list[list[int]] = []
    api.before_answer = lambda recipients: seen.append(journal.entries())

    _send(db, settings, api)

    ids = {address: delivery.id for address, delivery in _deliveries(db).items()}
    accepted = [ids[people[0]], ids[people[2]], ids[people[3]]]
    assert seen == [[], accepted[:1], accepted]
    assert journal.entries() == []  # recorded, so cleared


class Crash(BaseException):
    """Something escapes while a batch call is in flight (a real SIGKILL, which leaves
    the journal to be replayed, is in test_workers)."""


def test_a_crash_during_a_batch_call_resends_at_most_that_batch(
    db: Database, postmark_settings: Settings
) -> None:
    settings = replace(postmark_settings, postmark_batch_size=2)
    people = _readers(db, settings, 7)
    api = FakePostmark()

    def crash_in_the_third_call(recipients: list[str]) -> None:
        if len(api.batches) == 3:
            raise Crash

    api.before_answer = crash_in_the_third_call
    with pytest.raises(Crash):
        _send(db, settings, api)
    states = _states(db)
    assert {states[a] for a in people[:4]} == {DeliveryState.SENT}  # what went out
    assert {states[a] for a in people[4:]} == {DeliveryState.SENDING}
    assert process_journal(settings).entries() == []
    close_journals()
    with db.session() as session:  # the rest waits for its lease to run out
        session.execute(update(Delivery).values(lease_expires_at=utcnow() - timedelta(seconds=1)))

    api.before_answer = None
    _send(db, settings, api)

    assert set(_states(db).values()) == {DeliveryState.SENT}
    assert api.batches[3:] == [people[4:6], people[6:]]  # the journaled four are not resent
    in_flight = people[4:6]
    assert api.calls == Counter({a: 2 if a in in_flight else 1 for a in people})


def _message(recipient: str, size: int = 2000) -> Outgoing:
    message = EmailMessage()
    message["From"] = "AI Daily Digest <digest@news.example.org>"
    message["To"] = recipient
    message["Subject"] = "Today in Claude"
    message.set_content("news " * (size // 5))
    message.add_alternative(f"<html><body>{'news ' * (size // 5)}</body></html>", subtype="html")
    return Outgoing(message.as_bytes(), "digest@news.example.org", recipient, recipient)


def test_a_batch_over_the_size_cap_is_split_into_calls_under_it(
    postmark_settings: Settings,
) -> None:
    assert PostmarkTransport.max_request_bytes == 50_000_000
    people = [f"reader{n}@example.com" for n in range(5)]
    batch = [_message(address) for address in people]
    api = FakePostmark(codes={people[3]: 406})
    transport = PostmarkTransport(postmark_settings, httpx.MockTransport(api))
    with transport:
        transport.send_many(batch[:2])
        two = api.sizes[0]  # the bytes of a call of two messages (all are the same size)
        transport.max_request_bytes = two
        outcomes = transport.send_many(batch)
        transport.max_request_bytes = two - 1
        transport.send_many(batch[:2])
        transport.max_request_bytes = 10  # smaller than any message: each goes alone
        transport.send_many(batch[:2])

    assert api.batches[1:4] == [people[:2], people[2:4], people[4:]]
    assert api.sizes[1:3] == [two, two]
    assert api.batches[4:] == [people[:1], people[1:2]] * 2
    assert [outcome is None for outcome in outcomes] == [True, True, True, False, True]
    assert outcomes[3] is not None and outcomes[3].suppress


def test_once_the_api_is_unreachable_the_rest_of_a_split_batch_is_not_tried(
    postmark_settings: Settings,
) -> None:
    people = [f"reader{n}@example.com" for n in range(5)]
    api = FakePostmark()
    api.refusals = [None, httpx.ReadTimeout("timed out")]
    transport = PostmarkTransport(postmark_settings, httpx.MockTransport(api))
    with transport:
        transport.max_request_bytes = 1  # one message a call
        outcomes = transport.send_many([_message(address) for address in people])

    assert api.batches == [people[:1], people[1:2]]
    assert outcomes[0] is None
    assert all(o is not None and o.unreachable and not o.permanent for o in outcomes[1:])


def test_a_single_message_goes_to_the_email_endpoint_with_the_same_mapping(
    postmark_settings: Settings,
) -> None:
    api = FakePostmark(codes={"gone@example.com": 406}, flaky={"busy@example.com"})
    with PostmarkTransport(postmark_settings, httpx.MockTransport(api)) as transport:
        transport.send(*_message("ok@example.com"))
        with pytest.raises(TransportError) as gone:
            transport.send(*_message("gone@example.com"))
        with pytest.raises(TransportError) as busy:
            transport.send(*_message("busy@example.com"))

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with (
        PostmarkTransport(postmark_settings, httpx.MockTransport(down)) as transport,
        pytest.raises(TransportError) as unreachable,
    ):
        transport.send(*_message("ok@example.com"))

    assert [body["To"] for body in api.accepted] == ["ok@example.com"]
    assert api.batches == []
    assert gone.value.permanent and gone.value.suppress
    assert not busy.value.permanent and not busy.value.suppress
    assert unreachable.value.unreachable and not unreachable.value.permanent


def test_rows_that_never_reach_the_api_leave_the_rest_of_their_batch_to_go(
    db: Database, postmark_settings: Settings
) -> None:
    people = _readers(db, postmark_settings, 4)
    hostile = "eve@example.com\r\nBcc: victim@example.net"  # the last row
    leaver = people[1]
    with db.session() as session:
        topic_id = session.scalar(select(Digest.topic_id))
        session.add(Subscriber(email=hostile, language="en", status=SubscriberStatus.CONFIRMED))
        session.flush()
        hostile_id = session.scalar(select(Subscriber.id).where(Subscriber.email == hostile))
        session.execute(insert(Subscription), [{"subscriber_id": hostile_id, "topic_id": topic_id}])
        fan_out(session, session.scalars(select(Digest)).one())
    with db.session() as session:
        unsubscribe(session.scalars(select(Subscriber).where(Subscriber.email == leaver)).one())
    api = FakePostmark()

    report = _send(db, postmark_settings, api)

    assert api.batches == [[people[0], people[2], people[3]]]
    assert (report.sent, report.skipped, report.failed) == (3, 1, 1)
    rows = _deliveries(db)
    assert rows[leaver].state == DeliveryState.SUPPRESSED
    assert rows[leaver].last_error == "no longer eligible at send time"
    assert rows[hostile].state == DeliveryState.FAILED
    assert "cannot be written in a header" in (rows[hostile].last_error or "")


def test_messages_rendered_when_the_lease_runs_short_go_back_unsent(
    db: Database, postmark_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = replace(postmark_settings, postmark_batch_size=3)
    people = _readers(db, settings, 5)
    ticks = iter([0.0] * 5)  # the deadline is set, rows 0-3 are rendered; then time is up
    clock = SimpleNamespace(monotonic=lambda: next(ticks, 1e9))
    monkeypatch.setattr("newsletter.delivery.send.time", clock)
    api = FakePostmark()

    _send(db, settings, api)

    assert api.batches == [people[:3]]
    rows = _deliveries(db)
    assert {rows[a].state for a in people[:3]} == {DeliveryState.SENT}
    assert {rows[a].state for a in people[3:]} == {DeliveryState.PENDING}
    assert {rows[a].last_error for a in people[3:]} == {"lease ran out"}


def test_non_ascii_subjects_and_bodies_come_through_the_json(
    db: Database, postmark_settings: Settings
) -> None:
    _readers(db, postmark_settings, 2, language="zh-TW")
    api = FakePostmark()
    _send(db, postmark_settings, api)
    with db.session() as session:
        content = session.scalars(select(Digest)).one().content
        assert content is not None
    subject, title = content["subject"], content["title"]
    assert any(ord(character) > 127 for character in subject)
    assert len(api.accepted) == 2
    for body in api.accepted:
        assert body["Subject"] == subject
        assert title in body["TextBody"]
        assert "\ufffd" not in body["TextBody"] + body["HtmlBody"]


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
    with app.app_context(), current().db.session() as session:
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


def _as_the_email_package_reads_it(message: bytes, stream: str) -> dict[str, Any]:
    """The fields read with the email package's full parser: what postmark_fields must equal."""
    parsed = BytesParser(policy=policy.default).parsebytes(message)
    bodies = {
        subtype: part.get_content()  # type: ignore[attr-defined]
        for subtype in ("plain", "html")
        if (part := parsed.get_body((subtype,))) is not None
    }
    return {
        "From": str(parsed["From"]),
        "To": str(parsed["To"]),
        "Subject": str(parsed["Subject"]),
        "TextBody": bodies.get("plain"),
        "HtmlBody": bodies.get("html"),
        "Headers": [
            {"Name": name, "Value": " ".join(str(parsed[name]).split())}
            for name in FORWARDED_HEADERS
            if parsed[name] is not None
        ],
        "MessageStream": stream,
        "TrackOpens": False,
    }


def test_fields_are_read_from_our_messages_as_the_email_package_reads_them(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_topic(db, "claude", ["en", "zh-TW"])
    digests = build_digests(db, settings, "claude")
    links = PublicLinks(settings).recipient(7, "link-key")
    messages = [
        _mailing(db, settings, digest_id).template.render(
            "reader@example.com", f"<digest-{digest_id}-7@news.example.org>", links
        )
        for digest_id in digests.values()
    ]
    notice = RenderedEmail(subject="確認訂閱 Confirm", html="<p>é ü 中文</p>", text="é\nü 中文")
    messages.append(build_notice(settings, notice, "reader@example.com"))
    nested = EmailMessage()
    nested["From"], nested["To"], nested["Subject"] = "a@example.org", "b@example.com", "Hi"
    nested.set_content("plain text")
    nested.add_alternative("<p>html</p>", subtype="html")
    nested.add_attachment(b"data", maintype="application", subtype="octet-stream")
    expected = [_as_the_email_package_reads_it(message, "broadcast") for message in messages]
    # ours are read without the email package's slow full parser
    monkeypatch.setattr(postmark, "_parser", SimpleNamespace(parsebytes=None))
    assert [postmark_fields(message, "broadcast") for message in messages] == expected

    monkeypatch.undo()  # another shape is read by the email package itself
    assert postmark_fields(nested.as_bytes(), "s") == _as_the_email_package_reads_it(
        nested.as_bytes(), "s"
    )
