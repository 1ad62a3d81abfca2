"""The console's front page against /healthz, on Postgres with 100,000 readers and
1,000,000 delivery rows.

Seeds a database of its own (newsletter_bench_admin, recreated) with generate_series:
three topics, 100k readers (confirmed, pending, unsubscribed, paused; joined over 60
days) and their subscriptions, 180 digests (30 days, 3 topics, 2 languages), a million
deliveries over the latest 40 of them (sent, failed, suppressed), 1,000 suppressions.
Then, in one process through Flask's test client signed in as an operator, times the
dashboard and /healthz one after the other, round after round, and writes
docs/benchmarks/admin.md.

    .venv/bin/python bench/admin.py [--rounds 30] [--readers 100000] [--deliveries 1000000]

Redis (db 0 of the local server, read only: the queue panel counts an empty queue) is
used when it answers, as in production.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsletter import migrate  # noqa: E402
from newsletter.admins import add_admin  # noqa: E402
from newsletter.app import create_app  # noqa: E402
from newsletter.config import Settings  # noqa: E402
from newsletter.db import Database  # noqa: E402
from newsletter.services import Services  # noqa: E402
from newsletter.stats import keep_tallies  # noqa: E402
from tests.loopback import recreate_database  # noqa: E402

DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/newsletter_bench_admin"
REDIS_URL = "redis://127.0.0.1:6379/0"
REPORT = ROOT / "docs" / "benchmarks" / "admin.md"
OPERATOR, PASSWORD = "bench@example.com", "a benchmark password"
GOAL_MS = 150.0

SEED = [
    """INSERT INTO topics (slug, name, keywords, languages, timezone, send_time, review,
                           created_at)
       SELECT s, initcap(s), '[]', '["en", "zh-TW"]', 'UTC', '07:00', 'off', now()
       FROM unnest(ARRAY['claude', 'openai', 'gemini']) AS s""",
    """INSERT INTO subscribers (email, language, status, confirmed_at, unsubscribed_at,
                                paused, created_at)
       SELECT 'reader' || i || '@example.com',
              CASE WHEN i % 3 = 0 THEN 'zh-TW' ELSE 'en' END,
              CASE WHEN i % 10 = 1 THEN 'pending'
                   WHEN i % 10 = 2 THEN 'unsubscribed' ELSE 'confirmed' END,
              CASE WHEN i % 10 <> 1 THEN now() - (i % 60) * interval '1 day' END,
              CASE WHEN i % 10 = 2 THEN now() - (i % 30) * interval '1 day' END,
              i % 20 = 3,
              now() - (i % 60) * interval '1 day'
       FROM generate_series(1, :readers) AS i""",
    """INSERT INTO subscriptions (subscriber_id, topic_id, created_at)
       SELECT s.id, t.id, now() FROM subscribers s JOIN topics t
         ON t.id = 1 + s.id % 3 OR (s.id % 4 = 0 AND t.id = 1 + (s.id + 1) % 3)""",
    """INSERT INTO digests (topic_id, date, language, status, writer, model, input_tokens,
                            output_tokens, cache_write_tokens, cache_read_tokens, cost_usd,
                            created_at, fan_out_requested_at, fanned_out_at)
       SELECT t.id, current_date - d, l, 'ready', 'claude', 'claude-sonnet-4-5', 30000,
              5000, 0, 0, 0.165, now(), now() - d * interval '1 day',
              now() - d * interval '1 day'
       FROM topics t, generate_series(0, 29) AS d, unnest(ARRAY['en', 'zh-TW']) AS l""",
    """INSERT INTO deliveries (digest_id, subscriber_id, state, attempts, last_error,
                               message_id, sent_at, created_at)
       SELECT d.id, r,
              CASE WHEN r % 50 = 0 THEN 'failed' WHEN r % 100 = 1 THEN 'suppressed'
                   ELSE 'sent' END,
              1,
              CASE WHEN r % 50 = 0 THEN '451 4.2.1 mailbox busy'
                   WHEN r % 100 = 1 THEN '550 5.1.1 no such user' END,
              '<digest-' || d.id || '-' || r || '@example.org>',
              d.fanned_out_at, d.fanned_out_at
       FROM (SELECT id, fanned_out_at FROM digests ORDER BY date DESC, id DESC LIMIT 40) AS d,
            generate_series(1, :per_digest) AS r""",
    """INSERT INTO suppressions (email_hash, email, reason, created_at)
       SELECT md5('gone' || i) || md5('x' || i), 'gone' || i || '@example.com',
              CASE WHEN i % 4 = 0 THEN 'spam complaint' ELSE 'bounced: 550 5.1.1 no such user'
              END, now() - (i % 40) * interval '1 day'
       FROM generate_series(1, 1000) AS i""",
]


def seed(database: Database, readers: int, deliveries: int) -> float:
    started = time.perf_counter()
    per_digest = min(readers, deliveries // 40)
    with database.engine.begin() as connection:
        for statement in SEED:
            connection.execute(text(statement), {"readers": readers, "per_digest": per_digest})
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
    with database.session() as session:
        add_admin(session, OPERATOR, PASSWORD)
    return time.perf_counter() - started


def redis_url() -> str:
    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except RedisError:
        return ""
    return REDIS_URL


def timed(client, path: str) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    args = parser.parse_args()

    recreate_database(DATABASE_URL)
    migrate.upgrade(DATABASE_URL)
    database = Database(DATABASE_URL)
    seconds = seed(database, args.readers, args.deliveries)
    with database.session() as session:
        counts = {
            table: session.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in ("subscribers", "subscriptions", "digests", "deliveries")
        }
    print(f"seeded in {seconds:.0f} s: {counts}")

    settings = Settings(
        database_url=DATABASE_URL,
        redis_url=redis_url(),
        queue_name="newsletter-bench-admin",
        admin_login_rate_limit="1000/minute",
    )
    app = create_app(services=Services(settings, database))
    client = app.test_client()
    login = client.get("/admin/login").get_data(as_text=True)
    token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/admin/login", data={"csrf_token": token, "email": OPERATOR, "password": PASSWORD})
    first = timed(client, "/admin/")  # counts the finished digests once, then keeps them
    with database.session() as session:  # the sweeper's way: forget, count again, keep
        session.execute(text("UPDATE digests SET delivery_tally = NULL"))
    started = time.perf_counter()
    with database.session() as session:
        keep_tallies(session)
    sweep_ms = (time.perf_counter() - started) * 1000
    after_sweep = timed(client, "/admin/")
    for _ in range(3):
        timed(client, "/admin/")
        timed(client, "/healthz")
    dashboard, health, recount = [], [], []
    for _ in range(args.rounds):
        dashboard.append(timed(client, "/admin/"))
        health.append(timed(client, "/healthz"))
        recount.append(timed(client, "/admin/?recount=1"))

    def summary(values: list[float]) -> tuple[float, float]:
        ordered = sorted(values)
        return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]

    d_median, d_p95 = summary(dashboard)
    h_median, h_p95 = summary(health)
    r_median, r_p95 = summary(recount)
    met = "met" if d_p95 < GOAL_MS else "missed"
    lines = [
        "# Console benchmark",
        "",
        "`.venv/bin/python bench/admin.py` — the console's front page (`/admin/`) and",
        "`/healthz`, one after the other in each round, through Flask's test client in one",
        "process (server time only: no network, no browser).",
        "",
        f"- machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}; Postgres on loopback; Redis "
        f"{'on loopback (the queue panel)' if settings.redis_url else 'not used'}",
        f"- data: {counts['subscribers']:,} readers, {counts['subscriptions']:,} subscriptions, "
        f"{counts['digests']} digests, {counts['deliveries']:,} delivery rows "
        f"(seeded with generate_series in {seconds:.0f} s)",
        f"- {args.rounds} rounds after 3 warm-up rounds; medians and 95th percentiles",
        "",
        "| page | median | p95 | ratio to /healthz (median) | goal |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| `/healthz` (`SELECT 1`{' and a Redis PING' if settings.redis_url else ''}) "
        f"| {h_median:.1f} ms | {h_p95:.1f} ms | 1.0x | |",
        f"| `/admin/` dashboard | {d_median:.1f} ms | {d_p95:.1f} ms | "
        f"{d_median / h_median:.1f}x | < {GOAL_MS:.0f} ms ({met}) |",
        f"| `/admin/?recount=1` (readers counted afresh) | {r_median:.1f} ms | {r_p95:.1f} ms | "
        f"{r_median / h_median:.1f}x | |",
        f"| `/admin/` first view, nothing counted yet (every finished digest once) "
        f"| {first:.1f} ms | | | |",
        f"| the sweeper counting the same (`stats.keep_tallies`, once) | {sweep_ms:.1f} ms | | | |",
        f"| `/admin/` first view after a sweep | {after_sweep:.1f} ms | | | |",
        "",
        "What makes it fast:",
        "",
        "- The reader figures (by topic, language and status; the 30-day growth) join every",
        "  reader: each process counts them at most once a minute, the page says when, and",
        '  "Count again" (`?recount=1`) counts them at once (the row above), as listmonk\'s',
        "  dashboard reads views it refreshes on a timer.",
        "- A digest's delivery counts are kept on the digest (`delivery_tally`) the first",
        "  time they are final (fanned out, nothing pending or sending): the 14 digests of",
        "  the table and the 30 days of the bounce and complaint rates read no delivery row",
        "  after the first view. A retry of failures clears the digest's tally.",
        "- Counting the readers reads no delivery row: `GROUP BY`s over the subscribers and",
        "  subscriptions tables, and the growth chart reads `ix_subscribers_confirmed_at` and",
        "  `ix_subscribers_unsubscribed_at` for 30 days.",
        "- The sweeper (every minute under `newsletter cron`) counts each finished digest",
        "  once and keeps it, so even the console's first view reads no delivery row; before",
        "  any sweep, the first view does that counting itself (a million rows by state).",
    ]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    database.dispose()


if __name__ == "__main__":
    main()
