"""The infographic of each ready digest: rendered once at build time, stored, and
exported beside the Jekyll post (built into a site by the real Jekyll)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.digest.build import news_window
from newsletter.models import Digest, DigestInfographic, DigestStatus, Item, Topic
from newsletter.render.infographic_store import ensure_infographic, gather_facts
from newsletter.services import Services
from tests.support import cli_runner

IMAGE = f"assets/img/posts/{SAMPLE_DATE}-claude-infographic.png"  # the primary language's
IMAGE_EN = f"assets/img/posts/{SAMPLE_DATE}-claude-infographic-en.png"


@pytest.fixture
def built(db: Database, settings: Settings) -> dict[str, int]:
    with db.session() as session:
        seed_demo(session, settings.suppression_key)
    steps.fetch(Services(settings, db), "claude")
    outcomes = steps.build(Services(settings, db), "claude", SAMPLE_DATE, ["en", "zh-TW"])
    return {outcome.digest.language: outcome.digest.id for outcome in outcomes}


def test_every_ready_digest_gets_its_picture_once(
    db: Database, settings: Settings, built: dict[str, int]
) -> None:
    with db.session() as session:
        stored = {row.digest_id: row for row in session.scalars(select(DigestInfographic))}
        assert set(stored) == set(built.values())
        for row in stored.values():
            assert row.sha256 == hashlib.sha256(row.png).hexdigest()
            assert Image.open(BytesIO(row.png)).size == (1200, 630)
            assert len(row.png) < 300_000
        before = {i: (row.sha256, row.created_at) for i, row in stored.items()}
    steps.build(Services(settings, db), "claude", SAMPLE_DATE, ["en", "zh-TW"])
    with db.session() as session:
        rows = list(session.scalars(select(DigestInfographic)))
        assert {row.digest_id: (row.sha256, row.created_at) for row in rows} == before
        alt = session.get_one(DigestInfographic, built["zh-TW"]).alt
    assert alt.startswith("Claude 每日動態，2026 年 1 月 12 日")


def test_a_digest_built_before_pictures_gets_one_on_its_next_build(
    db: Database, settings: Settings, built: dict[str, int]
) -> None:
    with db.session() as session:
        session.delete(session.get_one(DigestInfographic, built["en"]))
    steps.build(Services(settings, db), "claude", SAMPLE_DATE, ["en"])
    with db.session() as session:
        assert session.get(DigestInfographic, built["en"]) is not None


def test_the_chart_counts_the_topics_items_of_each_daily_window(
    db: Database, built: dict[str, int]
) -> None:
    with db.session() as session:
        topic = session.scalar(select(Topic))
        facts = gather_facts(session, topic, SAMPLE_DATE)
        published = list(session.scalars(select(Item.published_at)))
        days = [SAMPLE_DATE - timedelta(days=back) for back in range(6, -1, -1)]
        assert [count.day for count in facts.daily_items] == days
        for count in facts.daily_items:
            start, end = news_window(topic, count.day)
            assert count.items == sum(start < moment <= end for moment in published)
        assert facts.items_read == facts.daily_items[-1].items > 0
        assert sum(c.items for c in facts.daily_items[:-1]) > 0  # the older sample item
        assert session.scalar(select(func.count()).select_from(Digest)) == 2


def test_a_failed_digest_has_no_picture(db: Database, built: dict[str, int]) -> None:
    with db.session() as session:
        digest = session.get_one(Digest, built["en"])
        digest.status, digest.content = DigestStatus.FAILED, None
        session.delete(session.get_one(DigestInfographic, built["en"]))
        session.flush()
        assert ensure_infographic(session, digest) is None


def test_export_writes_the_picture_where_the_front_matter_points(
    app: Flask, db: Database, built: dict[str, int], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = cli_runner(app).invoke(args=["export-jekyll", str(built["en"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    post = (out / f"{SAMPLE_DATE}-claude-daily-en.md").read_text(encoding="utf-8")
    assert f"image: //{IMAGE_EN}\n" in post
    with db.session() as session:
        png = session.get_one(DigestInfographic, built["en"]).png
    assert (out / IMAGE_EN).read_bytes() == png
    assert not (out / IMAGE).exists()


def test_jekyll_builds_the_exported_post_with_its_picture(
    app: Flask, db: Database, built: dict[str, int], tmp_path: Path
) -> None:
    """The post goes to a site's _posts/, the picture to the site's assets/; the real
    Jekyll builds the site, and the image the built post names is in it."""
    jekyll = shutil.which("jekyll")
    assert jekyll, "Debian's jekyll is not installed (scripts/test installs it)"
    site = tmp_path / "site"
    (site / "_layouts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: Digest\nmarkdown: kramdown\n", encoding="utf-8")
    (site / "_layouts" / "post.html").write_text(
        '<!doctype html><title>{{ page.title }}</title><img src="{{ page.image }}" alt="">'
        "{{ content }}",
        encoding="utf-8",
    )
    runner = cli_runner(app)
    for digest_id in built.values():
        result = runner.invoke(args=["export-jekyll", str(digest_id), "-o", str(site / "_posts")])
        assert result.exit_code == 0, result.output
    completed = subprocess.run(
        [jekyll, "build", "--source", str(site), "--destination", str(site / "_site")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    pages = {page.name: page for page in (site / "_site").rglob("*.html")}
    assert set(pages) == {"claude-daily.html", "claude-daily-en.html"}
    for language, page, image in (
        ("zh-TW", "claude-daily.html", IMAGE),
        ("en", "claude-daily-en.html", IMAGE_EN),
    ):
        html = pages[page].read_text(encoding="utf-8")
        named = html.split('<img src="', 1)[1].split('"', 1)[0]
        assert named == f"//{image}"
        with db.session() as session:
            png = session.get_one(DigestInfographic, built[language]).png
        assert (site / "_site" / named.lstrip("/")).read_bytes() == png
