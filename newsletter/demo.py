"""The demo data set: a `claude` topic on the bundled sample feeds and a few readers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.catalog import add_source, add_subscriber, add_topic
from newsletter.models import Subscriber, Topic
from newsletter.sources.sample_transport import sample_url
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


def seed_demo(session: Session) -> Topic:
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
            session, address, language=language, topics=[topic], confirmed=status != "pending"
        )
        if status == "unsubscribed":
            unsubscribe(reader)
    return topic
