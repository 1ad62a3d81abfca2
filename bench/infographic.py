"""The infographic's cost next to the digest's own HTML render, side by side in one run.

Builds the demo digests (en, zh-TW) through the real pipeline in a throwaway SQLite
database, then times, per language:

- drawing the infographic (Pillow, Noto Sans CJK) and encoding the PNG, the first call
  of the process (fonts loaded) and the median of later calls;
- the digest's full HTML render, uncached (Jinja2 + MJML compile + premailer);

and writes the figures to docs/benchmarks/infographic.md. Goals: under 1 s a picture,
under 300 KB.

    .venv/bin/python bench/infographic.py [--renders 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from newsletter import migrate
from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.digest.schema import DigestContent
from newsletter.models import Digest
from newsletter.render.fonts import font
from newsletter.render.frame import EmailFrame
from newsletter.render.html import compile_mjml, digest_mjml
from newsletter.render.infographic import InfographicFacts, render_infographic
from newsletter.render.infographic_store import gather_facts
from newsletter.services import Services

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "benchmarks" / "infographic.md"
FRAME = EmailFrame(
    "AI Daily Digest",
    "AI Daily Digest, 1 Example Street, Taipei",
    "https://news.example.org/archive/claude/2026-01-12",
    "https://news.example.org/",
    "https://news.example.org/privacy",
)


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def build(folder: Path) -> dict[str, tuple[DigestContent, InfographicFacts]]:
    """The demo digests and the facts their pictures chart, from the real pipeline."""
    settings = Settings(instance_dir=folder, outbox_dir=folder / "outbox")
    migrate.upgrade(settings.database_url)
    db = Database(settings.database_url)
    with db.session() as session:
        seed_demo(session, settings.suppression_key)
    steps.fetch(Services(settings, db), "claude")
    steps.build(Services(settings, db), "claude", SAMPLE_DATE, ["en", "zh-TW"])
    with db.session() as session:
        built = {
            digest.language: (
                DigestContent.model_validate(digest.content),
                gather_facts(session, digest.topic, digest.date),
            )
            for digest in session.scalars(select(Digest))
        }
    db.dispose()
    return built


def measure(content: DigestContent, facts: InfographicFacts, renders: int) -> dict[str, float]:
    def picture() -> bytes:
        return render_infographic(content, facts).png

    def html() -> str:
        return compile_mjml(digest_mjml(content, FRAME))

    pictures, pages = [], []
    for _ in range(renders):  # interleaved, so that both see the same machine load
        pictures.append(timed(picture))
        pages.append(timed(html))
    return {
        "picture": statistics.median(pictures),
        "html": statistics.median(pages),
        "png_bytes": len(picture()),
    }


def report(results: dict[str, dict[str, float]], first: float, renders: int) -> str:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms"

    lines = [
        "# Benchmark: the digest's infographic (`bench/infographic.py`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU(s) "
        f"(`nproc`), {platform.machine()} (`uname -m`), Python {platform.python_version()}; "
        f"median of {renders} renders each, the two kinds interleaved in one run.",
        "The digests are the demo digests built by the real pipeline.",
        "",
        "| | en | zh-TW |",
        "|---|---|---|",
    ]
    rows = [
        ("Infographic: draw + PNG encode", lambda f: ms(f["picture"])),
        ("Digest HTML: full render, uncached", lambda f: ms(f["html"])),
        ("Infographic / HTML render", lambda f: f"{f['picture'] / f['html']:.2f}×"),
        ("PNG size (goal < 300 KB)", lambda f: f"{f['png_bytes'] / 1024:.0f} KB"),
    ]
    for name, cell in rows:
        lines.append(f"| {name} | {cell(results['en'])} | {cell(results['zh-TW'])} |")
    lines += [
        "",
        f"The first picture of a process, fonts loaded from the wheel: {ms(first)}.",
        "The goal is under 1 s a picture; it is drawn once per digest and language, at build",
        "time, and served from the database afterwards.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        built = build(Path(folder))
        content, facts = built["en"]
        font.cache_clear()  # as in a fresh process: the first picture loads the fonts
        first = timed(lambda: render_infographic(content, facts))
        results = {
            language: measure(content, facts, args.renders)
            for language, (content, facts) in built.items()
        }
    text = report(results, first, args.renders)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(text, encoding="utf-8")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
