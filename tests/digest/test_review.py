"""Review before send in the digest layer: the status a build gives, deadlines in the
topic's time zone, expiry, and a build that leaves an operator's decision alone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from newsletter.db import Database
from newsletter.digest import review
from newsletter.digest.build import build_digest
from newsletter.digest.offline import OfflineWriter
from newsletter.models import Digest, DigestStatus, ReviewMode, Topic
from tests.digest.news_items import DAY


def _build(db: Database, language: str = "en") -> Digest:
    with db.session() as session:
        topic = session.scalars(select(Topic)).one()
        return build_digest(session, topic, DAY, language, OfflineWriter()).digest


def test_a_topic_with_review_required_builds_digests_that_wait(db: Database, news: int) -> None:
    assert _build(db, "en").status == DigestStatus.READY
    with db.session() as session:
        session.get_one(Topic, news).review = ReviewMode.REQUIRED
    assert _build(db, "zh-TW").status == DigestStatus.AWAITING_REVIEW


@pytest.mark.parametrize(
    "decided", [DigestStatus.AWAITING_REVIEW, DigestStatus.REJECTED, DigestStatus.EXPIRED]
)
def test_building_again_leaves_a_review_decision_alone(
    db: Database, news: int, decided: DigestStatus
) -> None:
    with db.session() as session:
        session.get_one(Topic, news).review = ReviewMode.REQUIRED
    first = _build(db)
    with db.session() as session:
        session.get_one(Digest, first.id).status = decided
    again = _build(db)
    assert again.id == first.id and again.status == decided


def test_the_deadline_is_the_send_time_in_the_topics_zone_plus_the_grace(
    db: Database, news: int
) -> None:
    with db.session() as session:
        topic = session.get_one(Topic, news)
        topic.review, topic.timezone, topic.send_time = (
            ReviewMode.REQUIRED,
            "Asia/Taipei",
            time(8, 0),
        )
    digest_id = _build(db).id
    grace = timedelta(minutes=90)
    with db.session() as session:
        digest = session.get_one(Digest, digest_id)
        deadline = review.review_deadline(digest, grace)
        assert deadline.astimezone(UTC) == datetime(2026, 1, 12, 1, 30, tzinfo=UTC)
        assert review.expire_overdue(session, grace, now=deadline) == []
        expired = review.expire_overdue(session, grace, now=deadline + timedelta(seconds=1))
        assert [d.id for d in expired] == [digest_id]
    with db.session() as session, pytest.raises(review.ReviewError):
        review.approve(session, session.get_one(Digest, digest_id), "ops@example.com", grace)
