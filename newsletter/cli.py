"""The `newsletter` command: thin shells that parse arguments, call one domain function
and report. Also available as `flask --app wsgi ...`."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rq import SimpleWorker
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.serving import run_simple

from newsletter import jobs, migrate, pipeline
from newsletter.app import create_app, services
from newsletter.catalog import InputError, add_source, add_subscriber, add_topic, topic_by_slug
from newsletter.config import ConfigError
from newsletter.delivery.send import close_journals
from newsletter.delivery.smtp import close_pools
from newsletter.delivery.suppression import list_suppressions, parse_import, suppress, unsuppress
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.digest.build import NothingToWrite
from newsletter.digest.jekyll import export_jekyll
from newsletter.dispatch import redis_connection
from newsletter.models import Delivery, DeliveryState, Digest, DigestStatus, Subscriber, Topic
from newsletter.render.preview import NoSuchDigest, preview_app, render_preview, write_preview
from newsletter.schedule import build_scheduler
from newsletter.sources.ingest import SourceResult
from newsletter.sources.kinds import KINDS, SourceSettings
from newsletter.sources.manage import (
    add_configured_source,
    install_defaults,
    list_sources,
    remove_source,
    set_enabled,
)

console = Console(highlight=False)


def _fail(message: str) -> click.ClickException:
    return click.ClickException(message.splitlines()[0] if message else "failed")


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run in the app context; expected failures become a one-line error and exit status 1,
    never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (InputError, NothingToWrite, ConfigError) as error:
            raise _fail(str(error)) from None
        except OperationalError as error:
            raise _fail(f"cannot reach the database: {error.orig}") from None
        except SQLAlchemyError as error:
            raise _fail(f"database error: {error}") from None

    return with_appcontext(wrapper)


def parse_day(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"bad date {value!r}: use YYYY-MM-DD") from None


# -- database ---------------------------------------------------------------------------


@click.group("db", help="Database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Apply all migrations.")
@reports_errors
def db_upgrade() -> None:
    migrate.upgrade(services().db.url)
    console.print("Database is up to date.")


@db_group.command("revision", help="Autogenerate a migration from the models.")
@click.option("-m", "--message", required=True)
@reports_errors
def db_revision(message: str) -> None:
    migrate.revision(services().db.url, message)


# -- topics -----------------------------------------------------------------------------


@click.group("topics", help="Topics and their sources.")
def topics_group() -> None:
    pass


@topics_group.command("list")
@reports_errors
def topics_list() -> None:
    table = Table("slug", "name", "languages", "send time", "sources")
    with services().db.session() as session:
        for topic in session.scalars(select(Topic).order_by(Topic.slug)):
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
    with services().db.session() as session:
        topic = add_topic(
            session,
            slug,
            name,
            keywords=list(keywords) or [name],
            languages=list(languages),
            timezone=timezone,
            send_time=send_time,
        )
        for url in feeds:
            add_source(session, topic, "rss", url, url)
    console.print(f"Added topic {slug} with {len(feeds)} feed(s).")


# -- sources ----------------------------------------------------------------------------


@click.group("sources", help="The sources a topic's news is fetched from.")
def sources_group() -> None:
    pass


@sources_group.command("list", help="Sources of TOPIC (default: all topics) and how they did.")
@click.argument("topic", required=False)
@reports_errors
def sources_list(topic: str | None) -> None:
    table = Table("id", "topic", "kind", "name", "on", "last result", "last fetched", "url")
    with services().db.session() as session:
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
    with services().db.session() as session:
        source = add_configured_source(session, topic_by_slug(session, topic), kind, name, settings)
        console.print(f"Added source #{source.id} to {topic}: {escape(source.url)}")


@sources_group.command("remove", help="Delete a source (its items stay).")
@click.argument("source_id", type=int)
@reports_errors
def sources_remove(source_id: int) -> None:
    with services().db.session() as session:
        source = remove_source(session, source_id)
        console.print(f"Removed source #{source_id} ({escape(source.name)}).")


def _toggle(source_id: int, enabled: bool) -> None:
    with services().db.session() as session:
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
    with services().db.session() as session:
        for slug in topics:
            installed = install_defaults(session, slug)
            made = "created topic, " if installed.created_topic else ""
            console.print(f"{slug}: {made}{len(installed.added)} source(s) added.")


# -- subscribers ------------------------------------------------------------------------


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
    with services().db.session() as session:
        chosen = [topic_by_slug(session, slug) for slug in topics]
        subscriber = add_subscriber(
            session, email, language=language, topics=chosen, confirmed=confirmed
        )
        console.print(f"Added {subscriber.email} ({subscriber.status.value}).")


@subscribers_group.command("list")
@reports_errors
def subscribers_list() -> None:
    table = Table("email", "language", "status", "topics")
    with services().db.session() as session:
        for subscriber in session.scalars(select(Subscriber).order_by(Subscriber.email)):
            topics = ", ".join(topic.slug for topic in subscriber.topics)
            table.add_row(subscriber.email, subscriber.language, subscriber.status.value, topics)
    console.print(table)


# -- the daily steps --------------------------------------------------------------------


STATUS_COLOURS = {"new": "green", "unchanged": "yellow", "failed": "red"}


def _results_table(results: list[SourceResult]) -> Table:
    table = Table("source", "kind", "result", "new", "seen", "time", "detail")
    for result in results:
        table.add_row(
            escape(result.source),
            result.kind,
            f"[{STATUS_COLOURS[result.status]}]{result.status}[/]",
            str(result.new_items),
            str(result.seen_items),
            f"{result.seconds * 1000:.0f} ms",
            escape(result.error or ""),
        )
    return table


def _require_topic(slug: str) -> None:
    """Fail before printing anything when the topic does not exist."""
    with services().db.session() as session:
        topic_by_slug(session, slug)


def run_fetch(slug: str) -> None:
    app = services()
    with app.db.session() as session:
        total = sum(source.enabled for source in topic_by_slug(session, slug).sources)
    if not total:
        raise InputError(
            f"{slug} has no enabled sources: add some with `newsletter sources add` "
            f"or `newsletter sources defaults {slug}`"
        )
    console.print(f"Fetching {slug} sources…")
    with Progress(
        TextColumn("  fetching"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=total)

        def fetched(name: str) -> None:
            progress.update(task, advance=1, description=escape(name))

        results = pipeline.fetch(app.db, app.settings, slug, on_fetched=fetched)
    console.print(_results_table(results))
    new = sum(result.new_items for result in results)
    failed = sum(result.status == "failed" for result in results)
    console.print(f"  {new} new item(s), {failed} failed source(s).")


def usage_text(digest: Digest) -> str:
    """Tokens and estimated cost of a digest, or "" when it cost nothing."""
    if not (digest.input_tokens or digest.output_tokens):
        return ""
    text = f"{digest.input_tokens:,} in / {digest.output_tokens:,} out tokens"
    if digest.cache_read_tokens or digest.cache_write_tokens:
        text += (
            f" (cache: {digest.cache_write_tokens:,} written, {digest.cache_read_tokens:,} read)"
        )
    if digest.cost_usd is not None:
        text += f", ~${digest.cost_usd:.4f}"
    return text


def run_build(slug: str, day: date, languages: list[str] | None = None) -> list[Digest]:
    app = services()
    _require_topic(slug)
    console.print(f"Building the {slug} digest for {day}…")
    console.print(f"  {pipeline.writer_reason(app.settings)}", soft_wrap=True)
    outcomes = pipeline.build(app.db, app.settings, slug, day, languages)
    for outcome in outcomes:
        digest = outcome.digest
        state = "built" if outcome.created else "already built"
        detail = f"writer {digest.writer}"
        if digest.model:
            detail += f", model {digest.model}"
        if usage_text(digest):
            detail += f", {usage_text(digest)}"
        if digest.error:
            detail += f", error: {escape(digest.error)}"
        console.print(
            f"  #{digest.id} {digest.language}: {state}, {digest.status.value} ({detail})",
            soft_wrap=True,
        )
    return [outcome.digest for outcome in outcomes]


def run_send(slug: str, day: date) -> None:
    app = services()
    _require_topic(slug)
    with Progress(
        TextColumn("  sending"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        task = progress.add_task("send", total=None)

        def advance(count: int) -> None:
            progress.advance(task, count)

        results = pipeline.send(app.db, app.settings, slug, day, on_progress=advance)
        progress.update(task, total=progress.tasks[0].completed or 1)
    if not results:
        raise InputError(f"no ready {slug} digest for {day}: run `newsletter build {slug}` first")
    for result in results:
        report = result.report
        console.print(
            f"  {result.language}: {report.sent} sent, {report.failed} failed, "
            f"{report.skipped} skipped, {report.deferred} to retry "
            f"({result.queued} newly queued)"
        )
        for error in report.errors[:5]:
            console.print(f"    [red]{error}[/]")


@click.command("fetch", help="Fetch the news of TOPIC from its sources.")
@click.argument("topic")
@reports_errors
def fetch_command(topic: str) -> None:
    run_fetch(topic)


@click.command("build", help="Write the digest of TOPIC for a date (default today).")
@click.argument("topic")
@click.option("--date", "day", help="YYYY-MM-DD")
@click.option("--language", "languages", multiple=True, help="Default: languages with readers.")
@reports_errors
def build_command(topic: str, day: str | None, languages: tuple[str, ...]) -> None:
    digests = run_build(topic, parse_day(day), list(languages) or None)
    failed = [digest for digest in digests if digest.status == DigestStatus.FAILED]
    if failed:
        raise click.ClickException(
            f"{len(failed)} digest(s) failed and will not be sent; run the build again to retry"
        )


@click.command("send", help="Send the built digests of TOPIC for a date (default today).")
@click.argument("topic")
@click.option("--date", "day", help="YYYY-MM-DD")
@reports_errors
def send_command(topic: str, day: str | None) -> None:
    run_send(topic, parse_day(day))


@click.command("preview", help="Write a digest's email (HTML and text) to files, or serve it.")
@click.argument("digest_id", type=int)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("preview"),
    show_default=True,
)
@click.option("--serve", is_flag=True, help="Then serve the email views on localhost.")
@click.option("--port", type=click.IntRange(1, 65535), default=8025, show_default=True)
@reports_errors
def preview_command(digest_id: int, output_dir: Path, serve: bool, port: int) -> None:
    app = services()
    try:
        preview = render_preview(app.db, app.settings, digest_id)
    except NoSuchDigest as error:
        raise InputError(str(error)) from None
    for path in write_preview(preview, output_dir):
        console.print(f"Wrote {path}")
    if serve:
        console.print(f"Serving the preview at http://127.0.0.1:{port}/ (Ctrl-C stops)")
        # werkzeug directly: Flask's app.run() refuses to run inside a `flask` CLI command.
        run_simple("127.0.0.1", port, preview_app(app.db, app.settings, digest_id))


@click.group("digests", help="Built digests.")
def digests_group() -> None:
    pass


@digests_group.command("list", help="Newest first: status, writer, model, tokens, cost.")
@click.option("--topic", "slug", help="Only this topic.")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(min=1))
@reports_errors
def digests_list(slug: str | None, limit: int) -> None:
    with services().db.session() as session:
        query = select(Digest).join(Topic).order_by(Digest.date.desc(), Digest.id.desc())
        if slug:
            query = query.where(Topic.id == topic_by_slug(session, slug).id)
        digests = list(session.scalars(query.limit(limit)))
        if not digests:
            console.print("No digests yet.")
        for digest in digests:
            writer = "/".join(filter(None, (digest.writer, digest.model)))
            colour = "green" if digest.status == DigestStatus.READY else "red"
            console.print(
                f"#{digest.id:<5} {digest.topic.slug} {digest.date} {digest.language:<6} "
                f"[{colour}]{digest.status.value:<6}[/] {writer}  {usage_text(digest)}",
                soft_wrap=True,
            )
            if digest.error:
                console.print(f"       {escape(digest.error)}", soft_wrap=True)


@click.command("export-jekyll", help="Write a digest as a Jekyll post (Markdown).")
@click.argument("digest_id", type=int)
@click.option(
    "-o",
    "--output-dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
)
@reports_errors
def export_jekyll_command(digest_id: int, directory: Path) -> None:
    with services().db.session() as session:
        path = export_jekyll(session, digest_id, directory)
    console.print(f"Wrote {path}")


@click.command("demo", help="Run the whole pipeline on bundled sample news, offline.")
@click.option("--date", "day", help="YYYY-MM-DD (default: the date of the sample news)")
@reports_errors
def demo_command(day: str | None) -> None:
    app = services()
    target = parse_day(day) if day else SAMPLE_DATE
    console.print(f"Database: {app.db.url}")
    migrate.upgrade(app.db.url)
    with app.db.session() as session:
        seed_demo(session)
    console.print("Seeded the 'claude' topic (4 bundled sample feeds) and 5 sample readers.")
    run_fetch("claude")
    run_build("claude", target)
    run_send("claude", target)
    with app.db.session() as session:
        sent = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.state == DeliveryState.SENT)
        )
    console.print(
        f"\nDone: {sent} email(s) delivered to {app.settings.outbox_dir}"
        if app.settings.transport == "outbox"
        else f"\nDone: {sent} email(s) delivered over SMTP."
    )


# -- workers ----------------------------------------------------------------------------


def _redis_settings() -> Any:
    settings = services().settings
    if settings.inline_jobs:
        raise InputError("set NEWSLETTER_REDIS_URL: without Redis, jobs run inline in each command")
    return settings


@click.command("worker", help="Run an rq worker for the pipeline's jobs (needs Redis).")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@reports_errors
def worker_command(burst: bool) -> None:
    settings = _redis_settings()
    jobs.recover()  # journals left on this host by killed workers, before any new send
    worker = SimpleWorker([settings.queue_name], connection=redis_connection(settings.redis_url))
    try:
        worker.work(burst=burst, with_scheduler=False)
    finally:
        close_pools()
        close_journals()


@click.command("cron", help="Enqueue each topic's daily run at its send time, and the sweeper.")
@reports_errors
def cron_command() -> None:
    settings = _redis_settings()
    with services().db.session() as session:
        scheduler = build_scheduler(session, settings, redis_connection(settings.redis_url))
    scheduler.start()


@click.command("daily", help="The daily chain for TOPIC: fetch, build, fan-out, send.")
@click.argument("topic")
@click.option("--date", "day", help="YYYY-MM-DD (default: today in the topic's time zone)")
@reports_errors
def daily_command(topic: str, day: str | None) -> None:
    app = services()
    with app.db.session() as session:
        topic_by_slug(session, topic)
    jobs.run_topic(topic, parse_day(day).isoformat() if day else None)
    if app.settings.inline_jobs:
        with app.db.session() as session:
            sent = session.scalar(
                select(func.count())
                .select_from(Delivery)
                .join(Digest, Digest.id == Delivery.digest_id)
                .join(Topic, Topic.id == Digest.topic_id)
                .where(Topic.slug == topic, Delivery.state == DeliveryState.SENT)
            )
        console.print(f"Ran {topic} inline: {sent} email(s) sent in all.")
    else:
        console.print(f"Enqueued the {topic} run on queue {app.settings.queue_name!r}.")


@click.command("sweep", help="Recover deliveries left by crashed workers or a lost queue.")
@reports_errors
def sweep_command() -> None:
    report = jobs.sweep()
    console.print(
        f"{report.replayed} recorded from journals, {report.released} released, "
        f"{report.expired} failed after their last attempt, "
        f"{len(report.ranges)} send job(s) enqueued."
    )


# -- suppressions -----------------------------------------------------------------------


@click.group("suppressions", help="Addresses that are never mailed.")
def suppressions_group() -> None:
    pass


@suppressions_group.command("list")
@reports_errors
def suppressions_list() -> None:
    table = Table("email", "reason", "since")
    with services().db.session() as session:
        for entry in list_suppressions(session):
            table.add_row(entry.email or "(erased)", entry.reason, f"{entry.created_at:%Y-%m-%d}")
    console.print(table)


@suppressions_group.command("import", help="Add addresses from FILE: 'address[,reason]' lines.")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--reason", default="imported", help="Reason for lines that give none.")
@reports_errors
def suppressions_import(file: Any, reason: str) -> None:
    entries = parse_import(file, reason)
    with services().db.session() as session:
        added = suppress(session, entries)
    console.print(f"Imported {added} new suppression(s) from {len(entries)} line(s).")


@suppressions_group.command("remove")
@click.argument("email")
@reports_errors
def suppressions_remove(email: str) -> None:
    with services().db.session() as session:
        if not unsuppress(session, email):
            raise InputError(f"{email} is not on the suppression list")
    console.print(f"Removed {email} from the suppression list.")


COMMANDS = (
    db_group,
    topics_group,
    sources_group,
    subscribers_group,
    fetch_command,
    build_command,
    send_command,
    preview_command,
    digests_group,
    export_jekyll_command,
    demo_command,
    worker_command,
    cron_command,
    daily_command,
    sweep_command,
    suppressions_group,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


cli = FlaskGroup(create_app=create_app, add_version_option=False, load_dotenv=False)


def main() -> None:
    try:
        cli.main(prog_name="newsletter")
    except ConfigError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
