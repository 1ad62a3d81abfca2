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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rq import SimpleWorker
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from newsletter import jobs, migrate, pipeline
from newsletter.app import create_app, services
from newsletter.catalog import InputError, add_source, add_subscriber, add_topic, topic_by_slug
from newsletter.config import ConfigError
from newsletter.delivery.send import close_journals, render_email
from newsletter.delivery.smtp import close_pools
from newsletter.delivery.suppression import list_suppressions, parse_import, suppress, unsuppress
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.digest.build import NothingToWrite
from newsletter.dispatch import redis_connection
from newsletter.models import Delivery, DeliveryState, Digest, Subscriber, Topic
from newsletter.schedule import build_scheduler
from newsletter.sources.ingest import SourceResult

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


def _print_source(result: SourceResult) -> None:
    colour = {"new": "green", "unchanged": "yellow", "failed": "red"}[result.status]
    detail = f"{result.new_items} new of {result.seen_items}" if not result.error else result.error
    console.print(
        f"  [{colour}]{result.status:<9}[/] {result.source:<24} {detail} "
        f"({result.seconds * 1000:.0f} ms)"
    )


def run_fetch(slug: str) -> None:
    console.print(f"Fetching {slug} sources…")
    results = pipeline.fetch(services().db, slug, on_source_done=_print_source)
    new = sum(result.new_items for result in results)
    failed = sum(result.status == "failed" for result in results)
    console.print(f"  {new} new item(s), {failed} failed source(s).")


def run_build(slug: str, day: date, languages: list[str] | None = None) -> list[Digest]:
    app = services()
    console.print(f"Building the {slug} digest for {day}…")
    outcomes = pipeline.build(app.db, app.settings, slug, day, languages)
    for outcome in outcomes:
        digest = outcome.digest
        state = "built" if outcome.created else "already built"
        detail = f"writer {digest.writer}"
        if digest.error:
            detail += f", error: {digest.error}"
        console.print(
            f"  #{digest.id} {digest.language}: {state}, {digest.status.value} ({detail})"
        )
    return [outcome.digest for outcome in outcomes]


def run_send(slug: str, day: date) -> None:
    app = services()
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
    run_build(topic, parse_day(day), list(languages) or None)


@click.command("send", help="Send the built digests of TOPIC for a date (default today).")
@click.argument("topic")
@click.option("--date", "day", help="YYYY-MM-DD")
@reports_errors
def send_command(topic: str, day: str | None) -> None:
    run_send(topic, parse_day(day))


@click.command("preview", help="Write a digest's email as HTML or text.")
@click.argument("digest_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["html", "text"]), default="html")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@reports_errors
def preview_command(digest_id: int, fmt: str, output: Path | None) -> None:
    app = services()
    with app.db.session() as session:
        digest = session.get(Digest, digest_id)
        if digest is None or digest.content is None:
            raise InputError(f"no ready digest #{digest_id}")
        rendered = render_email(app.settings, digest)
    body = rendered.html if fmt == "html" else rendered.text
    if output is None:
        sys.stdout.write(body)
        return
    output.write_text(body, encoding="utf-8")
    console.print(f"Wrote {output}")


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


@click.command("run", help="The daily chain for TOPIC: fetch, build, fan-out, send.")
@click.argument("topic")
@click.option("--date", "day", help="YYYY-MM-DD (default: today in the topic's time zone)")
@reports_errors
def run_command(topic: str, day: str | None) -> None:
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
    subscribers_group,
    fetch_command,
    build_command,
    send_command,
    preview_command,
    demo_command,
    worker_command,
    cron_command,
    run_command,
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
