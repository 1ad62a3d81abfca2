"""Commands over what the service knows: schema, topics, sources, readers, suppressions."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from newsletter import audience, catalog, migrate
from newsletter.catalog import topic_by_slug
from newsletter.cli.common import console, reports_errors
from newsletter.delivery.suppression import list_suppressions, parse_import, suppress, unsuppress
from newsletter.digest.review import set_review
from newsletter.errors import InputError
from newsletter.services import current
from newsletter.sources.kinds import KINDS, SourceSettings
from newsletter.sources.manage import (
    add_configured_source,
    install_defaults,
    list_sources,
    remove_source,
    set_enabled,
    source_by_id,
)

STATUS_COLOURS = {
    "new": "green",
    "unchanged": "yellow",
    "no-match": "yellow",
    "not-modified": "yellow",
    "failed": "red",
}
# what each status means, under the table
STATUS_MEANINGS = (
    "unchanged: nothing new among the items that match the keywords; "
    "no-match: items, but none mentions the topic's keywords; "
    "not-modified: HTTP 304, the server says nothing changed"
)


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


@topics_group.command("list", help="Topics: languages, send time, sources, readers.")
@reports_errors
def topics_list() -> None:
    table = Table("slug", "name", "languages", "send time", "sources", "readers by language")
    with current().db.session() as session:
        readers = audience.topic_readers(session)
        for topic in catalog.list_topics(session):
            counts = readers[topic.slug]
            by_language = ", ".join(
                f"{language} {count}" for language, count in sorted(counts.by_language.items())
            )
            pending = counts.by_state.get("pending", 0)
            table.add_row(
                topic.slug,
                escape(topic.name),
                ", ".join(topic.languages),
                f"{topic.send_time:%H:%M} {topic.timezone}",
                str(len(topic.sources)),
                (by_language or "none") + (f" (+{pending} pending)" if pending else ""),
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


@topics_group.command("review", help="Whether an operator approves each digest before it is sent.")
@click.argument("slug")
@click.argument("mode", type=click.Choice(["off", "required"]))
@reports_errors
def topics_review(slug: str, mode: str) -> None:
    with current().db.session() as session:
        set_review(topic_by_slug(session, slug), mode)
    console.print(f"Review before send for {slug}: {mode}.")


@topics_group.command("edit", help="Change a topic; only what is given changes.")
@click.argument("slug")
@click.option("--name")
@click.option("--keyword", "keywords", multiple=True, help="Replaces the keywords (repeat).")
@click.option("--language", "languages", multiple=True, help="Replaces the languages (repeat).")
@click.option("--timezone")
@click.option("--send-time", help="HH:MM in the topic's time zone.")
@click.option("--add-feed", "feeds", multiple=True, help="Add an RSS or Atom feed URL.")
@click.option(
    "--remove-source", "removed", multiple=True, type=int, help="Remove a source by its id."
)
@reports_errors
def topics_edit(
    slug: str,
    name: str | None,
    keywords: tuple[str, ...],
    languages: tuple[str, ...],
    timezone: str | None,
    send_time: str | None,
    feeds: tuple[str, ...],
    removed: tuple[int, ...],
) -> None:
    with current().db.session() as session:
        topic = catalog.edit_topic(
            session,
            slug,
            name=name,
            keywords=list(keywords) or None,
            languages=list(languages) or None,
            timezone=timezone,
            send_time=send_time,
        )
        for source_id in removed:
            source = source_by_id(session, source_id)
            if source.topic_id != topic.id:
                raise InputError(f"source #{source_id} belongs to {source.topic.slug}, not {slug}")
            remove_source(session, source_id)
        for url in feeds:
            catalog.add_source(session, topic, "rss", url, url)
        session.refresh(topic)
        console.print(
            f"{slug}: {escape(topic.name)}; keywords {escape(', '.join(topic.keywords))}; "
            f"languages {', '.join(topic.languages)}; sends at {topic.send_time:%H:%M} "
            f"{topic.timezone}; {len(topic.sources)} source(s).",
            soft_wrap=True,
        )


@topics_group.command("remove", help="Delete a topic with its sources, news and digests.")
@click.argument("slug")
@click.option("--force", is_flag=True, help="Even though readers follow it.")
@reports_errors
def topics_remove(slug: str, force: bool) -> None:
    with current().db.session() as session:
        readers = catalog.remove_topic(session, slug, force=force)
    suffix = f" ({readers} reader(s) no longer follow it)" if readers else ""
    console.print(f"Removed topic {slug}{suffix}.")


@click.group("sources", help="The sources a topic's news is fetched from.")
def sources_group() -> None:
    pass


@sources_group.command("list", help="Sources of TOPIC (default: all topics) and how they did.")
@click.argument("topic", required=False)
@reports_errors
def sources_list(topic: str | None) -> None:
    table = Table("id", "topic", "kind", "name", "on", "last result", "last fetched", "url")
    table.columns[-1].overflow = "fold"  # a URL wraps on a narrow terminal, never cut
    with current().db.session() as session:
        for source in list_sources(session, topic):
            status = source.last_status or "-"
            if source.last_status:
                status = f"[{STATUS_COLOURS.get(source.last_status, 'white')}]{status}[/]"
            if source.last_error:
                error = source.last_error
                if console.is_terminal and len(error) > 60:
                    error = error[:59] + "…"
                status += f" {escape(error)}"
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
    console.print(STATUS_MEANINGS)


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


@subscribers_group.command("add", help="Add a reader, or topics to an existing reader.")
@click.argument("email")
@click.option("--topic", "topics", multiple=True, required=True)
@click.option("--language", default="en")
@click.option("--confirmed", is_flag=True, help="Skip double opt-in (you have their consent).")
@reports_errors
def subscribers_add(email: str, topics: tuple[str, ...], language: str, confirmed: bool) -> None:
    with current().db.session() as session:
        chosen = [topic_by_slug(session, slug) for slug in topics]
        done = catalog.subscribe(
            session,
            email,
            language=language,
            topics=chosen,
            hash_key=current().settings.suppression_key,
            confirmed=confirmed,
        )
        subscriber = done.subscriber
        if done.created:
            console.print(f"Added {subscriber.email} ({subscriber.status.value}).")
        else:
            slugs = ", ".join(topic.slug for topic in done.added) or "no topic"
            console.print(
                f"{subscriber.email} already reads {subscriber.language}: added {slugs} "
                f"({subscriber.status.value})."
            )


@subscribers_group.command("list", help="Readers with their real state, and counts per topic.")
@reports_errors
def subscribers_list() -> None:
    table = Table("email", "language", "state", "topics")
    with current().db.session() as session:
        rows = audience.reader_rows(session)
        per_topic = audience.topic_readers(session)
    for row in rows:
        state = row.state + (f" ({escape(row.suppression)})" if row.suppression else "")
        table.add_row(escape(row.email), row.language, state, ", ".join(row.topics))
    console.print(table)
    for slug, counts in sorted(per_topic.items()):
        states = ", ".join(f"{count} {state}" for state, count in sorted(counts.by_state.items()))
        console.print(f"{slug}: {states or 'no readers'}")


@subscribers_group.command(
    "import",
    help="Add readers from a CSV file (columns email, language, topics; or a header naming "
    "them). Without --consent-note each new reader gets a confirmation email (double "
    "opt-in); with it they are confirmed and the note is kept as the record of consent.",
)
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--topic", "topics", multiple=True, help="Topic for every row (repeat).")
@click.option("--language", default="en", show_default=True, help="For rows without one.")
@click.option("--consent-note", help="How these readers agreed, e.g. 'paper form, 2026 meetup'.")
@reports_errors
def subscribers_import(
    file: Any, topics: tuple[str, ...], language: str, consent_note: str | None
) -> None:
    from newsletter.daily import jobs
    from newsletter.readers_csv import import_readers

    app = current()
    with app.db.session() as session:
        report = import_readers(
            session,
            file,
            topics=list(topics),
            language=language,
            consent_note=consent_note,
            hash_key=app.settings.suppression_key,
        )
    for line, why in report.skipped:
        console.print(f"  line {line}: skipped, {escape(why)}", soft_wrap=True)
    console.print(
        f"{report.added} reader(s) added, {report.merged} already known (topics merged), "
        f"{report.duplicates} duplicate row(s) merged, {len(report.skipped)} row(s) skipped."
    )
    if consent_note:
        console.print(f"New readers are confirmed; consent recorded: {escape(consent_note)!r}.")
    elif report.to_confirm:
        jobs.confirm_imported(report.to_confirm)
        where = "sent" if app.settings.inline_jobs else f"queued on {app.settings.queue_name!r}"
        console.print(f"{len(report.to_confirm)} confirmation email(s) {where}.")


@subscribers_group.command("export", help="Every reader as CSV: email, language, state, topics.")
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", show_default=True
)
@reports_errors
def subscribers_export(output: Any) -> None:
    from newsletter.readers_csv import export_readers

    with current().db.session() as session:
        count = export_readers(session, output)
    if output.name != "<stdout>":
        console.print(f"Exported {count} reader(s) to {output.name}.")


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
