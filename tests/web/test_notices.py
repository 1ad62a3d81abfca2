"""With workers, the site only checks and queues signups and emails: a worker records and
sends them, rq retries a relay that is down, and a confirmation that could not go out
can be asked for again at once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker

from newsletter.app import create_app
from newsletter.config import Settings
from newsletter.daily import jobs
from newsletter.db import Database
from newsletter.delivery.transports import TransportError
from newsletter.models import Subscriber, SubscriberStatus, Topic
from newsletter.services import Services
from tests.delivery.conftest import SmtpSink
from tests.loopback import free_port
from tests.web.site_helpers import REDIS_URL, csrf_token, link_in, outbox


def site(settings: Settings, db: Database) -> Flask:
    app = create_app(services=Services(settings, db))
    app.config["TESTING"] = True
    return app


def sign_up(app: Flask, address: str, topic: str = "claude") -> int:
    client = app.test_client()
    data = {"csrf_token": csrf_token(client), "email": address, "topics": [topic]}
    return client.post("/", data=data | {"language": "en"}).status_code


def work(app: Flask, redis: Redis) -> None:
    with app.app_context():
        SimpleWorker([app.extensions["newsletter"].settings.queue_name], connection=redis).work(
            burst=True, with_scheduler=False
        )


def test_signup_is_queued_untouched_by_the_request_and_a_worker_records_and_sends_it(
    settings: Settings, db: Database, topics: list[str], redis_db: Redis
) -> None:
    app = site(replace(settings, redis_url=REDIS_URL), db)
    assert sign_up(app, "Reader@Example.com") == 303
    queue = Queue(settings.queue_name, connection=redis_db)
    (job,) = queue.jobs
    assert (job.func, job.args) == (jobs.sign_up, ("reader@example.com", "en", ["claude"]))
    assert job.result_ttl == 0  # an address in Redis: gone once the job is done
    with db.session() as session:
        assert session.query(Subscriber).count() == 0  # the request wrote nothing
    assert outbox(settings) == []

    work(app, redis_db)
    (message,) = outbox(settings)
    assert message["To"] == "reader@example.com"
    assert queue.finished_job_registry.count == 0  # not kept
    client = app.test_client()
    confirm = link_in(message, "confirm")
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    with db.session() as session:
        reader = session.query(Subscriber).filter_by(email="reader@example.com").one()
        assert reader.status == SubscriberStatus.CONFIRMED
    assert len(outbox(settings)) == 1 and queue.count == 1  # the welcome email, queued
    work(app, redis_db)
    assert len(outbox(settings)) == 2


def test_bad_input_is_answered_by_the_request_and_nothing_is_queued(
    settings: Settings, db: Database, topics: list[str], redis_db: Redis
) -> None:
    app = site(replace(settings, redis_url=REDIS_URL), db)
    assert sign_up(app, "not an address") == 400
    assert sign_up(app, "a@example.com", topic="nope") == 400
    assert Queue(settings.queue_name, connection=redis_db).count == 0


def test_a_topic_removed_before_the_worker_runs_drops_the_signup(
    settings: Settings, db: Database, topics: list[str], redis_db: Redis
) -> None:
    app = site(replace(settings, redis_url=REDIS_URL), db)
    assert sign_up(app, "reader@example.com") == 303
    with db.session() as session:
        session.query(Topic).delete()
    work(app, redis_db)
    with db.session() as session:
        assert session.query(Subscriber).count() == 0
    assert outbox(settings) == []


def test_a_relay_that_is_down_fails_the_job_for_rq_to_retry_and_lifts_the_throttle(
    settings: Settings, db: Database, topics: list[str], redis_db: Redis
) -> None:
    relay = {"transport": "smtp", "smtp_host": "127.0.0.1", "smtp_port": free_port()}
    down = replace(settings, redis_url=REDIS_URL, **relay)  # type: ignore[arg-type]
    app = site(down, db)
    with app.app_context(), pytest.raises(TransportError):
        jobs.sign_up("reader@example.com", "en", ["claude"])  # what the worker runs
    with db.session() as session:
        reader = session.query(Subscriber).filter_by(email="reader@example.com").one()
        assert reader.confirmation_sent_at is None  # the next try is not throttled
    assert sign_up(app, "reader@example.com") == 303
    assert Queue(settings.queue_name, connection=redis_db).count == 1


def test_an_address_the_relay_refuses_is_not_retried(
    settings: Settings, db: Database, topics: list[str], redis_db: Redis
) -> None:
    port = free_port()
    refuse_all = SmtpSink(on_rcpt=lambda _: "550 5.1.1 No such user")
    relay = Controller(refuse_all, hostname="127.0.0.1", port=port)
    relay.start()
    try:
        refused = replace(
            settings, redis_url=REDIS_URL, transport="smtp", smtp_host="127.0.0.1", smtp_port=port
        )
        app = site(refused, db)
        assert sign_up(app, "gone@example.com") == 303
        work(app, redis_db)
        queue = Queue(settings.queue_name, connection=redis_db)
        assert queue.count == 0 and queue.failed_job_registry.count == 0
        assert refuse_all.refused == {"gone@example.com": 1}  # tried once, not retried
    finally:
        relay.stop()


def test_a_notice_for_a_deleted_subscriber_is_dropped(
    settings: Settings, db: Database, app: Flask
) -> None:
    with app.app_context():
        assert jobs.send_notice("goodbye", 12345) is False
    assert outbox(settings) == []


def test_fresh_link_requests_are_queued_unread_for_known_and_unknown_addresses(
    settings: Settings, db: Database, topics: list[str], redis_db: Redis
) -> None:
    """The request reads no subscriber: known and unknown addresses cost the same."""
    app = site(replace(settings, redis_url=REDIS_URL), db)
    assert sign_up(app, "reader@example.com") == 303
    work(app, redis_db)
    assert len(outbox(settings)) == 1  # the confirmation
    with db.session() as session:  # later: past the resend interval
        session.query(Subscriber).update({"confirmation_sent_at": None})
    client = app.test_client()
    for address in ("Reader@Example.com", "stranger@example.com"):
        data = {"csrf_token": csrf_token(client, "/links"), "email": address}
        assert client.post("/links", data=data).headers["Location"] == "/links/sent"
    queue = Queue(settings.queue_name, connection=redis_db)
    assert [(job.func, job.args, job.result_ttl) for job in queue.jobs] == [
        (jobs.fresh_links, ("reader@example.com",), 0),
        (jobs.fresh_links, ("stranger@example.com",), 0),
    ]
    work(app, redis_db)
    messages = outbox(settings)
    assert [m["To"] for m in messages] == ["reader@example.com", "reader@example.com"]
    assert messages[-1]["Subject"] == "Your links for AI Daily Digest"
