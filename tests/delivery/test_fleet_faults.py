"""The fleet's processes against their own infrastructure failing: a Redis server of the
test's own killed and restarted under `newsletter worker` and `newsletter cron`, two crons
at once, and a SIGTERM that reaches a worker while it is still starting."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from newsletter.config import Settings
from newsletter.daily import jobs
from newsletter.daily.dispatch import RqDispatcher
from newsletter.db import Database
from newsletter.delivery.rows import claim, fan_out, request_fan_out
from newsletter.models import Delivery, Digest
from tests.delivery.conftest import SmtpServer
from tests.delivery.test_workers import (
    DIE_AFTER_ACK,
    NEWSLETTER,
    Fleet,
    copies_by_reader,
    count_states,
    environment,
    fan_out_one_digest,
    wait_for,
)
from tests.loopback import free_port


class RedisServer:
    """A redis-server of this test's own on a free loopback port, without persistence."""

    def __init__(self, logs: Path) -> None:
        self.port = free_port()
        self.logs = logs
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with open(self.logs / f"redis-{self.port}.log", "ab") as log:
            self.process = subprocess.Popen(
                [
                    *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def outage_settings(smtp_settings: Settings, own_redis: RedisServer, tmp_path: Path) -> Settings:
    return replace(
        smtp_settings,
        redis_url=own_redis.url,
        queue_name="outage-test",
        lease_seconds=2,
        send_batch_size=50,
        sweep_interval=1,
        journal_dir=tmp_path / "journal",
    )


@pytest.fixture
def outage_fleet(outage_settings: Settings, tmp_path: Path) -> Iterator[Fleet]:
    fleet = Fleet(outage_settings, tmp_path)
    yield fleet
    fleet.stop()


def sweeps_done(fleet: Fleet) -> int:
    """Sweep jobs the workers finished so far (the cron queues one every second under a
    fixed job id, so the finished-job registry holds one at most)."""
    return sum(
        path.read_text(errors="replace").count("Successfully completed newsletter.daily.jobs.sweep")
        for path in fleet.logs.glob("worker-*.log")
    )


def test_worker_and_cron_ride_out_a_redis_outage_then_send(
    db: Database,
    outage_settings: Settings,
    own_redis: RedisServer,
    outage_fleet: Fleet,
    smtp_server: SmtpServer,
) -> None:
    readers = 200
    digest_id = fan_out_one_digest(db, outage_settings, readers)
    worker = outage_fleet.start("worker")
    cron = outage_fleet.start("cron")
    # both are at work: the cron enqueues a sweep every second, the worker runs them
    wait_for(lambda: sweeps_done(outage_fleet) >= 2, 60, outage_fleet)

    for _ in range(2):  # two outages of a few seconds
        own_redis.kill()
        time.sleep(3)
        assert worker.poll() is None and cron.poll() is None, outage_fleet.log_tail()
        before = sweeps_done(outage_fleet)
        own_redis.start()  # the new server starts empty
        wait_for(lambda: sweeps_done(outage_fleet) >= before + 2, 60, outage_fleet)  # noqa: B023
    redis = Redis.from_url(own_redis.url)
    assert worker.poll() is None and cron.poll() is None

    with db.session() as session:
        request_fan_out(session, [digest_id])
    RqDispatcher(redis, outage_settings.queue_name).enqueue(jobs.fan_out, digest_id)
    wait_for(lambda: count_states(db)["sent"] == readers, 60, outage_fleet)
    counts, _ = copies_by_reader(smtp_server)
    assert len(counts) == readers and set(counts.values()) == {1}
    logs = "".join(path.read_text(errors="replace") for path in outage_fleet.logs.glob("*.log"))
    assert "Redis is unreachable" in logs  # the cron said so, and went on


def test_two_crons_at_once_send_nothing_twice(
    db: Database,
    outage_settings: Settings,
    own_redis: RedisServer,
    outage_fleet: Fleet,
    smtp_server: SmtpServer,
) -> None:
    """Two crons (a second started by mistake, or during a deploy) both sweep every
    second: the same send jobs are queued from both, and no reader gets a copy twice."""
    readers = 600
    digest_id = fan_out_one_digest(db, outage_settings, readers)
    redis = Redis.from_url(own_redis.url)
    with db.session() as session:
        request_fan_out(session, [digest_id])
    RqDispatcher(redis, outage_settings.queue_name).enqueue(jobs.fan_out, digest_id)
    outage_fleet.start("cron")
    outage_fleet.start("cron")
    outage_fleet.start("worker")
    outage_fleet.start("worker")
    wait_for(lambda: count_states(db)["sent"] >= 100, 60, outage_fleet)
    redis.flushdb()  # the queued send jobs are lost: both crons' sweeps queue them again

    wait_for(lambda: count_states(db)["sent"] == readers, 60, outage_fleet)
    counts, _ = copies_by_reader(smtp_server)
    assert len(counts) == readers
    assert set(counts.values()) == {1}
    assert count_states(db) == Counter({"sent": readers})


@contextmanager
def deliveries_locked(db: Database) -> Iterator[None]:
    """Hold a lock that makes any write to the deliveries table wait."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execute(text("LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE"))
            yield
            connection.rollback()
    else:
        path = make_url(db.url).database
        assert path is not None
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()


def held_by_another(path: Path) -> bool:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_sigterm_while_the_worker_starts_stops_it_gracefully(
    db: Database, smtp_settings: Settings, tmp_path: Path, redis: Redis
) -> None:
    """The signal reaches the worker while it records a killed worker's journal (held up
    by a lock on the table): it finishes that, takes no job, and exits with status 0."""
    from tests.delivery.conftest import REDIS_URL

    settings = replace(
        smtp_settings,
        redis_url=REDIS_URL,
        queue_name="starting-test",
        lease_seconds=300,
        journal_dir=tmp_path / "journal",
    )
    digest_id = fan_out_one_digest(db, settings, 2)
    with db.session() as session:
        fan_out(session, session.get_one(Digest, digest_id))
    ids, _ = claim(db, settings, digest_id)
    assert settings.journal_dir is not None
    subprocess.run(
        [sys.executable, "-c", DIE_AFTER_ACK, str(settings.journal_dir), str(ids[0])], check=False
    )
    (journal,) = settings.journal_dir.glob("*.acks")
    log = tmp_path / "worker.log"

    with deliveries_locked(db):
        with open(log, "wb") as output:
            worker = subprocess.Popen(
                [NEWSLETTER, "worker"],
                env=environment(settings),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 60
            while not held_by_another(journal):  # the worker is replaying it, blocked
                assert worker.poll() is None, log.read_text()[-2000:]
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.02)
            worker.send_signal(signal.SIGTERM)
            time.sleep(0.5)
        except BaseException:
            worker.kill()
            raise
    try:
        returncode = worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    output_text = log.read_text()
    assert returncode == 0, output_text[-2000:]
    assert "SIGTERM received" in output_text
    assert "Worker" not in output_text  # rq's worker never started
    with db.session() as session:
        assert session.get_one(Delivery, ids[0]).state.value == "sent"  # it finished recording
    assert not journal.exists()


def catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM (Linux: the SigCgt mask)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(mask, 16) >> (signal.SIGTERM - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize("command", ["worker", "cron"])
def test_the_stop_handler_is_the_first_thing_installed(
    smtp_settings: Settings, tmp_path: Path, redis: Redis, command: str
) -> None:
    """From the moment the process can take SIGTERM at all it stops gracefully: the
    signal sent then ends it with status 0 before rq's worker or cron ever starts."""
    from tests.delivery.conftest import REDIS_URL

    settings = replace(smtp_settings, redis_url=REDIS_URL, queue_name="early-stop-test")
    log = tmp_path / f"{command}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [NEWSLETTER, command], env=environment(settings), stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + 30
        while not catches_sigterm(process.pid):
            assert process.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline
            time.sleep(0.001)
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    output_text = log.read_text()
    assert returncode == 0, output_text[-2000:]
    assert "registering birth" not in output_text and "Worker" not in output_text
