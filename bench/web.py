"""Requests/s and p99 of the site under wrk, against gunicorn on loopback.

One run measures, side by side: a trivial endpoint (/healthz: `SELECT 1`, and a Redis
PING when Redis is set), the stylesheet (no database at all, for scale), an archive
page (a digest rendered from its stored JSON), and the signup POST (form checks, rate
limits, three queries, a pending subscriber row, and the confirm email). Figures go to
docs/benchmarks/web.md.

    .venv/bin/python bench/web.py [--embedded] [--seconds 5] [--rounds 3] [--workers 2]

The default is the production layout: Postgres (database newsletter_bench_web,
recreated), Redis db 5 for the rate limits and the queue, so a signup queues its email
for a worker. ``--embedded`` measures the embedded defaults instead: SQLite, limits in
memory, and the email written to the outbox inside the request. Needs `wrk` (Debian).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from redis import Redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.loopback import free_port, recreate_database  # noqa: E402

VENV_BIN = Path(sys.executable).parent
REPORTS = ROOT / "docs" / "benchmarks"
DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/newsletter_bench_web"
REDIS_URL = "redis://127.0.0.1:6379/5"

SIGNUP_LUA = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
request = function()
  counter = counter + 1
  local body = "csrf_token=%s&email=bench-" .. tid .. "-" .. counter ..
    "%%40example.com&topics=claude&language=en"
  return wrk.format("POST", "/", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "%s",
  }, body)
end
"""


ARCHIVE_NOTE = [
    "- The archive page is rendered once per URL and kept per process for 60 s (a ready",
    "  digest never changes); a hit runs no query at all, so it can outrun the trivial",
    "  endpoint.",
]
PRODUCTION_NOTES = [
    "- The trivial endpoint, `/healthz`, runs `SELECT 1` on Postgres and a Redis PING:",
    "  two round trips. The stylesheet touches neither and is there for scale.",
    *ARCHIVE_NOTE,
    "- A signup POST: CSRF and form checks, the address checked by email-validator, two",
    "  fixed-window rate-limit hits and one rq enqueue, all on Redis; no database (the",
    "  topic list is cached a minute per process). A worker records the signup and sends",
    "  the email later; none runs during the measurement, so the queue just grows.",
    "  Profiled under wrk (py-spy), about half of a worker's time is these three Redis",
    "  round trips.",
]
EMBEDDED_NOTES = [
    "- The trivial endpoint, `/healthz`, runs `SELECT 1` on SQLite. The stylesheet",
    "  touches no database and is there for scale.",
    *ARCHIVE_NOTE,
    "- A signup POST: CSRF and form checks, rate limits in memory, email-validator, the",
    "  pending subscriber written, and the confirmation built and written to the outbox,",
    "  all inside the request; SQLite takes one writer at a time across workers. This",
    "  layout is for trying the service on one machine and has no goal of its own; the",
    "  production layout is measured by `bench/web.py` without `--embedded`.",
]


@dataclass(frozen=True)
class Result:
    name: str
    path: str
    requests_per_second: float
    p99_ms: float
    non_2xx_3xx: int
    slowest_round: float
    fastest_round: float


