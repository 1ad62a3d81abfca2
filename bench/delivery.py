"""Delivery throughput against Postfix's smtp-sink, side by side in one run.

    .venv/bin/python bench/delivery.py [--small 10000] [--large 100000] [--raw 2000]

1. The limit: a raw smtplib loop over one persistent connection sending pre-built bytes,
   and the same loop speaking pipelined SMTP the way our transport does.
2. Per-message personalisation: the byte-level template vs building an EmailMessage.
3. The real pipeline on rq workers (`newsletter worker` processes, Redis db 7): fan-out
   of N subscribers into delivery rows, claim, personalise, send, record, with 1 and 2
   workers; messages/s, ratio to each raw loop per worker, the workers' peak memory.

Needs smtp-sink (Debian package postfix), Redis on 127.0.0.1:6379 and Postgres on
127.0.0.1:5432 (database newsletter_bench_delivery is recreated). Writes its figures to
docs/benchmarks/delivery.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from redis import Redis
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from baseline import Envelope, build_message  # noqa: E402

from newsletter import migrate  # noqa: E402
from newsletter.catalog import add_source, add_topic  # noqa: E402
from newsletter.config import Settings  # noqa: E402
from newsletter.daily import jobs, steps  # noqa: E402
from newsletter.daily.dispatch import RqDispatcher  # noqa: E402
from newsletter.db import Database  # noqa: E402
from newsletter.delivery.rows import request_fan_out  # noqa: E402
from newsletter.delivery.send import _mailing  # noqa: E402
from newsletter.delivery.transports.pipelining import send_pipelined  # noqa: E402
from newsletter.demo import SAMPLE_DATE, SAMPLE_FEEDS  # noqa: E402
from newsletter.models import (  # noqa: E402
    Delivery,
    DeliveryState,
    Digest,
    Subscriber,
    SubscriberStatus,
    Subscription,
)
from newsletter.render.links import PublicLinks  # noqa: E402
from newsletter.services import Services  # noqa: E402
from newsletter.sources.sample_transport import sample_url  # noqa: E402
from tests.loopback import free_port, recreate_database  # noqa: E402

DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/newsletter_bench_delivery"
REDIS_URL = "redis://127.0.0.1:6379/7"
QUEUE = "delivery-bench"
NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
BENCH_LINK_KEY = "bench-link-key00"  # the length of a real one (keys.new_link_key)


@dataclass(frozen=True)
class Limit:
    """A raw loop's messages/s and client CPU µs per message."""

    rate: float
    cpu: float


@dataclass(frozen=True)
class Run:
    readers: int
    workers: int
    rate: float
    peak: float
    cpu: float
    smtplib: Limit
    pipelined: Limit

    def per_worker(self, limit: Limit) -> float:
        return self.rate / self.workers / limit.rate


