"""The demo data set: a `claude` topic on the bundled sample feeds and a few readers."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from newsletter.catalog import add_source, add_subscriber, add_topic
from newsletter.config import Settings
from newsletter.models import Item, Source, Subscriber, Topic
from newsletter.sources.sample_transport import SCHEME, sample_url
from newsletter.subscriptions import unsubscribe

SAMPLE_DATE = date(2026, 1, 12)  # the bundled sample news was published on the 11th-12th
SAMPLE_FEEDS = (
    ("Anthropic", "anthropic-news.xml"),
    ("Hacker News", "hacker-news.xml"),
    ("Reddit", "reddit-claudeai.xml"),
    ("Tech press", "tech-press.xml"),
    ("Taiwan tech press", "tw-tech-press.xml"),
)
SAMPLE_READERS = (
    ("ada@example.com", "en", "confirmed"),
    ("grace@example.com", "en", "confirmed"),
    ("mei@example.com", "zh-TW", "confirmed"),
    ("pending@example.com", "en", "pending"),
    ("left@example.com", "zh-TW", "unsubscribed"),
)


def seed_demo(session: Session, hash_key: bytes) -> Topic:
    """Create the demo topic and readers unless they exist; returns the topic."""
    topic = session.scalar(select(Topic).where(Topic.slug == "claude"))
    if topic is None:
        topic = add_topic(
            session,
            "claude",
            "Claude",
            keywords=["Claude", "Anthropic"],
            languages=["zh-TW", "en"],
            timezone="UTC",
            send_time="08:00",
        )
        for name, filename in SAMPLE_FEEDS:
            add_source(session, topic, "rss", name, sample_url(filename))
    for address, language, status in SAMPLE_READERS:
        if session.scalar(select(Subscriber.id).where(Subscriber.email == address)):
            continue
        reader = add_subscriber(
            session,
            address,
            language=language,
            topics=[topic],
            hash_key=hash_key,
            confirmed=status != "pending",
        )
        if status == "unsubscribed":
            unsubscribe(reader)
    return topic


def embedded_default(settings: Settings) -> bool:
    """SQLite inside the instance folder, the outbox transport and no Redis: the only
    place the demo's sample readers belong."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return False
    database = Path(url.database).resolve()
    return (
        database.is_relative_to(settings.instance_dir.resolve())
        and settings.transport == "outbox"
        and settings.inline_jobs
    )


def demo_refusal(settings: Settings, *, force: bool) -> str | None:
    """Why the demo must not seed this installation, or None when it may."""
    if settings.production:
        return "the demo never runs in production (NEWSLETTER_ENV=production)"
    if not force and not embedded_default(settings):
        return (
            "the demo seeds sample readers and mails them: it runs on the embedded default "
            "(SQLite in the instance folder, the outbox transport, no Redis); "
            f"this is {make_url(settings.database_url).get_backend_name()} with the "
            f"{settings.transport} transport{' and Redis' if not settings.inline_jobs else ''}. "
            "Use --force to run it here anyway"
        )
    return None


def shift_sample_news(session: Session, topic: Topic, day: date) -> int:
    """Move the topic's items from the bundled sample feeds by whole days so that the
    newest lands on ``day``; how many days they moved. Runs again as often as needed."""
    items = list(
        session.scalars(
            select(Item)
            .join(Source, Source.id == Item.source_id)
            .where(Item.topic_id == topic.id, Source.url.startswith(f"{SCHEME}://"))
        )
    )
    if not items:
        return 0
    newest = max(item.published_at for item in items).date()
    shift = (day - newest).days
    if shift:
        for item in items:
            item.published_at += timedelta(days=shift)
    return shift
