"""A ready digest's infographic, rendered once when the digest is built and stored in the
database (``digest_infographics``), so that the archive, the Jekyll export, the email and
the preview all serve the same bytes and nothing renders it per request.

The figures of our own that it charts (the topic's items per day for the week up to the
digest) are read here, at build time; the drawing itself is ``render.infographic``.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from newsletter.config import Settings
from newsletter.digest.build import news_window
from newsletter.digest.schema import DigestContent
from newsletter.models import Digest, DigestInfographic, DigestStatus, Item, Topic
from newsletter.render.html import EmailImage
from newsletter.render.infographic import DayCount, InfographicFacts, render_infographic

CHART_DAYS = 7
log = logging.getLogger(__name__)


def gather_facts(session: Session, topic: Topic, day: date) -> InfographicFacts:
    """The topic's news items in each daily window of the week ending on ``day``: the
    same 24-hour windows a digest is written from."""
    counts = []
    for back in range(CHART_DAYS - 1, -1, -1):
        when = day - timedelta(days=back)
        start, end = news_window(topic, when)
        count = session.scalar(
            select(func.count())
            .select_from(Item)
            .where(Item.topic_id == topic.id, Item.published_at > start, Item.published_at <= end)
        )
        counts.append(DayCount(when, count or 0))
    return InfographicFacts(tuple(counts), counts[-1].items)


def ensure_infographic(session: Session, digest: Digest) -> DigestInfographic | None:
    """The digest's stored infographic, rendered and stored now if it has none; None for a
    digest that is not ready, or when rendering fails (logged: the digest goes out
    without a picture rather than not at all)."""
    if digest.status != DigestStatus.READY or digest.content is None:
        return None
    stored = session.get(DigestInfographic, digest.id)
    if stored is not None:
        return stored
    content = DigestContent.model_validate(digest.content)
    try:
        rendered = render_infographic(content, gather_facts(session, digest.topic, digest.date))
    except Exception:  # whatever breaks the picture must not take the digest with it
        log.exception("could not render the infographic of digest #%s", digest.id)
        return None
    row = DigestInfographic(
        digest_id=digest.id,
        png=rendered.png,
        sha256=hashlib.sha256(rendered.png).hexdigest(),
        alt=rendered.alt,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another worker stored it first: same digest, same bytes
        return session.get(DigestInfographic, digest.id)
    return row


def infographic_url(settings: Settings, digest: Digest) -> str:
    """The absolute URL the archive serves the digest's infographic at."""
    return (
        f"{settings.base_url}/archive/{digest.topic.slug}/{digest.date.isoformat()}"
        f"/infographic.png?lang={digest.language}"
    )


def email_infographic(settings: Settings, digest: Digest) -> EmailImage | None:
    """The infographic to show at the top of the digest's email: only when
    NEWSLETTER_EMAIL_INFOGRAPHIC is on and the digest has one stored."""
    session = object_session(digest)
    if not settings.email_infographic or session is None:
        return None
    picture = session.get(DigestInfographic, digest.id)
    if picture is None:
        return None
    return EmailImage(infographic_url(settings, digest), picture.alt)