def start_sink(port: int) -> subprocess.Popen[bytes]:
    sink = subprocess.Popen(
        ["smtp-sink", "-u", "nobody", "-c", f"127.0.0.1:{port}", "1000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return sink
        except OSError:
            time.sleep(0.05)
    raise SystemExit("smtp-sink did not start (apt-get install -y postfix)")


def seed(db: Database, settings: Settings, readers: int) -> tuple[int, int]:
    """The topic, its English digest, and ``readers`` confirmed subscribers."""
    with db.session() as session:
        topic = add_topic(
            session, "bench", "Bench", keywords=["Claude", "Anthropic"], languages=["en"]
        )
        for name, filename in SAMPLE_FEEDS:
            add_source(session, topic, "rss", name, sample_url(filename))
        topic_id = topic.id
    steps.fetch(Services(settings, db), "bench")
    digest_id = steps.build(Services(settings, db), "bench", SAMPLE_DATE, ["en"])[0].digest.id
    with db.session() as session:
        for start in range(0, readers, 20000):
            count = min(20000, readers - start)
            ids = session.scalars(
                insert(Subscriber).returning(Subscriber.id),
                [
                    {
                        "email": f"reader{n:06d}@example.com",
                        "language": "en",
                        "status": SubscriberStatus.CONFIRMED,
                    }
                    for n in range(start, start + count)
                ],
            ).all()
            session.execute(
                insert(Subscription), [{"subscriber_id": i, "topic_id": topic_id} for i in ids]
            )
    return topic_id, digest_id


def copy_digest(db: Database, digest_id: int, days: int) -> int:
    """A new digest with the same content on another day: a fresh fan-out target."""
    with db.session() as session:
        original = session.get_one(Digest, digest_id)
        copy = Digest(
            topic_id=original.topic_id,
            date=original.date + timedelta(days=days),
            language="en",
            status=original.status,
            content=original.content,
            writer=original.writer,
        )
        session.add(copy)
        session.flush()
        return copy.id


def subscribe_first(db: Database, topic_id: int, readers: int) -> None:
    """Make exactly the first ``readers`` subscribers readers of the topic."""
    with db.session() as session:
        session.execute(Subscription.__table__.delete().where(Subscription.topic_id == topic_id))
        session.execute(
            text(
                "INSERT INTO subscriptions (subscriber_id, topic_id, created_at) "
                "SELECT id, :topic, now() FROM subscribers ORDER BY id LIMIT :readers"
            ),
            {"topic": topic_id, "readers": readers},
        )
    with db.engine.connect() as connection:  # fresh statistics, as autovacuum would keep
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def raw_loop(port: int, message: bytes, count: int, *, pipelined: bool) -> Limit:
    """Messages/s and client CPU µs per message for pre-built bytes on one connection:
    smtplib's ``sendmail`` (the issue's limit), or the same pipelined exchange our
    transport uses (the limit for our wire protocol, without the pipeline around it)."""
    smtp = smtplib.SMTP("127.0.0.1", port)
    smtp.ehlo()
    start, cpu = time.perf_counter(), time.process_time()
    for n in range(count):
        recipient = f"reader{n:06d}@example.com"
        if pipelined:
            send_pipelined(smtp, "digest@news.example.org", recipient, message)
        else:
            smtp.sendmail("digest@news.example.org", [recipient], message)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    smtp.quit()
    return Limit(count / elapsed, cpu / count * 1e6)


def personalisation_cost(db: Database, settings: Settings, digest_id: int) -> tuple[float, float]:
    """Microseconds per message: the byte template (with links) vs a fresh EmailMessage."""
    mailing = _mailing(db, settings, digest_id)
    links = PublicLinks(settings)
    count = 2000
    start = time.perf_counter()
    for n in range(count):
        mailing.template.render(
            f"reader{n:06d}@example.com",
            f"<digest-{digest_id}-{n}@news.example.org>",
            links.recipient(n, BENCH_LINK_KEY),
        )
    fast = (time.perf_counter() - start) / count * 1e6
    with db.session() as session:
        from newsletter.render.email import render_email

        rendered = render_email(settings, session.get_one(Digest, digest_id))
    envelope = Envelope(settings.from_address, settings.from_name, "Bench <bench.x>", "<m@x>")
    slow_count = 300
    start = time.perf_counter()
    for n in range(slow_count):
        build_message(
            rendered, envelope, f"reader{n:06d}@example.com", links.recipient(n, BENCH_LINK_KEY)
        )
    slow = (time.perf_counter() - start) / slow_count * 1e6
    return fast, slow


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pipeline_run(
    db: Database,
    settings: Settings,
    env: dict[str, str],
    digest_id: int,
    readers: int,
    workers: int,
) -> tuple[float, float, float]:
    """(messages/s, highest worker peak RSS in MB, worker CPU µs per message) for
    fan-out + send on ``workers``."""
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    processes = [
        subprocess.Popen(
            [NEWSLETTER, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(workers)
    ]
    time.sleep(2.5)  # let the workers import and start listening
    with db.session() as session:
        request_fan_out(session, [digest_id])
    cpu_before = sum(cpu_seconds(p.pid) for p in processes)
    start = time.perf_counter()
    RqDispatcher(redis, QUEUE).enqueue(jobs.fan_out, digest_id)
    unsent = (  # cheap to poll: the (digest_id, subscriber_id) index narrows it to one digest
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.digest_id == digest_id, Delivery.state != DeliveryState.SENT)
    )
    while True:
        time.sleep(0.25)
        with db.session() as session:
            created = session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.digest_id == digest_id)
            )
            if created == readers and session.scalar(unsent) == 0:
                break
        if time.perf_counter() - start > 600:
            raise SystemExit("pipeline run timed out")
    elapsed = time.perf_counter() - start
    cpu = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
    peak = max(peak_rss_mb(p.pid) for p in processes)
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=30)
    redis.flushdb()
    return readers / elapsed, peak, cpu / readers * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10000)
    parser.add_argument("--large", type=int, default=100000, help="0 to skip")
    parser.add_argument("--raw", type=int, default=2000, help="messages per raw loop")
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks" / "delivery.md")
    args = parser.parse_args()

    port = free_port()
    sink = start_sink(port)
    instance = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    recreate_database(args.database_url)
    migrate.upgrade(args.database_url)
    settings = Settings(
        instance_dir=instance,
        database_url=args.database_url,
        redis_url=REDIS_URL,
        queue_name=QUEUE,
        transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        base_url="https://news.example.org",
        from_address="digest@news.example.org",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env.update(
        {
            "NEWSLETTER_INSTANCE_DIR": str(instance),
            "NEWSLETTER_DATABASE_URL": args.database_url,
            "NEWSLETTER_REDIS_URL": REDIS_URL,
            "NEWSLETTER_QUEUE_NAME": QUEUE,
            "NEWSLETTER_TRANSPORT": "smtp",
            "NEWSLETTER_SMTP_HOST": "127.0.0.1",
            "NEWSLETTER_SMTP_PORT": str(port),
            "NEWSLETTER_BASE_URL": settings.base_url,
            "NEWSLETTER_FROM_ADDRESS": settings.from_address,
        }
    )
    db = Database(args.database_url)
    try:
        largest = max(args.small, args.large)
        topic_id, digest_id = seed(db, settings, largest)
        mailing = _mailing(db, settings, digest_id)
        sample = mailing.template.render(
            "reader000000@example.com",
            "<m@news.example.org>",
            PublicLinks(settings).recipient(1, BENCH_LINK_KEY),
        )
        print(f"message size: {len(sample) / 1024:.1f} KB (text + HTML, quoted-printable)")
        fast, slow = personalisation_cost(db, settings, digest_id)
        print(f"personalise: template {fast:.0f} µs/msg, EmailMessage {slow:.0f} µs/msg")

        runs: list[Run] = []
        plan = [(args.small, 1), (args.small, 2)]
        if args.large:
            plan += [(args.large, 1), (args.large, 2)]
        for day, (readers, workers) in enumerate(plan, start=1):
            subscribe_first(db, topic_id, readers)
            target = copy_digest(db, digest_id, day)
            # the limits, measured right before each run: the machine is shared and busy
            plain = raw_loop(port, sample, args.raw, pipelined=False)
            pipelined = raw_loop(port, sample, args.raw, pipelined=True)
            rate, peak, cpu = pipeline_run(db, settings, env, target, readers, workers)
            run = Run(readers, workers, rate, peak, cpu, plain, pipelined)
            runs.append(run)
            print(
                f"pipeline {readers} subscribers, {workers} worker(s): {rate:.0f} msg/s; "
                f"raw smtplib {plain.rate:.0f} msg/s ({run.per_worker(plain):.2f} per worker), "
                f"raw pipelined {pipelined.rate:.0f} msg/s ({run.per_worker(pipelined):.2f}); "
                f"CPU/msg {cpu:.0f} µs vs raw {plain.cpu:.0f} / {pipelined.cpu:.0f} µs; "
                f"worker peak RSS {peak:.0f} MB"
            )
        write_report(args.output, len(sample), fast, slow, runs, args.database_url)
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait()
        db.dispose()


def write_report(
    path: Path, size: int, fast: float, slow: float, runs: list[Run], database_url: str
) -> None:
    machine = (
        f"{os.cpu_count()} cores (`nproc`), {platform.machine()}, "
        f"Python {platform.python_version()}, {make_url(database_url).get_backend_name()}, "
        f"load average {os.getloadavg()[0]:.1f} at the end (the machine is shared)"
    )
    lines = [
        "# Delivery benchmark",
        "",
        "`.venv/bin/python bench/delivery.py` (about 4 minutes) — Postfix `smtp-sink` on",
        "loopback as the relay, rq workers (`newsletter worker`) on Redis, Postgres.",
        "",
        f"Machine: {machine}. Message: {size / 1024:.1f} KB two-part digest "
        "(text + HTML, quoted-printable).",
        "",
        f"Personalising one message: byte template + 2 signed links {fast:.0f} µs; "
        f"building an EmailMessage per reader {slow:.0f} µs ({slow / fast:.0f}x).",
        "",
        "| subscribers | workers | pipeline msg/s | raw smtplib msg/s | per worker / raw "
        "smtplib (goal >= 0.8) | raw pipelined msg/s | per worker / raw pipelined "
        "| CPU µs/msg: workers / smtplib / pipelined | worker peak RSS |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        lines.append(
            f"| {run.readers:,} | {run.workers} | {run.rate:.0f} | {run.smtplib.rate:.0f} "
            f"| {run.per_worker(run.smtplib):.2f} | {run.pipelined.rate:.0f} "
            f"| {run.per_worker(run.pipelined):.2f} "
            f"| {run.cpu:.0f} / {run.smtplib.cpu:.0f} / {run.pipelined.cpu:.0f} "
            f"| {run.peak:.0f} MB |"
        )
    for workers in (1, 2):
        peaks = [run.peak for run in runs if run.workers == workers]
        if len(peaks) == 2:
            lines += [
                "",
                f"Peak memory, large vs small run ({workers} worker(s)): "
                f"{peaks[1] / peaks[0]:.2f}x.",
            ]
    lines += [
        "",
        "Both raw loops send pre-built bytes over one persistent connection, measured",
        "right before each pipeline run: `raw smtplib` calls `smtplib.SMTP.sendmail`",
        "(the issue's limit: four round trips per message and a regular expression over",
        "every byte); `raw pipelined` sends the way our SMTP transport does against a",
        "relay that offers PIPELINING (RFC 2920: two round trips, no copy of the body),",
        "so its ratio is the cost of everything around the wire. The pipeline figure is",
        "wall time from enqueueing the fan-out job to the last delivery row recorded as",
        "sent: fan-out, claims, personalisation, SMTP, batched updates, rq. Two workers",
        "share the same 2 cores with smtp-sink, Postgres and Redis, so the CPU each",
        "message costs (all workers' CPU time over the run / messages, against the raw",
        "loops' own client CPU) says more than the wall-clock ratio there.",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
