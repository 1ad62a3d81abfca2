"""What recording a batch of sent deliveries costs per row: the Message-IDs the send
loop made, written in bulk (how a batch is recorded), side by side with the journal's
replay path (reads the rows back and computes each id again with the HMAC) and the
pre-issue-15 statement (an id-only Message-ID built in SQL, for reference).

    .venv/bin/python bench/record_sent.py --database-url postgresql+psycopg://... [--rows 20000]

Without --database-url it runs on a temporary SQLite file. The database is emptied.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date

from sqlalchemy import String, cast, insert, literal, select, text, update
from sqlalchemy.orm import Session

from newsletter import migrate
from newsletter.config import Settings
from newsletter.db import Database, among
from newsletter.delivery import rows
from newsletter.delivery.template import message_id
from newsletter.models import (
    Delivery,
    DeliveryState,
    Digest,
    DigestStatus,
    Subscriber,
    Topic,
    utcnow,
)


def prepare(db: Database, count: int) -> tuple[int, list[tuple[int, int, str]]]:
    """One digest with ``count`` readers in ``sending``: (digest id, rows)."""
    with db.session() as session:
        for table in ("deliveries", "digests", "subscriptions", "subscribers", "topics"):
            session.execute(text(f"DELETE FROM {table}"))
        topic = Topic(slug="bench", name="Bench", keywords=[], languages=["en"])
        session.add(topic)
        session.flush()
        digest = Digest(
            topic_id=topic.id,
            date=date(2026, 1, 1),
            language="en",
            status=DigestStatus.READY,
            writer="offline",
        )
        session.add(digest)
        session.flush()
        session.execute(
            insert(Subscriber),
            [{"email": f"r{n}@example.com", "link_key": f"k{n:015d}"} for n in range(count)],
        )
        readers = session.scalars(select(Subscriber.id).order_by(Subscriber.id)).all()
        session.execute(
            insert(Delivery),
            [
                {"digest_id": digest.id, "subscriber_id": reader, "state": "sending"}
                for reader in readers
            ],
        )
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE deliveries"))  # as the fan-out does
        found = session.execute(
            select(Delivery.id, Delivery.subscriber_id, Subscriber.link_key)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .order_by(Delivery.id)
        ).all()
        return digest.id, [(d, s, k) for d, s, k in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    settings = Settings(database_url=url, from_address="digest@news.example.org")
    migrate.upgrade(url)
    db = Database(url)
    digest_id, found = prepare(db, args.rows)
    ids = [delivery_id for delivery_id, _, _ in found]
    key, domain = settings.message_id_key, settings.sender_domain
    made = [(d, message_id(key, digest_id, s, k, domain)) for d, s, k in found]

    def in_sql(session: Session) -> None:
        same = (
            literal("<digest-")
            + cast(Delivery.digest_id, String)
            + literal("-")
            + cast(Delivery.subscriber_id, String)
            + literal(f"@{domain}>")
        )
        for start in range(0, len(ids), 1000):
            session.execute(
                update(Delivery)
                .where(
                    among(session, Delivery.id, ids[start : start + 1000]),
                    Delivery.state.in_(rows.RECORDABLE),
                )
                .values(state=DeliveryState.SENT, message_id=same, sent_at=utcnow())
            )

    cases: dict[str, Callable[[Session], None]] = {
        "ids from the send loop (rows.record_sent)": lambda s: rows.record_sent(s, made),
        "journal replay: read rows, HMAC each (rows.replayed_as_sent)": lambda s: (
            rows.replayed_as_sent(s, settings, ids)
        ),
        "before issue 15: id-only Message-ID built in SQL": in_sql,
    }
    timings: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):  # interleaved, so that all see the same machine load
        for name, record in cases.items():
            with db.session() as session:
                session.execute(update(Delivery).values(state="sending", message_id=None))
            with db.session() as session:
                start = time.perf_counter()
                record(session)
                session.commit()
                timings[name].append((time.perf_counter() - start) / args.rows * 1e6)
    print(f"{db.engine.dialect.name}, {args.rows} rows, best of {args.rounds}:")
    for name, values in timings.items():
        print(f"  {min(values):7.1f} µs/row (median {statistics.median(values):.1f})  {name}")
    db.dispose()


if __name__ == "__main__":
    main()
