"""Fetch N local sources with injected latency; report wall time relative to the slowest
single source (goal: <= 1.3x). Everything runs on loopback: one small HTTP server per
source (a "site"), a temporary SQLite database, the real ingest path (fetch, parse,
store). Writes the figures to docs/benchmarks/sources.md.

    .venv/bin/python bench/fetch_concurrency.py [--sources 10 50 100] [--items 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import select

from newsletter import migrate
from newsletter.catalog import add_source, add_topic
from newsletter.db import Database
from newsletter.models import Topic
from newsletter.sources.feed import parse_feed
from newsletter.sources.fetch import FetchPolicy
from newsletter.sources.ingest import fetch_topic

REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "sources.md"
LATENCY = (0.2, 0.8)  # seconds, uniform per source


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256


def feed(site: int, items: int) -> bytes:
    now = datetime.now(UTC)
    entries = "".join(
        f"<item><title>Claude story {n} from site {site}</title>"
        f"<link>https://site{site}.example.com/story/{n}?utm_source=rss</link>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=n), usegmt=True)}</pubDate>"
        f"<description>&lt;p&gt;Report {n} about Anthropic and Claude.&lt;/p&gt;</description>"
        "</item>"
        for n in range(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Site {site}</title>'
        f"<link>https://site{site}.example.com/</link><description>d</description>"
        f"{entries}</channel></rss>"
    ).encode()


def start_site(body: bytes, latency: float) -> _Server:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            time.sleep(latency)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def url_of(server: _Server, path: str = "/feed") -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}{path}"


def timed_fetch(db: Database, slug: str, urls: list[str], policy: FetchPolicy) -> float:
    """Wall time of one fetch of a fresh topic with these sources (fetch, parse, store)."""
    with db.session() as session:
        topic = add_topic(session, slug, slug, keywords=["Claude"], languages=["en"])
        for n, url in enumerate(urls):
            add_source(session, topic, "rss", f"source {n}", url)
    with db.session() as session:
        topic = session.scalars(select(Topic).where(Topic.slug == slug)).one()
        started = time.perf_counter()
        results = fetch_topic(session, topic, policy=policy)
        elapsed = time.perf_counter() - started
    failed = [result for result in results if result.status == "failed"]
    if failed:
        sys.exit(f"benchmark source failed: {failed[0].error}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--items", type=int, default=30, help="items per feed")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    policy = FetchPolicy()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        db = Database(url)
        for count in args.sources:
            rng = random.Random(count)
            latencies = [rng.uniform(*LATENCY) for _ in range(count)]
            servers = [start_site(feed(n, args.items), lat) for n, lat in enumerate(latencies)]
            urls = [url_of(server) for server in servers]
            slowest = urls[latencies.index(max(latencies))]
            single, together = [], []
            for rep in range(args.repeat):
                single.append(timed_fetch(db, f"one-{count}-{rep}", [slowest], policy))
                together.append(timed_fetch(db, f"all-{count}-{rep}", urls, policy))
            rows.append(
                (
                    f"{count} sources, one host each",
                    count,
                    max(latencies),
                    sum(latencies),
                    statistics.median(single),
                    statistics.median(together),
                )
            )
            if count == args.sources[0]:  # the same sources one at a time, for contrast
                one_by_one = replace(policy, max_connections=1)
                sequential = timed_fetch(db, f"seq-{count}", urls, one_by_one)
                rows.append(
                    (
                        f"{count} sources, one at a time (max_connections 1)",
                        count,
                        max(latencies),
                        sum(latencies),
                        statistics.median(single),
                        sequential,
                    )
                )
            for server in servers:
                server.shutdown()
                server.server_close()
        # The per-host cap at work: 10 sources on one host are fetched 4 at a time.
        shared = start_site(feed(0, args.items), LATENCY[1])
        urls = [url_of(shared, f"/feed{n}") for n in range(10)]
        single = [timed_fetch(db, f"host-one-{r}", urls[:1], policy) for r in range(args.repeat)]
        together = [timed_fetch(db, f"host-all-{r}", urls, policy) for r in range(args.repeat)]
        rows.append(
            (
                f"10 sources on one host (cap {policy.per_host})",
                10,
                LATENCY[1],
                10 * LATENCY[1],
                statistics.median(single),
                statistics.median(together),
            )
        )
        shared.shutdown()
        db.dispose()
    write_report(rows, args, parse_cost(args.items))


def parse_cost(items: int, runs: int = 20) -> float:
    """Seconds of CPU to read one bench feed (feedparser plus our cleaning)."""
    body = feed(0, items)
    started = time.perf_counter()
    for _ in range(runs):
        parse_feed(body, "bench", "application/rss+xml")
    return (time.perf_counter() - started) / runs


def write_report(
    rows: list[tuple[str, int, float, float, float, float]], args, parse_seconds: float
) -> None:
    lines = [
        "# Benchmark: concurrent source fetching",
        "",
        "`.venv/bin/python bench/fetch_concurrency.py` — N local RSS sources (one loopback",
        "HTTP server each) answer after a latency drawn uniformly from "
        f"{LATENCY[0]}-{LATENCY[1]} s",
        f"with {args.items} items each; the real ingest path fetches, parses and stores them",
        "into SQLite. *Slowest alone* is one fetch of only the slowest source; *all* fetches",
        f"every source in one run. Median of {args.repeat} runs; the goal is all / slowest <= 1.3.",
        "",
        f"Machine: {os.cpu_count()} CPUs (`nproc` {len(os.sched_getaffinity(0))}), "
        f"{platform.machine()}, Python {platform.python_version()}, shared with other jobs.",
        "",
        "| scenario | slowest latency | sum of latencies | slowest alone | all | all / slowest |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, _count, slowest, total, single, together in rows:
        lines.append(
            f"| {name} | {slowest:.2f} s | {total:.1f} s | {single:.2f} s | "
            f"{together:.2f} s | **{together / single:.2f}x** |"
        )
    lines += [
        "",
        f"Reading one {args.items}-item feed (feedparser plus cleaning) costs "
        f"{parse_seconds * 1000:.1f} ms of CPU here, so N sources carry a CPU floor of about "
        f"N x {parse_seconds * 1000:.0f} ms",
        "(plus storing) that no amount of concurrency hides on this machine: parsing runs in",
        "worker threads as each response arrives, overlapping the network waits, but under",
        "one interpreter lock. The goal holds for topics of about ten sources (the defaults",
        "have five or six); at 50-100 sources the run is CPU-bound, not network-bound.",
        "",
        "The one-at-a-time row fetches the same sources sequentially (about the sum of their",
        "latencies), measured in the same run for contrast. The last row shows the",
        "per-host politeness cap (NEWSLETTER_FETCH_PER_HOST) trading speed for fewer",
        "simultaneous requests to one site, by design.",
        "",
    ]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
