"""What several blueprints share: token reading and topic choices."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.app import services
from newsletter.models import Topic
from newsletter.tokens import Purpose, Tokens


def tokens() -> Tokens:
    return Tokens(services().settings.secret_key)


def token_for(purpose: Purpose, subscriber_id: int) -> str:
    """A token for ``subscriber_id`` (used to move between the reader's own pages)."""
    return tokens().make(purpose, subscriber_id)


def all_topics(session: Session) -> list[Topic]:
    return list(session.scalars(select(Topic).order_by(Topic.name)))
