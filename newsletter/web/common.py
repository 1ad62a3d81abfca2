"""What several blueprints share: token reading and topic choices."""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import Subscriber, Topic
from newsletter.services import current
from newsletter.tokens import Claim, Purpose, Tokens


def tokens() -> Tokens:
    return Tokens(current().settings.secret_key)


def token_for(purpose: Purpose, subscriber: Subscriber) -> str:
    """A token for ``subscriber`` (used to move between the reader's own pages)."""
    return tokens().make(purpose, subscriber.id, subscriber.link_key)


def owner(session: Session, claim: Claim) -> Subscriber | None:
    """The subscriber a valid token was made for, or None once their row is gone.

    A row under the same id with another link key is someone else (a restored or reset
    database handed the id out again): their data stays out of reach of the old link.
    """
    subscriber = session.get(Subscriber, claim.subscriber_id)
    return subscriber if claim.belongs_to(subscriber) else None


def all_topics(session: Session) -> list[Topic]:
    return list(session.scalars(select(Topic).order_by(Topic.name)))


TOPIC_CHOICES_TTL = 60.0


def topic_choices() -> list[tuple[str, str]]:
    """(slug, name) of every topic for the public signup form, read at most once a
    minute per process: a topic added with ``newsletter topics add`` shows within it."""
    cached = current_app.extensions.get("newsletter_topic_choices")
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    with current().db.session() as session:
        choices = [(topic.slug, topic.name) for topic in all_topics(session)]
    current_app.extensions["newsletter_topic_choices"] = (now + TOPIC_CHOICES_TTL, choices)
    return choices
