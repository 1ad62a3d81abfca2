"""With workers, the site only queues its emails: a worker sends them, and rq retries a
relay that is down; a confirmation that could not go out can be asked for again at once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker
from site_helpers import csrf_token, link_in, outbox

from newsletter import create_app, jobs
from newsletter.app import Services
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery.transport import TransportError
from newsletter.models import Subscriber, SubscriberStatus
from tests.delivery.conftest import SmtpSink
from tests.loopback import free_port

REDIS_URL = os.environ.get("NEWSLETTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")


@pytest.fixture
def redis_db() -> Iterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


def site(settings: Settings, db: Database) -> Flask:
    app = create_app(settings)
    app.extensions["newsletter"] = Services(settings, db)
    app.config["TESTING"] = True
    return app


def sign_up(app: Flask, address: str) -> int:
    client = app.test_client()
    data = {"csrf_token": csrf_token(client), "email": address, "topics": ["claude"]}
    return client.post("/", data=data | {"language": "en"}).status_code


def work(app: Flask, redis: Redis) -> None:
    with app.app_context():
        SimpleWorker([app.extensions["newsletter"].settings.queue_name], connection=redis).work(
            burst=True, with_scheduler=False
        )


def test_signup_queues_the_confirmation_and_a_worker_sends_it(
    settings: Settings, db: Database, topics: list[str], redis_db: Redis
) -> None:
    app = site(replace(settings, redis_url=REDIS_URL), db)
    assert sign_up(app, "reader@example.com") == 303
    queue = Queue(settings.queue_name, connection=redis_db)
    assert (queue.count, outbox(settings)) == (1, [])  # the request did not send it
    assert queue.jobs[0].func is jobs.send_notice

    work(app, redis_db)
    (message,) = outbox(settings)
    assert message["To"] == "reader@example.com"
    client = app.test_client()
    confirm = link_in(message, "confirm")
    page = client.get(confirm).get_data(as_text=True)
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    with db.session() as session:
        reader = session.query(Subscriber).filter_by(email="reader@example.com").one()
        assert reader.status == SubscriberStatus.CONFIRMED, page
    assert len(outbox(settings)) == 1 and queue.count == 1  # the welcome email, queued
    work(app, redis_db)
    assert len(outbox(settings)) == 2


def test_a_relay_that_is_down_fails_the_job_for_rq_to_retry_and_lifts_the_throttle(
    settings: Settings, db: Database, topics: list[str], redis_db: Redis
) -> None:
    relay = {"transport": "smtp", "smtp_host": "127.0.0.1", "smtp_port": free_port()}
    down = replace(settings, redis_url=REDIS_URL, **relay)  # type: ignore[arg-type]
    app = site(down, db)
    assert sign_up(app, "reader@example.com") == 303
    with db.session() as session:
        reader = session.query(Subscriber).filter_by(email="reader@example.com").one()
        assert reader.confirmation_sent_at is not None
        reader_id = reader.id
    with app.app_context(), pytest.raises(TransportError):
        jobs.send_notice("confirm", reader_id)
    with db.session() as session:
        assert session.get_one(Subscriber, reader_id).confirmation_sent_at is None
    assert sign_up(app, "reader@example.com") == 303  # not throttled: a new job is queued
    assert Queue(settings.queue_name, connection=redis_db).count == 2


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
        assert queue.finished_job_registry.count == 1
    finally:
        relay.stop()


def test_a_notice_for_a_deleted_subscriber_is_dropped(
    settings: Settings, db: Database, app: Flask
) -> None:
    with app.app_context():
        assert jobs.send_notice("goodbye", 12345) is False
    assert outbox(settings) == []
