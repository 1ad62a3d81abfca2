"""Managing a topic's sources: add (from a person's settings), list, enable, remove, and
install the default topics and sources shipped in ``defaults.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.catalog import add_source, add_topic, topic_by_slug
from newsletter.errors import InputError
from newsletter.models import Source, Topic
from newsletter.sources.kinds import SourceSettings, resolve


def add_configured_source(
    session: Session, topic: Topic, kind: str, name: str, settings: SourceSettings
) -> Source:
    """A new source of ``topic`` built from a person's settings for that kind."""
    try:
        url, query = resolve(kind, settings)
    except ValueError as error:
        raise InputError(str(error)) from None
    return add_source(session, topic, kind, name, url, query)


def source_by_id(session: Session, source_id: int) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise InputError(f"no source #{source_id} (see `newsletter sources list`)")
    return source


def list_sources(session: Session, slug: str | None = None) -> list[Source]:
    statement = select(Source).join(Topic).order_by(Topic.slug, Source.id)
    if slug is not None:
        statement = statement.where(Source.topic_id == topic_by_slug(session, slug).id)
    return list(session.scalars(statement))


def set_enabled(session: Session, source_id: int, enabled: bool) -> Source:
    source = source_by_id(session, source_id)
    source.enabled = enabled
    return source


def remove_source(session: Session, source_id: int) -> Source:
    """Delete a source; its items stay (their ``source_id`` becomes empty)."""
    source = source_by_id(session, source_id)
    session.delete(source)
    session.flush()
    return source


@dataclass(frozen=True)
class Installed:
    topic: Topic
    created_topic: bool
    added: list[Source]


def default_topics() -> dict[str, dict[str, Any]]:
    text = (resources.files("newsletter.sources") / "defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def install_defaults(session: Session, slug: str) -> Installed:
    """Create the default topic ``slug`` if needed and add its default sources that it
    does not have yet; running it twice changes nothing."""
    defaults = default_topics()
    if slug not in defaults:
        raise InputError(f"no default sources for {slug!r} (defaults: {', '.join(defaults)})")
    spec = defaults[slug]
    topic = session.scalar(select(Topic).where(Topic.slug == slug))
    created = topic is None
    if topic is None:
        topic = add_topic(
            session, slug, spec["name"], keywords=spec["keywords"], languages=spec["languages"]
        )
    have = {(source.kind, source.url) for source in topic.sources}
    added = []
    for entry in spec["sources"]:
        settings = SourceSettings(
            **{key: value for key, value in entry.items() if key not in ("kind", "name")}
        )
        try:
            url, _ = resolve(entry["kind"], settings)
        except ValueError as error:
            raise InputError(f"defaults.toml, {slug} / {entry['name']}: {error}") from None
        if (entry["kind"], url) not in have:
            added.append(
                add_configured_source(session, topic, entry["kind"], entry["name"], settings)
            )
    return Installed(topic, created, added)
