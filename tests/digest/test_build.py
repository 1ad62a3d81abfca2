"""Building a digest: idempotent, windowed, and grounded on stored items."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.digest.build import NothingToWrite, assemble, items_in_window, news_window
from newsletter.digest.offline import OfflineWriter
from newsletter.digest.schema import DigestContent
from newsletter.digest.writer import WriterError
from newsletter.models import Digest, DigestStatus, Item, Topic
from newsletter.services import Services
from newsletter.sources.dedupe import cluster_stories


@pytest.fixture
def fetched(db: Database, settings: Settings) -> Database:
    with db.session() as session:
        seed_demo(session, settings.suppression_key)
    steps.fetch(Services(settings, db), "claude")
    return db


def test_build_twice_keeps_one_digest_per_language(fetched: Database, settings: Settings) -> None:
    first = steps.build(Services(settings, fetched), "claude", SAMPLE_DATE, ["en"])
    second = steps.build(Services(settings, fetched), "claude", SAMPLE_DATE, ["en"])
    assert first[0].created and not second[0].created
    assert first[0].digest.id == second[0].digest.id
    with fetched.session() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 1


def test_digest_uses_only_items_in_the_window(fetched: Database, settings: Settings) -> None:
    (outcome,) = steps.build(Services(settings, fetched), "claude", SAMPLE_DATE, ["en"])
    content = DigestContent.model_validate(outcome.digest.content)
    with fetched.session() as session:
        topic = session.scalar(select(Topic))
        start, end = news_window(topic, SAMPLE_DATE)
        items = {item.id: item for item in session.scalars(select(Item))}
    assert content.sources, "the digest cites its items"
    for source in content.sources:
        item = items[source.item_id]
        assert start < item.published_at <= end
        assert source.url == item.canonical_url
    assert "claude-in-chrome" not in outcome.digest.content.__repr__()  # published a week before


def test_every_section_is_filled_from_facts_or_left_out(
    fetched: Database, settings: Settings
) -> None:
    (outcome,) = steps.build(Services(settings, fetched), "claude", SAMPLE_DATE, ["zh-TW"])
    content = DigestContent.model_validate(outcome.digest.content)
    assert content.title == "CLAUDE 每日動態 - 2026-01-12"
    # the tagline counts the stories the digest cites, not their items (issue 12)
    cited = {source.item_id for source in content.sources}
    with fetched.session() as session:
        topic = session.scalars(select(Topic)).one()
        stories = cluster_stories(items_in_window(session, topic, SAMPLE_DATE))
    count = sum(any(item.id in cited for item in story.items) for story in stories)
    assert count < len(content.sources)
    assert content.tagline == f"彙整 {count} 則 CLAUDE 相關新聞"
    assert len(content.summary) == 3 and len(content.highlights) == 3
    assert all(len(h.item_ids) >= 1 for h in content.highlights)
    assert content.trends and 3 <= len(content.key_points) <= 5
    # the day's Chinese sentences about a competitor (xAI) are said once, in the highlights
    # and summary; nothing new is left for the analysis, which is left out, not repeated
    said = [*content.summary, *(h.body for h in content.highlights)]
    assert sum("xAI" in sentence for sentence in said) == 1
    assert content.analysis.industry == content.analysis.competition == ""
    assert content.analysis.market == ""
    assert content.further_thinking.developers == content.further_thinking.everyday_users == []
    assert outcome.digest.writer == "offline"


def test_no_news_in_the_window_writes_nothing(fetched: Database, settings: Settings) -> None:
    with pytest.raises(NothingToWrite):
        steps.build(Services(settings, fetched), "claude", date(2025, 6, 1), ["en"])
    with fetched.session() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 0


def test_a_digest_citing_an_unknown_item_is_rejected(fetched: Database) -> None:
    with fetched.session() as session:
        topic = session.scalar(select(Topic))
        items = list(session.scalars(select(Item)))
        from newsletter.digest.writer import WriteRequest
        from newsletter.sources.dedupe import cluster_stories

        request = WriteRequest("Claude", SAMPLE_DATE, "en", cluster_stories(items))
        written = OfflineWriter().write(request).digest
        written.highlights[0].item_ids.append(999_999)
        with pytest.raises(WriterError, match="999999"):
            assemble(topic, SAMPLE_DATE, "en", written, items)


def test_offline_writer_is_deterministic(fetched: Database, settings: Settings) -> None:
    (first,) = steps.build(Services(settings, fetched), "claude", SAMPLE_DATE, ["en"])
    with fetched.session() as session:
        session.delete(session.get(Digest, first.digest.id))
    (second,) = steps.build(Services(settings, fetched), "claude", SAMPLE_DATE, ["en"])
    assert first.digest.content == second.digest.content
    assert second.digest.status == DigestStatus.READY


def test_a_digest_built_before_its_window_closed_is_written_again_after(
    fetched: Database, settings: Settings
) -> None:
    """A preview built early does not freeze the day: the run after the window closes
    writes it again, unless it was sent already."""
    app = Services(settings, fetched)
    (early,) = steps.build(app, "claude", SAMPLE_DATE, ["en"])
    with fetched.session() as session:
        topic = session.scalar(select(Topic))
        _, end = news_window(topic, SAMPLE_DATE)
        digest = session.get_one(Digest, early.digest.id)
        digest.created_at = end - timedelta(hours=2)  # as if built at dawn
    (later,) = steps.build(app, "claude", SAMPLE_DATE, ["en"])
    assert later.created and later.digest.id == early.digest.id
    assert later.digest.created_at > end
    (kept,) = steps.build(app, "claude", SAMPLE_DATE, ["en"])
    assert not kept.created  # written once after the window: kept from then on

    with fetched.session() as session:
        digest = session.get_one(Digest, early.digest.id)
        digest.created_at = end - timedelta(hours=2)
        digest.fan_out_requested_at = end  # it went out as it was
    (sent,) = steps.build(app, "claude", SAMPLE_DATE, ["en"])
    assert not sent.created
