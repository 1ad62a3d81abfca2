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
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.serving import run_simple

from newsletter import migrate, pipeline
from newsletter.app import create_app, services
from newsletter.catalog import InputError, add_source, add_subscriber, add_topic, topic_by_slug
from newsletter.config import ConfigError
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.digest.build import NothingToWrite
from newsletter.digest.jekyll import export_jekyll
from newsletter.models import Delivery, DeliveryState, Digest, DigestStatus, Subscriber, Topic
from newsletter.render.preview import NoSuchDigest, preview_app, render_preview, write_preview
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


def _require_topic(slug: str) -> None:
    """Fail before printing anything when the topic does not exist."""
    with services().db.session() as session:
        topic_by_slug(session, slug)


def run_fetch(slug: str) -> None:
    _require_topic(slug)
    console.print(f"Fetching {slug} sources…")
    results = pipeline.fetch(services().db, slug, on_source_done=_print_source)
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
            f"  #{digest.id} {digest.language}: {state}, {digest.status.value} ({detail})"
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
            f"{report.skipped} skipped ({result.queued} newly queued)"
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


COMMANDS = (
    db_group,
    topics_group,
    subscribers_group,
    fetch_command,
    build_command,
    send_command,
    preview_command,
    digests_group,
    export_jekyll_command,
    demo_command,
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
