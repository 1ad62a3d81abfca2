"""How long ``newsletter --help`` takes, side by side with a bare interpreter start and
with importing the site (what the command group used to load to list its commands).
Goal: under 0.4 s on the development machine. Writes docs/benchmarks/cli.md.

    .venv/bin/python bench/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "cli.md"
NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
CASES = {
    "bare interpreter (`python -c pass`)": [sys.executable, "-c", "pass"],
    "`newsletter --help`": [NEWSLETTER, "--help"],
    "importing the site (`import newsletter.app, newsletter.web`)": [
        sys.executable,
        "-c",
        "import newsletter.app, newsletter.web",
    ],
}


def median_seconds(command: list[str], runs: int, cwd: str) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as cwd:
        results = {name: median_seconds(command, runs, cwd) for name, command in CASES.items()}
    bare = results["bare interpreter (`python -c pass`)"]
    rows = [
        f"| {name} | {seconds * 1000:.0f} ms | {seconds / bare:.1f}x |"
        for name, seconds in results.items()
    ]
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    page = "\n".join(
        [
            "# CLI start-up",
            "",
            f"Median of {runs} runs each, {date.today()}, {machine}.",
            "`newsletter --help` lists its commands from a static table and imports a",
            "command's module only when that command runs (goal: under 0.4 s).",
            "",
            "| what | median | vs a bare interpreter |",
            "|---|---|---|",
            *rows,
            "",
        ]
    )
    REPORT.write_text(page, encoding="utf-8")
    print(page)


if __name__ == "__main__":
    main()
