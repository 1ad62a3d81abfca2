"""Import N readers from a CSV file (``newsletter subscribers import``) against adding them
one at a time the way ``newsletter subscribers add`` does (a session and a commit per
reader, process start not counted); goal: 10,000 rows in under 10 s. On a temporary
SQLite database, and on Postgres with ``--postgres URL`` (a database it may drop and
create). Writes the figures to docs/benchmarks/readers-import.md.

    .venv/bin/python bench/import_readers.py [--rows 10000] [--one-by-one 500] [--postgres URL]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from newsletter import migrate
from newsletter.catalog import add_topic, subscribe, topic_by_slug
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.readers_csv import import_readers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.loopback import recreate_database

HASH_KEY = Settings().suppression_key  # the embedded default secret
REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "readers-import.md"


def fresh(url: str) -> Database:
    if url.startswith("postgresql"):
        recreate_database(url)
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    migrate.upgrade(url)
    db = Database(url)
    with db.session() as session:
        add_topic(session, "claude", "Claude", keywords=["Claude"], languages=["en", "zh-TW"])
    return db


def bulk(url: str, rows: int) -> float:
    db = fresh(url)
    lines = ["email,language,topics"]
    lines += [f"reader{n}@example.org,{('en', 'zh-TW')[n % 2]},claude" for n in range(rows)]
    started = time.perf_counter()
    with db.session() as session:
        report = import_readers(
            session,
            io.StringIO("\n".join(lines)),
            consent_note="bench",
            hash_key=HASH_KEY,
        )
    seconds = time.perf_counter() - started
    assert report.added == rows, report
    db.dispose()
    return seconds


def one_by_one(url: str, rows: int) -> float:
    db = fresh(url)
    started = time.perf_counter()
    for n in range(rows):
        with db.session() as session:
            topic = topic_by_slug(session, "claude")
            subscribe(
                session, f"reader{n}@example.org", language="en", topics=[topic], hash_key=HASH_KEY
            )
    seconds = time.perf_counter() - started
    db.dispose()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--one-by-one", type=int, default=500)
    parser.add_argument("--postgres", default="")
    args = parser.parse_args()
    table = [
        "| database | bulk import, rows | seconds | rows/s | one at a time, rows/s | ratio |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        targets = [("SQLite", f"sqlite:///{folder}/bench.db")]
        if args.postgres:
            targets.append(("Postgres", args.postgres))
        for name, url in targets:
            seconds = bulk(url, args.rows)
            single = one_by_one(url, args.one_by_one)
            bulk_rate, single_rate = args.rows / seconds, args.one_by_one / single
            table.append(
                f"| {name} | {args.rows:,} | {seconds:.2f} | {bulk_rate:,.0f} | "
                f"{single_rate:,.0f} | {bulk_rate / single_rate:.0f}x |"
            )
            print(table[-1], flush=True)
    machine = (
        f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    REPORT.write_text(
        "# Importing readers\n\n"
        "`newsletter subscribers import FILE.csv` against adding the same readers one at a\n"
        "time as `newsletter subscribers add` does (a session and commit per reader; the\n"
        "command's own start, about 1-2 s a call, is not counted). Goal: 10,000 rows in\n"
        "under 10 s.\n\n" + "\n".join(table) + f"\n\nMeasured {machine}.\n\n"
        "The import normalises each address (email-validator), then works a thousand\n"
        "addresses at a time: one query for suppressed hashes, one for known readers, one\n"
        "multi-row INSERT of the new readers and one of their subscriptions\n"
        "(ON CONFLICT DO NOTHING).\n"
    )
    print(f"wrote {REPORT}")


if __name__ == "__main__":
    main()
