"""feedparser's own test corpus (about 2,000 real and ill-formed feeds, shipped in its
sdist, not its wheel) through our read path: no unexpected exception.

The sdist of the installed version is downloaded once into ``.cache/feedparser`` (by
scripts/test, or here on first use) with pip; the test is skipped, saying so, only when
the package registry cannot be reached.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import feedparser
import pytest

from newsletter.sources.feed import FeedError, read
from newsletter.sources.fetch import Fetched
from newsletter.sources.ingest import validate_entries
from newsletter.sources.spec import SourceSpec

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "feedparser"
VERSION = feedparser.__version__
PIP_DOWNLOAD = [
    sys.executable,
    "-m",
    "pip",
    "download",
    "--quiet",
    "--no-deps",
    "--no-binary",
    ":all:",
]
CORPORA = ("wellformed", "illformed", "entities", "encoding", "compression", "http")


def corpus() -> Path:
    """The unpacked ``tests`` folder of the feedparser sdist, downloaded if need be."""
    unpacked = CACHE / f"feedparser-{VERSION}" / "tests"
    if unpacked.is_dir():
        return unpacked
    archive = CACHE / f"feedparser-{VERSION}.tar.gz"
    if not archive.exists():
        done = subprocess.run(
            [*PIP_DOWNLOAD, f"feedparser=={VERSION}", "-d", str(CACHE)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0 or not archive.exists():
            pytest.skip(f"cannot download the feedparser {VERSION} sdist: {done.stderr[-300:]}")
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if "/tests/" in m.name and m.isfile()]
        tar.extractall(CACHE, members=members, filter="data")
    return unpacked


def test_feedparser_corpus_through_our_read_path() -> None:
    files = [
        path
        for name in CORPORA
        for path in sorted((corpus() / name).rglob("*"))
        if path.is_file() and path.suffix not in (".py", ".pyc")
    ]
    assert len(files) > 1500
    spec = SourceSpec(1, "rss", "Corpus", "http://127.0.0.1:9/feed", None)
    unexpected: list[str] = []
    read_entries = usable_entries = 0
    for path in files:
        fetched = Fetched(
            f"http://127.0.0.1:9/{path.name}",
            False,
            path.read_bytes(),
            "application/xml",
            None,
            None,
            1,
        )
        try:
            entries = read(fetched, spec)
        except FeedError:
            continue
        except Exception as error:
            unexpected.append(f"{path.relative_to(corpus())}: {type(error).__name__}: {error}")
            continue
        try:
            usable, _ = validate_entries(entries)
        except Exception as error:
            unexpected.append(f"{path.relative_to(corpus())} (validate): {error!r}")
            continue
        read_entries += len(entries)
        usable_entries += len(usable)
    assert unexpected == []
    assert read_entries > 500 and usable_entries > 0  # it did read the feeds
