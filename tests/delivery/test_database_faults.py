"""A database that drops the worker's connection just as it records a batch (Postgres,
``pg_terminate_backend`` on the worker's own backend): what the relay accepted is recorded,
never sent again, by this worker or any other."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text, update

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery.rows import fan_out
from newsletter.delivery.send import close_journals, send_range
from newsletter.delivery.transports import make_transport
from newsletter.delivery.transports.smtp import close_pools
from newsletter.models import Delivery, Digest, utcnow
from tests.conftest import POSTGRES_URL
from tests.delivery.conftest import SmtpServer, add_readers, build_digests, make_topic
from tests.delivery.test_workers import NEWSLETTER, count_states, environment

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="terminates Postgres backends")


class Terminator:
    """Terminates a connection's backend from outside as it starts recording sent rows.

    ``kills_per_record``: how many attempts of each recording to cut (the first ones).
    """

    def __init__(self, admin: Engine, kills_per_record: list[int]) -> None:
        self.admin = admin
        self.plan = iter(kills_per_record)
        self.left = 0
        self.kills = 0

    def next_record(self) -> None:
        self.left = next(self.plan, 0)

    def __call__(
        self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        recording = statement.startswith("UPDATE deliveries SET") and "message_id=" in statement
        if not recording or self.left <= 0:
            return
        self.left -= 1
        self.kills += 1
        pid = conn.connection.dbapi_connection.info.backend_pid
        with self.admin.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(200):  # until the backend is really gone
                alive = admin.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                )
                if not alive:
                    break
                time.sleep(0.01)


@pytest.fixture
def admin() -> Iterator[Engine]:
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def worker_settings(smtp_settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    yield replace(smtp_settings, send_batch_size=10, journal_dir=tmp_path / "journal")
    close_pools()
    close_journals()


def fanned_out(db: Database, settings: Settings, readers: int) -> int:
    topic_id = make_topic(db, "claude", ["en"])
    digest_id = build_digests(db, settings, "claude")["en"]
    add_readers(db, readers, lambda n: [topic_id], lambda n: "en")
    with db.session() as session:
        fan_out(session, session.get_one(Digest, digest_id))
    return digest_id


def test_recording_cut_again_and_again_is_retried_and_nothing_goes_twice(
    db: Database, worker_settings: Settings, smtp_server: SmtpServer, admin: Engine
) -> None:
    readers = 200
    digest_id = fanned_out(db, worker_settings, readers)
    # every batch's recording is cut once, every third one twice more
    terminator = Terminator(admin, [3 if n % 3 == 0 else 1 for n in range(readers // 10)])

    transport = make_transport(worker_settings)
    batches = 0
    event.listen(db.engine, "before_cursor_execute", terminator)
    try:
        while count_states(db)["pending"] and batches < 40:
            batches += 1
            terminator.next_record()
            last_id = _next_block_end(db, digest_id)
            send_range(db, worker_settings, digest_id, transport, last_id=last_id)
    finally:
        event.remove(db.engine, "before_cursor_execute", terminator)

    assert terminator.kills >= 30
    assert count_states(db) == Counter({"sent": readers})
    assert set(smtp_server.sink.counts().values()) == {1}
    assert len(smtp_server.sink.counts()) == readers


def _next_block_end(db: Database, digest_id: int) -> int:
    """The id of the tenth pending row: one send_range call per batch of ten."""
    with db.session() as session:
        return session.execute(
            text(
                "SELECT max(id) FROM (SELECT id FROM deliveries WHERE digest_id = :d "
                "AND state = 'pending' ORDER BY id LIMIT 10) AS batch"
            ),
            {"d": digest_id},
        ).scalar_one()


def test_a_worker_that_cannot_record_before_its_lease_ends_is_not_resent_by_another(
    db: Database, worker_settings: Settings, smtp_server: SmtpServer, admin: Engine
) -> None:
    """The database cuts every attempt until the lease is over: the batch stays in this
    (live) worker's journal, and another process on the host that sweeps and sends
    records it rather than handing it out again."""
    settings = replace(worker_settings, lease_seconds=2)
    readers = 30
    digest_id = fanned_out(db, settings, readers)
    transport = make_transport(settings)
    terminator = Terminator(admin, [1000])
    terminator.next_record()
    event.listen(db.engine, "before_cursor_execute", terminator)
    try:
        with pytest.raises(Exception, match="terminat"):
            send_range(db, settings, digest_id, transport, last_id=_next_block_end(db, digest_id))
    finally:
        event.remove(db.engine, "before_cursor_execute", terminator)
    assert terminator.kills >= 3  # retried on fresh connections first
    assert count_states(db) == Counter({"sending": 10, "pending": readers - 10})
    assert len(smtp_server.sink.counts()) == 10
    with db.session() as session:  # the lease is over, the rest waited long enough
        session.execute(update(Delivery).values(lease_expires_at=utcnow()))

    swept = subprocess.run(  # another process on this host: sweeps, then sends inline
        [NEWSLETTER, "sweep"],
        env=environment(replace(settings, redis_url="")),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert swept.returncode == 0, swept.stdout.decode()[-2000:]
    assert b"10 recorded from journals, 0 released" in swept.stdout
    assert count_states(db) == Counter({"sent": readers})
    assert set(smtp_server.sink.counts().values()) == {1}
    assert len(smtp_server.sink.counts()) == readers
