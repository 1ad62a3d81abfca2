"""The console's front page and a digest's failures: figures from the real tables."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import func, select, update

from newsletter.app import create_app
from newsletter.config import Settings
from newsletter.daily import jobs
from newsletter.db import Database
from newsletter.delivery.suppression import suppress
from newsletter.models import (
    Delivery,
    DeliveryState,
    Digest,
    Source,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from newsletter.services import Services
from tests.support import DEV_HASH_KEY
from tests.web.admin.console_helpers import post, sign_in
from tests.web.site_helpers import REDIS_URL, add_reader, outbox


def _cells(page: str, label: str) -> list[str]:
    """The cells of the first table row whose first cell is ``label``."""
    row = re.search(rf"<tr[^>]*><td>{re.escape(label)}</td>(.*?)</tr>", page, re.S)
    assert row, label
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)
    ]


def test_the_dashboard_counts_readers_growth_digests_and_complaints(
    console: FlaskClient, db: Database, sent_day: date
) -> None:
    now = utcnow()
    add_reader(db, "pending@example.com", confirmed=False)
    left = add_reader(db, "left@example.com")
    paused = add_reader(db, "paused@example.com", language="zh-TW")
    with db.session() as session:
        session.execute(
            update(Subscriber)
            .where(Subscriber.id == left)
            .values(status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=now - timedelta(days=1))
        )
        session.execute(update(Subscriber).where(Subscriber.id == paused).values(paused=True))
        session.execute(
            update(Subscriber)
            .where(Subscriber.email == "reader@example.com")
            .values(
                confirmed_at=now - timedelta(days=40)  # before the window: not in the chart
            )
        )
        suppress(
            session,
            [
                ("bounce@example.com", "bounced: 550 5.1.1 no such user"),
                ("angry@example.com", "spam complaint"),
            ],
            hash_key=DEV_HASH_KEY,
        )
        source = Source(
            topic_id=session.scalar(select(Digest.topic_id)),
            kind="rss",
            name="Broken feed",
            url="https://x.example/f",
        )
        source.last_status, source.last_error = "failed", "HTTP 503 from x.example"
        source.last_fetched_at = now
        session.add(source)

    page = console.get("/admin/").get_data(as_text=True)
    # claude: reader, lector and paused confirmed (paused paused), one pending, one left
    assert _cells(page, "Claude") == ["3", "1", "1", "1"]
    assert _cells(page, "en") == ["1", "0", "1", "1"]
    assert _cells(page, "zh-TW") == ["2", "1", "0", "0"]
    # growth: lector, left and paused confirmed today (reader 40 days ago); left left
    assert "New readers (3, ——)" in page and "Unsubscribes (1, - - -)" in page
    assert page.count("<polyline") == 2
    # the two digests of the day, each sent to its one reader
    assert re.search(
        r"<td class=\"number\">1</td><td class=\"number\">0</td>"
        r"<td class=\"number\">0</td><td class=\"number\">0</td>",
        page,
    )
    # 2 sent, 1 bounce and 1 complaint: both far over the providers' limits
    assert _cells(page, "Sent")[0] == "2"
    assert _cells(page, "Complaints") == ["1", "50.00%", "over the limit"]
    assert _cells(page, "Bounces") == ["1", "50.00%", "over the limit"]
    assert "No Redis configured" in page
    assert "HTTP 503 from x.example" in page and "Broken feed" in page


def test_a_finished_digests_counts_are_kept_and_cleared_by_a_retry(
    console: FlaskClient, db: Database, settings: Settings, sent_day: date
) -> None:
    extra = [add_reader(db, f"r{n}@example.com") for n in range(2)]
    with db.session() as session:
        digest = session.scalars(select(Digest).where(Digest.language == "en")).one()
        for subscriber_id, error, permanent in zip(
            extra,
            ["451 4.2.1 mailbox busy, try later", "550 5.1.1 no such user"],
            [False, True],  # as the send loop marks them
            strict=True,
        ):
            session.add(
                Delivery(
                    digest_id=digest.id,
                    subscriber_id=subscriber_id,
                    state=DeliveryState.FAILED,
                    attempts=5,
                    last_error=error,
                    permanent=permanent,
                )
            )
    page = f"/admin/digests/{digest.id}"
    html = console.get(page).get_data(as_text=True)
    assert _cells(html, "r0@example.com") == ["451 4.2.1 mailbox busy, try later", "5", "temporary"]
    assert _cells(html, "r1@example.com") == ["550 5.1.1 no such user", "5", "permanent"]
    with db.session() as session:
        assert session.get_one(Digest, digest.id).delivery_tally == {
            "pending": 0,
            "sending": 0,
            "sent": 1,
            "failed": 2,
            "suppressed": 0,
        }

    before = len(outbox(settings))
    response = post(console, f"{page}/retry", page, follow_redirects=True)
    assert "1 delivery(ies) queued again" in response.get_data(as_text=True)
    assert [m["To"] for m in outbox(settings)[before:]] == ["r0@example.com"]
    with db.session() as session:
        states = dict(
            session.execute(
                select(Subscriber.email, Delivery.state)
                .join(Delivery)
                .where(Delivery.digest_id == digest.id)
            ).all()
        )
    assert states["r0@example.com"] == DeliveryState.SENT
    assert states["r1@example.com"] == DeliveryState.FAILED
    assert (
        "r0@example.com"
        not in console.get(page).get_data(as_text=True).split("Failed recipients")[-1]
    )


def test_the_queue_panel_reads_rq(
    settings: Settings, db: Database, topics: list[str], operator: str, redis_db: Redis
) -> None:
    queued = replace(settings, redis_url=REDIS_URL)
    queue = Queue(queued.queue_name, connection=redis_db)
    queue.enqueue("operator.truediv", 1, 0)
    SimpleWorker([queue], connection=redis_db).work(burst=True)  # it fails
    queue.enqueue("operator.truediv", 1, 2)
    queue.enqueue("operator.truediv", 3, 4)
    app = create_app(services=Services(queued, db))
    client = app.test_client()
    sign_in(client)
    page = client.get("/admin/").get_data(as_text=True)
    assert _cells(page, "Waiting jobs") == ["2"]
    assert _cells(page, "Workers") == ["0"]
    assert _cells(page, "Failed jobs") == ["1"]
    assert "ZeroDivisionError" in page

    down = create_app(services=Services(replace(settings, redis_url="redis://127.0.0.1:1/0"), db))
    client = down.test_client()
    sign_in(client)
    assert "Redis is unreachable" in client.get("/admin/").get_data(as_text=True)


def test_reader_figures_are_counted_at_most_once_a_minute_unless_asked(
    console: FlaskClient, db: Database
) -> None:
    add_reader(db, "one@example.com")
    assert _cells(console.get("/admin/").get_data(as_text=True), "Claude")[0] == "1"
    add_reader(db, "two@example.com")
    page = console.get("/admin/").get_data(as_text=True)
    assert _cells(page, "Claude")[0] == "1" and "Readers counted at" in page
    assert _cells(console.get("/admin/?recount=1").get_data(as_text=True), "Claude")[0] == "2"


def test_a_later_fan_out_clears_the_kept_counts(
    app: Flask, console: FlaskClient, db: Database, sent_day: date
) -> None:
    with db.session() as session:
        digest = session.scalars(select(Digest).where(Digest.language == "en")).one()
    console.get("/admin/")
    with db.session() as session:
        assert session.get_one(Digest, digest.id).delivery_tally["sent"] == 1
    add_reader(db, "late@example.com")
    with app.app_context():
        jobs.deliver([digest.id])  # `newsletter send` again: the new reader gets it
    with db.session() as session:
        assert session.get_one(Digest, digest.id).delivery_tally is None
    console.get("/admin/")
    with db.session() as session:
        assert session.get_one(Digest, digest.id).delivery_tally["sent"] == 2


def test_the_sweeper_counts_finished_digests_for_the_console(
    app: Flask, db: Database, sent_day: date
) -> None:
    with db.session() as session:
        session.execute(update(Digest).values(delivery_tally=None))
        assert session.scalar(select(func.count()).where(Digest.delivery_tally.is_(None))) == 2
    with app.app_context():
        jobs.sweep()
    with db.session() as session:
        tallies = [d.delivery_tally for d in session.scalars(select(Digest))]
    assert tallies == [{"pending": 0, "sending": 0, "sent": 1, "failed": 0, "suppressed": 0}] * 2
