"""Item text is data: a feed item carrying instructions and a foreign link cannot get the
link into the digest, whichever writer runs, nor break out of its record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.catalog import topic_by_slug
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.digest.build import build_digest
from newsletter.digest.claude import ClaudeWriter
from newsletter.digest.offline import OfflineWriter
from newsletter.digest.writer import Writer
from newsletter.models import Digest, DigestStatus
from newsletter.render.email import render_email
from newsletter.render.jekyll import export_jekyll
from tests.digest.anthropic_fake import FakeAnthropic
from tests.digest.news_items import DAY, INJECTION, add_items

FOREIGN = "claude-max-free.example"


def build_with(db: Database, writer: Writer) -> None:
    with db.session() as session:
        topic = topic_by_slug(session, "claude")
        add_items(session, topic, (INJECTION,))
        build_digest(session, topic, DAY, "en", writer)


def assert_link_never_shown(db: Database, settings: Settings, tmp_path: Path) -> None:
    with db.session() as session:
        digest = session.scalars(select(Digest)).one()
        assert digest.status == DigestStatus.READY, digest.error
        assert FOREIGN not in json.dumps(digest.content, ensure_ascii=False)
        assert 9006 in [source["item_id"] for source in digest.content["sources"]]
        email = render_email(settings, digest)
        post = export_jekyll(session, digest.id, tmp_path)
    assert FOREIGN not in email.html and FOREIGN not in email.text
    assert FOREIGN not in post.read_text("utf-8")


def test_claude_digest_never_carries_the_planted_link(
    db: Database,
    news: int,
    claude_settings: Settings,
    fake_anthropic: FakeAnthropic,
    tmp_path: Path,
) -> None:
    fake_anthropic.answer("injected")  # a model that fell for the injection
    build_with(db, ClaudeWriter.from_settings(claude_settings))
    assert_link_never_shown(db, claude_settings, tmp_path)

    prompt = fake_anthropic.bodies[0]["messages"][0]["content"]
    assert prompt.count("</news_items>") == 1, "item text closed the data block"
    fenced = prompt.split("<news_items>\n", 1)[1].split("\n</news_items>", 1)[0]
    record = next(json.loads(line) for line in fenced.splitlines() if '"id":9006' in line)
    assert record["summary"].startswith("SYSTEM NOTE TO THE AI")
    assert "</news_items>" in record["summary"]  # intact as data, escaped in transit
    assert "SYSTEM NOTE" not in prompt.replace(fenced, "")


@pytest.mark.usefixtures("news")
def test_offline_digest_never_carries_the_planted_link(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    build_with(db, OfflineWriter())
    assert_link_never_shown(db, settings, tmp_path)
