"""`newsletter preview`: files on disk, and the small local preview app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from flask import Flask

from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.render.placeholders import PREFERENCES, UNSUBSCRIBE
from newsletter.render.preview import preview_app
from newsletter.services import Services
from tests.loopback import free_port
from tests.support import cli_runner


@pytest.fixture
def digest_ids(db: Database, settings: Settings) -> dict[str, int]:
    with db.session() as session:
        seed_demo(session, settings.suppression_key)
    steps.fetch(Services(settings, db), "claude")
    outcomes = steps.build(Services(settings, db), "claude", SAMPLE_DATE, ["en", "zh-TW"])
    return {outcome.digest.language: outcome.digest.id for outcome in outcomes}


def test_preview_writes_the_html_and_text_parts(
    app: Flask, digest_ids: dict[str, int], tmp_path: Path
) -> None:
    digest_id = digest_ids["zh-TW"]
    result = cli_runner(app).invoke(args=["preview", str(digest_id), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    html = (tmp_path / f"digest-{digest_id}.html").read_text(encoding="utf-8")
    text = (tmp_path / f"digest-{digest_id}.txt").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and 'lang="zh-TW"' in html
    assert "CLAUDE 每日動態 - 2026-01-12" in text
    for part in (html, text):
        assert UNSUBSCRIBE not in part and PREFERENCES not in part
        assert "https://news.example.org/unsubscribe/preview" in part
    assert f"digest-{digest_id}.html" in result.output


def test_preview_of_an_unknown_digest_fails_clearly_and_writes_nothing(
    app: Flask, digest_ids: dict[str, int], tmp_path: Path
) -> None:
    target = tmp_path / "out"
    result = cli_runner(app).invoke(args=["preview", "9999", "-o", str(target)])
    assert result.exit_code == 1
    assert "no ready digest #9999" in result.output
    assert "Traceback" not in result.output
    assert not target.exists()


def test_the_preview_app_serves_the_email_views(
    db: Database, settings: Settings, digest_ids: dict[str, int]
) -> None:
    digest_id = digest_ids["en"]
    client = preview_app(db, settings, digest_id).test_client()
    index = client.get("/")
    assert index.status_code == 200
    page = index.get_data(as_text=True)
    assert f'src="/digest/{digest_id}.html" width="375"' in page
    assert f'src="/digest/{digest_id}.html" width="600"' in page
    html = client.get(f"/digest/{digest_id}.html")
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert "CLAUDE Daily Digest - 2026-01-12" in html.get_data(as_text=True)
    text = client.get(f"/digest/{digest_ids['zh-TW']}.txt")
    assert text.mimetype == "text/plain" and "三句話摘要" in text.get_data(as_text=True)
    assert client.get("/digest/9999.html").status_code == 404
    assert client.get("/digest/x.html").status_code == 404


def test_preview_serve_runs_a_local_server(
    database_url: str, digest_ids: dict[str, int], tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "NEWSLETTER_DATABASE_URL": database_url,
        "NEWSLETTER_INSTANCE_DIR": str(tmp_path),
        "NEWSLETTER_BASE_URL": "https://news.example.org",
    }
    newsletter = str(Path(sys.executable).parent / "newsletter")
    command = [newsletter, "preview", str(digest_ids["en"])]
    server = subprocess.Popen(
        [*command, "-o", str(tmp_path / "out"), "--serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert server.stdout is not None
        started = []
        for line in server.stdout:  # ready once werkzeug says it listens; EOF if it died
            started.append(line.decode(errors="replace"))
            if "Running on" in started[-1]:
                break
        assert "Running on" in "".join(started), "".join(started)
        response = httpx.get(f"http://127.0.0.1:{port}/digest/{digest_ids['en']}.txt")
        assert response.status_code == 200
        assert "CLAUDE Daily Digest - 2026-01-12" in response.text
        assert (tmp_path / "out" / f"digest-{digest_ids['en']}.html").exists()
    finally:
        server.terminate()
        server.wait(timeout=10)
