"""Commands over what the service knows: schema, topics, sources, readers, suppressions."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from newsletter import catalog, migrate
from newsletter.catalog import topic_by_slug
from newsletter.cli.common import console, reports_errors
from newsletter.delivery.suppression import list_suppressions, parse_import, suppress, unsuppress
from newsletter.errors import InputError
from newsletter.services import current
from newsletter.sources.kinds import KINDS, SourceSettings
from newsletter.sources.manage import (
    add_configured_source,
    install_defaults,
    list_sources,
    remove_source,
    set_enabled,
)

STATUS_COLOURS = {"new": "green", "unchanged": "yellow", "failed": "red"}


@click.group("db", help="Database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Apply all migrations.")
@reports_errors
def db_upgrade() -> None:
    migrate.upgrade(current().db.url, secret_key=current().settings.secret_key)
    console.print("Database is up to date.")


@db_group.command("revision", help="Autogenerate a migration from the models.")
@click.option("-m", "--message", required=True)
@reports_errors
def db_revision(message: str) -> None:
    migrate.revision(current().db.url, message)


@click.group("topics", help="Topics and their sources.")
def topics_group() -> None:
    pass


@topics_group.command("list")
@reports_errors
def topics_list() -> None:
    table = Table("slug", "name", "languages", "send time", "sources")
    with current().db.session() as session:
        for topic in catalog.list_topics(session):
            table.add_row(
                topic.slug,
                topic.name,
                ", ".join(topic.languages),
                f"{topic.send_time:%H:%M} {topic.timezone}",
                str(len(topic.sources)),
            )
    console.print(table)


@topics_group.command("add")
@click.argument("slug")
@click.argument("name")
@click.option("--keyword", "keywords", multiple=True, help="Items must mention one of these.")
@click.option("--language", "languages", multiple=True, default=("en", "zh-TW"))
@click.option("--timezone", default="UTC")
@click.option("--send-time", default="07:00", help="HH:MM in the topic's time zone.")
@click.option("--feed", "feeds", multiple=True, help="An RSS or Atom feed URL.")
@reports_errors
def topics_add(
    slug: str,
    name: str,
    keywords: tuple[str, ...],
    languages: tuple[str, ...],
    timezone: str,
    send_time: str,
    feeds: tuple[str, ...],
) -> None:
    with current().db.session() as session:
        topic = catalog.add_topic(
            session,
            slug,
            name,
            keywords=list(keywords) or [name],
            languages=list(languages),
            timezone=timezone,
            send_time=send_time,
        )
        for url in feeds:
            catalog.add_source(session, topic, "rss", url, url)
    console.print(f"Added topic {slug} with {len(feeds)} feed(s).")


@click.group("sources", help="The sources a topic's news is fetched from.")
def sources_group() -> None:
    pass


@sources_group.command("list", help="Sources of TOPIC (default: all topics) and how they did.")
@click.argument("topic", required=False)
@reports_errors
def sources_list(topic: str | None) -> None:
    table = Table("id", "topic", "kind", "name", "on", "last result", "last fetched", "url")
    with current().db.session() as session:
        for source in list_sources(session, topic):
            status = source.last_status or "-"
            if source.last_status:
                status = f"[{STATUS_COLOURS.get(source.last_status, 'white')}]{status}[/]"
            if source.last_error:
                status += f" {escape(source.last_error[:60])}"
            fetched = source.last_fetched_at
            table.add_row(
                str(source.id),
                source.topic.slug,
                source.kind,
                escape(source.name),
                "yes" if source.enabled else "no",
                status,
                f"{fetched:%Y-%m-%d %H:%M}" if fetched else "never",
                escape(source.url + (f" [{source.query}]" if source.kind == "web" else "")),
            )
    console.print(table)


@sources_group.command(
    "add",
    help="Add a source of KIND to TOPIC. Kinds: "
    + "; ".join(f"{kind.name}: {kind.description}" for kind in KINDS.values())
    + ".",
)
@click.argument("topic")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("name")
@click.option("--url", help="rss, web: the feed or page URL.")
@click.option("--query", help="gnews, hn, reddit: what to search for.")
@click.option("--language", default="en", show_default=True, help="gnews: edition language.")
@click.option("--subreddit", help="reddit: e.g. ClaudeAI.")
@click.option("--selector", help="web: CSS selector of the article links or cards.")
@click.option("--min-points", type=int, default=0, help="hn: only stories with this many points.")
@reports_errors
def sources_add(
    topic: str,
    kind: str,
    name: str,
    url: str | None,
    query: str | None,
    language: str,
    subreddit: str | None,
    selector: str | None,
    min_points: int,
) -> None:
    settings = SourceSettings(url, query, language, subreddit, selector, min_points)
    with current().db.session() as session:
        source = add_configured_source(session, topic_by_slug(session, topic), kind, name, settings)
        console.print(f"Added source #{source.id} to {topic}: {escape(source.url)}")


@sources_group.command("remove", help="Delete a source (its items stay).")
@click.argument("source_id", type=int)
@reports_errors
def sources_remove(source_id: int) -> None:
    with current().db.session() as session:
        source = remove_source(session, source_id)
        console.print(f"Removed source #{source_id} ({escape(source.name)}).")


def _toggle(source_id: int, enabled: bool) -> None:
    with current().db.session() as session:
        source = set_enabled(session, source_id, enabled)
        state = "enabled" if enabled else "disabled"
        console.print(f"Source #{source_id} ({escape(source.name)}) is {state}.")


@sources_group.command("enable")
@click.argument("source_id", type=int)
@reports_errors
def sources_enable(source_id: int) -> None:
    _toggle(source_id, True)


@sources_group.command("disable", help="Keep a source but stop fetching it.")
@click.argument("source_id", type=int)
@reports_errors
def sources_disable(source_id: int) -> None:
    _toggle(source_id, False)


@sources_group.command(
    "defaults", help="Add the default sources of TOPIC (claude, openai, gemini)."
)
@click.argument("topics", nargs=-1, required=True)
@reports_errors
def sources_defaults(topics: tuple[str, ...]) -> None:
    with current().db.session() as session:
        for slug in topics:
            installed = install_defaults(session, slug)
            made = "created topic, " if installed.created_topic else ""
            console.print(f"{slug}: {made}{len(installed.added)} source(s) added.")


@click.group("subscribers", help="Readers.")
def subscribers_group() -> None:
    pass


@subscribers_group.command("add")
@click.argument("email")
@click.option("--topic", "topics", multiple=True, required=True)
@click.option("--language", default="en")
@click.option("--confirmed", is_flag=True, help="Skip double opt-in (you have their consent).")
@reports_errors
def subscribers_add(email: str, topics: tuple[str, ...], language: str, confirmed: bool) -> None:
    with current().db.session() as session:
        chosen = [topic_by_slug(session, slug) for slug in topics]
        subscriber = catalog.add_subscriber(
            session,
            email,
            language=language,
            topics=chosen,
            hash_key=current().settings.suppression_key,
            confirmed=confirmed,
        )
        console.print(f"Added {subscriber.email} ({subscriber.status.value}).")


@subscribers_group.command("list")
@reports_errors
def subscribers_list() -> None:
    table = Table("email", "language", "status", "topics")
    with current().db.session() as session:
        for subscriber in catalog.list_subscribers(session):
            topics = ", ".join(topic.slug for topic in subscriber.topics)
            table.add_row(subscriber.email, subscriber.language, subscriber.status.value, topics)
    console.print(table)


@click.group("suppressions", help="Addresses that are never mailed.")
def suppressions_group() -> None:
    pass


@suppressions_group.command("list")
@reports_errors
def suppressions_list() -> None:
    table = Table("email", "reason", "since")
    with current().db.session() as session:
        for entry in list_suppressions(session):
            table.add_row(entry.email or "(erased)", entry.reason, f"{entry.created_at:%Y-%m-%d}")
    console.print(table)


@suppressions_group.command("import", help="Add addresses from FILE: 'address[,reason]' lines.")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--reason", default="imported", help="Reason for lines that give none.")
@reports_errors
def suppressions_import(file: Any, reason: str) -> None:
    entries = parse_import(file, reason)
    with current().db.session() as session:
        added = suppress(session, entries, hash_key=current().settings.suppression_key)
    console.print(f"Imported {added} new suppression(s) from {len(entries)} line(s).")


@suppressions_group.command("remove")
@click.argument("email")
@reports_errors
def suppressions_remove(email: str) -> None:
    with current().db.session() as session:
        if not unsuppress(session, email, hash_key=current().settings.suppression_key):
            raise InputError(f"{email} is not on the suppression list")
    console.print(f"Removed {email} from the suppression list.")
