"""The pipeline on real rq workers (separate processes) and real Redis (the run's own
database): end to end, SIGKILL at random moments, and Redis flushed mid-send.
The SMTP sink counts copies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import func, select, update

from newsletter.app import create_app
from newsletter.config import Settings
from newsletter.daily import jobs
from newsletter.daily.dispatch import RqDispatcher
from newsletter.db import Database
from newsletter.delivery.template import message_id
from newsletter.demo import SAMPLE_DATE
from newsletter.models import Delivery, Subscriber, utcnow
from newsletter.services import Services
from tests.delivery.conftest import (
    REDIS_URL,
    SmtpServer,
    add_readers,
    build_digests,
    make_topic,
)
from tests.loopback import flush_redis

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")


@pytest.fixture
def rq_settings(smtp_settings: Settings, redis: Redis, tmp_path: Path) -> Settings:
    return replace(
        smtp_settings,
        redis_url=REDIS_URL,
        queue_name="delivery-test",  # in the run's own Redis database
        lease_seconds=2,
        send_batch_size=50,
        sweep_interval=1,
        journal_dir=tmp_path / "journal",
    )


def environment(settings: Settings) -> dict[str, str]:
    values = {
        "INSTANCE_DIR": settings.instance_dir,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "QUEUE_NAME": settings.queue_name,
        "TRANSPORT": settings.transport,
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": settings.smtp_port,
        "BASE_URL": settings.base_url,
        "FROM_ADDRESS": settings.from_address,
        "LEASE_SECONDS": settings.lease_seconds,
        "SEND_BATCH_SIZE": settings.send_batch_size,
        "SWEEP_INTERVAL": settings.sweep_interval,
        "JOURNAL_DIR": settings.journal_dir,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env.update({f"NEWSLETTER_{name}": str(value) for name, value in values.items()})
    return env


class Fleet:
    """``newsletter worker`` and ``newsletter cron`` processes, logging to files."""

    def __init__(self, settings: Settings, logs: Path) -> None:
        self.env = environment(settings)
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, command: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{command}-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [NEWSLETTER, command], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()

    def log_size(self) -> int:
        return sum(path.stat().st_size for path in self.logs.glob("*.log"))

    def log_tail(self) -> str:
        return "\n".join(path.read_text()[-2000:] for path in sorted(self.logs.glob("*.log")))


@pytest.fixture
def fleet(rq_settings: Settings, tmp_path: Path) -> Iterator[Fleet]:
    fleet = Fleet(rq_settings, tmp_path)
    yield fleet
    fleet.stop()


def count_states(db: Database) -> Counter[str]:
    with db.session() as session:
        rows = session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
        return Counter({state.value: n for state, n in rows})


def wait_for(
    condition: Callable[[], bool],
    seconds: float,
    fleet: Fleet,
    progress: Callable[[], object] | None = None,
) -> None:
    """Until ``condition``; fail after ``seconds`` in which ``progress`` (when given) did
    not change: work still advancing is not a hang, however loaded the machine is."""
    deadline = time.monotonic() + seconds
    last = progress() if progress else None
    while not condition():
        if progress is not None and (now := progress()) != last:
            last, deadline = now, time.monotonic() + seconds
        if time.monotonic() > deadline:
            pytest.fail(f"no progress in {seconds} s ({last}); worker logs:\n{fleet.log_tail()}")
        time.sleep(0.1)


def test_end_to_end_two_topics_two_languages_on_workers(
    db: Database, rq_settings: Settings, smtp_server: SmtpServer, fleet: Fleet, redis: Redis
) -> None:
    topics = {slug: make_topic(db, slug, ["en", "zh-TW"]) for slug in ("claude", "assistants")}
    ids = list(topics.values())
    choices = [[ids[0]], [ids[1]], ids]  # first topic, second topic, both
    readers = add_readers(db, 1000, lambda n: choices[n % 3], lambda n: ("en", "zh-TW")[n % 2])
    fleet.start("worker")
    fleet.start("worker")
    fleet.start("cron")  # its sweeper takes back rows whose 2 s lease ran out under load

    dispatcher = RqDispatcher(redis, rq_settings.queue_name)
    for slug in topics:
        dispatcher.enqueue(jobs.run_topic, slug, SAMPLE_DATE.isoformat())

    expected = sum(len(topic_ids) for _, topic_ids in readers.values())
    # fetching and building show in the workers' logs before any delivery row exists
    working = lambda: (count_states(db), fleet.log_size())  # noqa: E731
    wait_for(lambda: count_states(db)["sent"] == expected, 60, fleet, working)
    assert count_states(db) == Counter({"sent": expected})
    slug_of = {topic_id: slug for slug, topic_id in topics.items()}
    got: dict[str, Counter[tuple[str, str]]] = {}
    for message in smtp_server.sink.messages():
        _, slug, language, _ = message["Feedback-ID"].split(":")
        got.setdefault(message["To"], Counter())[(slug, language)] += 1
    assert got == {
        address: Counter({(slug_of[t], language): 1 for t in topic_ids})
        for address, (language, topic_ids) in readers.items()
    }


def fan_out_one_digest(db: Database, settings: Settings, readers: int) -> int:
    topic_id = make_topic(db, "claude", ["en"])
    digest_id = build_digests(db, settings, "claude")["en"]
    add_readers(db, readers, lambda n: [topic_id], lambda n: "en")
    return digest_id


def copies_by_reader(server: SmtpServer) -> tuple[Counter[str], dict[str, set[str]]]:
    counts = server.sink.counts()
    ids: dict[str, set[str]] = {}
    for message in server.sink.messages():
        ids.setdefault(message["To"], set()).add(message["Message-ID"])
    return counts, ids


@pytest.mark.crash
def test_sigkilled_workers_lose_nothing_and_resend_at_most_the_message_in_flight(
    db: Database, rq_settings: Settings, smtp_server: SmtpServer, fleet: Fleet, redis: Redis
) -> None:
    readers = 5000
    digest_id = fan_out_one_digest(db, rq_settings, readers)
    with db.session() as session:
        from newsletter.delivery.rows import request_fan_out

        request_fan_out(session, [digest_id])
    RqDispatcher(redis, rq_settings.queue_name).enqueue(jobs.fan_out, digest_id)
    fleet.start("cron")  # the sweeper, every second
    worker = fleet.start("worker")
    randomness = random.Random(7)

    def sending_since(before: int) -> Callable[[], bool]:
        """The worker sends (so a kill hits a send, not a worker still starting)."""
        received = smtp_server.sink.counts
        return lambda: sum(received().values()) > before + 20 or not count_states(db)["pending"]

    kills = 0
    for _ in range(4):
        wait_for(sending_since(sum(smtp_server.sink.counts().values())), 30, fleet)
        time.sleep(randomness.uniform(0.0, 0.3))
        if count_states(db)["sent"] == readers:
            break
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
        worker = fleet.start("worker")

    wait_for(lambda: count_states(db)["sent"] == readers, 50, fleet, lambda: count_states(db))
    counts, message_ids = copies_by_reader(smtp_server)
    assert len(counts) == readers  # nobody lost
    duplicates = sum(n - 1 for n in counts.values())
    # Only a message whose 250 was on the wire when the worker died can go twice:
    # every acceptance is journaled before the next message starts.
    assert duplicates <= kills, counts.most_common(5)
    assert all(len(ids) == 1 for ids in message_ids.values())  # a resend keeps its Message-ID
    assert count_states(db) == Counter({"sent": readers})
    assert kills >= 2


def test_redis_flushed_mid_send_the_sweeper_finishes_without_duplicates(
    db: Database, rq_settings: Settings, smtp_server: SmtpServer, fleet: Fleet, redis: Redis
) -> None:
    readers = 1500
    digest_id = fan_out_one_digest(db, rq_settings, readers)
    with db.session() as session:
        from newsletter.delivery.rows import request_fan_out

        request_fan_out(session, [digest_id])
    RqDispatcher(redis, rq_settings.queue_name).enqueue(jobs.fan_out, digest_id)
    fleet.start("worker")
    wait_for(lambda: count_states(db)["sent"] >= 200, 30, fleet, lambda: count_states(db))
    flush_redis(redis)  # every queued send job is gone
    assert count_states(db)["sent"] < readers
    fleet.start("cron")

    wait_for(lambda: count_states(db)["sent"] == readers, 40, fleet, lambda: count_states(db))
    counts, _ = copies_by_reader(smtp_server)
    assert len(counts) == readers
    assert set(counts.values()) == {1}


DIE_AFTER_ACK = """
import os, signal, sys
from pathlib import Path
from newsletter.delivery.journal import AckJournal
AckJournal(Path(sys.argv[1])).accepted(int(sys.argv[2]))
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_starting_worker_first_records_what_a_killed_one_sent(
    db: Database, rq_settings: Settings, smtp_server: SmtpServer, redis: Redis
) -> None:
    from newsletter.delivery.rows import claim, fan_out
    from newsletter.models import Digest

    # A lease long enough that the starting worker cannot see it expire, however slowly
    # it starts: this test is about the journal, not the sweeper.
    rq_settings = replace(rq_settings, lease_seconds=300)
    digest_id = fan_out_one_digest(db, rq_settings, 3)
    with db.session() as session:
        fan_out(session, session.get_one(Digest, digest_id))
    ids, _ = claim(db, rq_settings, digest_id)
    assert rq_settings.journal_dir is not None
    killed = subprocess.run(
        [sys.executable, "-c", DIE_AFTER_ACK, str(rq_settings.journal_dir), str(ids[0])],
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL

    started = subprocess.run(
        [NEWSLETTER, "worker", "--burst"],
        env=environment(rq_settings),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 0, started.stdout.decode()[-2000:]
    assert count_states(db) == Counter({"sent": 1, "sending": 2})
    with db.session() as session:
        recorded = session.get_one(Delivery, ids[0])
        link_key = session.get_one(Subscriber, recorded.subscriber_id).link_key
    assert recorded.message_id == message_id(
        rq_settings.message_id_key, digest_id, recorded.subscriber_id, link_key, "news.example.org"
    )
    assert smtp_server.sink.counts() == Counter()  # recorded, not sent again
    assert list(rq_settings.journal_dir.glob("*.acks")) == []


def test_the_sweeper_queues_one_job_per_block_however_often_it_runs(
    db: Database, rq_settings: Settings, redis: Redis
) -> None:
    """A long send outlives a lease; repeated sweeps must not pile up duplicate jobs."""
    digest_id = fan_out_one_digest(db, rq_settings, 120)
    app = create_app(services=Services(rq_settings, db))
    queue = Queue(rq_settings.queue_name, connection=redis)
    with app.app_context():
        jobs.fan_out(digest_id)  # the send jobs now wait in the queue, no worker runs
        waiting = queue.count
        with db.session() as session:  # as if a lease had passed since
            session.execute(update(Delivery).values(created_at=utcnow() - timedelta(seconds=10)))
        for _ in range(3):
            jobs.sweep()
        with db.session() as session:
            blocks = {i // 50 for i in session.scalars(select(Delivery.id))}
    assert waiting == len(blocks)  # one send job per block of 50 ids
    assert queue.count == waiting