def prepare(env: dict[str, str]) -> None:
    """Migrate and fill the database: the demo topic, its feeds, both digests."""
    code = (
        "from newsletter import migrate, services\n"
        "from newsletter.daily import steps\n"
        "from newsletter.demo import SAMPLE_DATE, seed_demo\n"
        "s = services.from_env()\n"
        "migrate.upgrade(s.db.url)\n"
        "with s.db.session() as session:\n"
        "    seed_demo(session, s.settings.suppression_key)\n"
        "steps.fetch(s, 'claude')\n"
        "steps.build(s, 'claude', SAMPLE_DATE, ['en', 'zh-TW'])\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT)


def wait_until_up(base: str, deadline: float = 20) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not come up")


def csrf_session(base: str) -> tuple[str, str]:
    """A session cookie and the CSRF token that goes with it."""
    response = httpx.get(base + "/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert token, "no CSRF token on the signup page"
    cookie = "; ".join(f"{name}={value}" for name, value in response.cookies.items())
    return token.group(1), cookie


def parse_wrk(output: str) -> tuple[float, float, int]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    assert p99, output
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return rps, float(p99.group(1)) * scale, int(bad.group(1)) if bad else 0


def run_wrk(base: str, path: str, args: argparse.Namespace, script: Path | None) -> str:
    command = [
        "wrk",
        f"-t{min(2, args.connections)}",
        f"-c{args.connections}",
        f"-d{args.seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script:
        command += ["-s", str(script)]
    return subprocess.run(
        [*command, base + path], capture_output=True, text=True, check=True
    ).stdout


def measure(args: argparse.Namespace) -> list[Result]:
    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")},
        "NEWSLETTER_INSTANCE_DIR": str(work),
        "NEWSLETTER_SIGNUP_RATE_LIMIT": "1000000/minute",
        "NEWSLETTER_SIGNUP_ADDRESS_RATE_LIMIT": "1000000/minute",
    }
    redis = None
    if not args.embedded:
        recreate_database(DATABASE_URL)
        redis = Redis.from_url(REDIS_URL)
        redis.flushdb()
        env |= {"NEWSLETTER_DATABASE_URL": DATABASE_URL, "NEWSLETTER_REDIS_URL": REDIS_URL}
    prepare(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["NEWSLETTER_BASE_URL"] = base
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        wait_until_up(base)
        token, cookie = csrf_session(base)
        script = work / "signup.lua"
        script.write_text(SIGNUP_LUA % (token, cookie))
        cases = [
            ("trivial (/healthz)", "/healthz", None),
            ("stylesheet (no database)", "/assets/site.css", None),
            ("archive page", "/archive/claude/2026-01-12?lang=zh-TW", None),
            ("signup POST", "/", script),
        ]
        warm_up = argparse.Namespace(**{**vars(args), "seconds": 2})
        for _, path, lua in cases:
            run_wrk(base, path, warm_up, lua)
        # Interleaved rounds: the machine is shared, so load drifts; each round measures
        # every endpoint back to back and the median round-by-round figure is kept.
        runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name, _, _ in cases}
        for round_number in range(1, args.rounds + 1):
            for name, path, lua in cases:
                rps, p99, bad = parse_wrk(run_wrk(base, path, args, lua))
                runs[name].append((rps, p99, bad))
                print(f"round {round_number} {name:<22} {rps:>9.1f} req/s   p99 {p99:>8.2f} ms")
        results = []
        for name, path, _ in cases:
            measured = runs[name]
            results.append(
                Result(
                    name,
                    path,
                    statistics.median(rps for rps, _, _ in measured),
                    statistics.median(p99 for _, p99, _ in measured),
                    sum(bad for _, _, bad in measured),
                    min(rps for rps, _, _ in measured),
                    max(rps for rps, _, _ in measured),
                )
            )
        return results
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
        if redis is not None:
            redis.flushdb()


def layout(args: argparse.Namespace) -> str:
    if args.embedded:
        return (
            "embedded defaults: SQLite, rate limits in memory, confirm emails written to the "
            "outbox inside the request"
        )
    return (
        "production layout: Postgres, Redis for the rate limits and the queue, confirm "
        "emails queued for a worker"
    )


def write_report(results: list[Result], args: argparse.Namespace) -> None:
    trivial = results[0].requests_per_second
    # the goals are for the production layout; the embedded one is for a single machine
    goals = {} if args.embedded else {"archive page": 0.8, "signup POST": 0.5}
    lines = [
        "# Web benchmarks" + (" (embedded layout)" if args.embedded else ""),
        "",
        f"`.venv/bin/python bench/web.py{' --embedded' if args.embedded else ''}` — wrk "
        "against gunicorn on loopback, all endpoints of",
        "the same app in the same run, measured one after the other.",
        "",
        f"- machine: {os.cpu_count()} cores (`nproc`), {platform.machine()}, "
        f"Python {platform.python_version()}",
        f"- gunicorn sync workers: {args.workers}; wrk: {min(2, args.connections)} threads, "
        f"{args.connections} connections; {args.rounds} interleaved rounds of {args.seconds} s "
        "per endpoint after a 2 s warm-up; medians of the rounds",
        f"- {layout(args)}",
        "",
        "| endpoint | requests/s | (rounds: min-max) | p99 | ratio to trivial | goal |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        ratio = result.requests_per_second / trivial
        goal = goals.get(result.name)
        goal_text = f">= {goal}x ({'met' if ratio >= goal else 'missed'})" if goal else ""
        lines.append(
            f"| {result.name} | {result.requests_per_second:.0f} "
            f"| {result.slowest_round:.0f}-{result.fastest_round:.0f} | {result.p99_ms:.1f} ms "
            f"| {ratio:.2f}x | {goal_text} |"
        )
    errors = sum(result.non_2xx_3xx for result in results)
    notes = EMBEDDED_NOTES if args.embedded else PRODUCTION_NOTES
    lines += ["", f"Non-2xx/3xx responses in the measured runs: {errors}.", ""]
    lines += ["What the figures mean:", "", *notes, ""]
    report = REPORTS / ("web-embedded.md" if args.embedded else "web.md")
    report.parent.mkdir(exist_ok=True)
    report.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {report.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--embedded", action="store_true", help="SQLite and no Redis instead of production"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    write_report(measure(args), args)


if __name__ == "__main__":
    main()
