"""Review before send in the daily chain: tell the operators what waits, approve (the
job then fans it out), and expire what was not approved in time (the sweeper's check)."""

from __future__ import annotations

import logging
from datetime import timedelta

from newsletter.admins import operator_addresses
from newsletter.config import Settings
from newsletter.delivery.operator_notices import notify_operators
from newsletter.digest import review
from newsletter.digest.build import BuildOutcome
from newsletter.models import Digest, DigestStatus
from newsletter.review_tokens import review_url
from newsletter.services import Services

log = logging.getLogger(__name__)


def grace(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.review_grace_minutes)


def _line(settings: Settings, digest: Digest) -> dict[str, str]:
    deadline = review.review_deadline(digest, grace(settings))
    return {
        "topic": digest.topic.name,
        "date": digest.date.isoformat(),
        "language": digest.language,
        "deadline": f"{deadline:%Y-%m-%d %H:%M %Z}",
        "link": review_url(settings.base_url, settings.secret_key, digest.id),
    }


def request_reviews(app: Services, outcomes: list[BuildOutcome]) -> list[int]:
    """Email the operators about the digests just built that wait for review; their ids."""
    ids = [
        o.digest.id
        for o in outcomes
        if o.created and o.digest.status == DigestStatus.AWAITING_REVIEW
    ]
    if ids:
        with app.db.session() as session:
            lines = [_line(app.settings, session.get_one(Digest, i)) for i in ids]
            operators = operator_addresses(session)
        if not operators:
            log.warning(
                "%d digest(s) await review and there is no operator to tell: add one with "
                "`newsletter admins add EMAIL`",
                len(ids),
            )
        notify_operators(app.settings, operators, "review", lines)
    return ids


def approve(app: Services, digest_id: int, reviewer: str) -> None:
    """Mark the digest ready (ReviewError if it cannot be); the caller fans it out."""
    with app.db.session() as session:
        digest = session.get_one(Digest, digest_id)
        review.approve(session, digest, reviewer, grace(app.settings))


def expire_overdue(app: Services) -> list[int]:
    """Expire the digests not approved by their deadline and tell the operators; their ids."""
    with app.db.session() as session:
        expired = review.expire_overdue(session, grace(app.settings))
        lines = [_line(app.settings, digest) for digest in expired]
        operators = operator_addresses(session)
        ids = [digest.id for digest in expired]
    notify_operators(app.settings, operators, "expired", lines)
    return ids
