"""The daily chain's commands: fetch, build, send, daily, demo, and what they made."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from newsletter import migrate
from newsletter.catalog import topic_by_slug
from newsletter.cli.catalog import STATUS_COLOURS, STATUS_MEANINGS
from newsletter.cli.common import console, parse_day, reports_errors
from newsletter.daily import jobs, runs, steps
from newsletter.delivery import rows
from newsletter.demo import SAMPLE_DATE, demo_refusal, seed_demo, shift_sample_news
from newsletter.digest.build import recent_digests
from newsletter.digest.choose import writer_reason
from newsletter.digest.pricing import day_costs
from newsletter.errors import InputError
from newsletter.models import Digest, DigestStatus
from newsletter.render.jekyll import export_jekyll
from newsletter.render.preview import NoSuchDigest, preview_app, render_preview, write_preview
from newsletter.services import current
from newsletter.sources.ingest import SourceResult


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
            escape(result.error or result.dropped_text()),
        )
    return table


def _require_topic(slug: str) -> None:
    """Fail before printing anything when the topic does not exist."""
    with current().db.session() as session:
        topic_by_slug(session, slug)


def run_fetch(slug: str) -> None:
    app = current()
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

        results = steps.fetch(app, slug, on_fetched=fetched)
    console.print(_results_table(results))
    console.print(STATUS_MEANINGS, soft_wrap=True)
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
    app = current()
    _require_topic(slug)
    console.print(f"Building the {slug} digest for {day}…")
    console.print(f"  {writer_reason(app.settings)}", soft_wrap=True)
    outcomes = steps.build(app, slug, day, languages)
    if (closes := steps.window_still_open(app, slug, day)) is not None:
        console.print(
            f"  [yellow]Built before its news window closes ({closes:%Y-%m-%d %H:%M %Z}): "
            "a preview. The daily run writes it again then, with the whole day's news, "
            "unless it has been sent.[/]",
            soft_wrap=True,
        )
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
    """Deliver the day's ready digests the way the daily chain does (``jobs.deliver``):
    inline without Redis, on the workers with it."""
    app = current()
    _require_topic(slug)
    jobs.sweep()  # what a crashed run sent, expired leases, retries that are due
    ready = steps.ready_digests(app, slug, day)
    if not ready:
        raise InputError(f"no ready {slug} digest for {day}: run `newsletter build {slug}` first")
    with console.status("  sending"):
        jobs.deliver(ready)
    if not app.settings.inline_jobs:
        console.print(f"  Enqueued {len(ready)} digest(s) on {app.settings.queue_name!r}.")
        return
    with app.db.session() as session:
        for digest_id in ready:
            language = session.get_one(Digest, digest_id).language
            counts = rows.delivery_counts(session, digest_id)
            console.print(
                f"  {language}: {counts.sent} sent, {counts.failed} failed, "
                f"{counts.suppressed} skipped, {counts.pending} to retry"
            )
            for error in rows.failure_reasons(session, digest_id):
                console.print(f"    [red]{escape(error or '')}[/]")


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


@click.command("daily", help="The daily chain for TOPIC: fetch, build, fan-out, send.")
@click.argument("topic")
@click.option("--date", "day", help="YYYY-MM-DD (default: today in the topic's time zone)")
@click.option("--status", is_flag=True, help="Show the topic's recent runs instead (= runs).")
@reports_errors
def daily_command(topic: str, day: str | None, status: bool) -> None:
    app = current()
    with app.db.session() as session:
        topic_by_slug(session, topic)
    if status:
        show_runs(topic, 30)
        return
    jobs.run_topic(topic, parse_day(day).isoformat() if day else None)
    if app.settings.inline_jobs:
        with app.db.session() as session:
            sent = rows.sent_count(session, topic)
        console.print(f"Ran {topic} inline: {sent} email(s) sent in all.")
    else:
        console.print(f"Enqueued the {topic} run on queue {app.settings.queue_name!r}.")


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
    app = current()
    try:
        preview = render_preview(app.db, app.settings, digest_id)
    except NoSuchDigest as error:
        raise InputError(str(error)) from None
    for path in write_preview(preview, output_dir):
        console.print(f"Wrote {path}")
    if serve:
        console.print(f"Serving the preview at http://127.0.0.1:{port}/ (Ctrl-C stops)")
        from werkzeug.serving import run_simple  # werkzeug directly: app.run() refuses in a CLI

        run_simple("127.0.0.1", port, preview_app(app.db, app.settings, digest_id))


@click.group("digests", help="Built digests.")
def digests_group() -> None:
    pass


@digests_group.command("list", help="Newest first: status, writer, model, tokens, cost.")
@click.option("--topic", "slug", help="Only this topic.")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(min=1))
@reports_errors
def digests_list(slug: str | None, limit: int) -> None:
    with current().db.session() as session:
        topic = topic_by_slug(session, slug) if slug else None
        digests = recent_digests(session, topic, limit)
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
        for (topic, day), (count, cost) in day_costs(digests).items():
            console.print(f"{topic} {day}: ~${cost:.4f} in all ({count} digest(s), every call)")


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
    with current().db.session() as session:
        path = export_jekyll(session, digest_id, directory)
    console.print(f"Wrote {path}")


@click.command("demo", help="Run the whole pipeline on bundled sample news, offline.")
@click.option("--date", "day", help="YYYY-MM-DD (default: the date of the sample news)")
@click.option("--today", is_flag=True, help="Move the sample news to today and send today's.")
@click.option("--force", is_flag=True, help="Run outside the embedded default (never production).")
@reports_errors
def demo_command(day: str | None, today: bool, force: bool) -> None:
    app = current()
    if (refusal := demo_refusal(app.settings, force=force)) is not None:
        raise InputError(refusal)
    if today and day:
        raise InputError("give --date or --today, not both")
    target = datetime.now(UTC).date() if today else parse_day(day) if day else SAMPLE_DATE
    console.print(f"Database: {app.db.url}")
    migrate.upgrade(app.db.url, secret_key=app.settings.secret_key)
    with app.db.session() as session:
        seed_demo(session, app.settings.suppression_key)
    console.print("Seeded the 'claude' topic (4 bundled sample feeds) and 5 sample readers.")
    run_fetch("claude")
    if today:
        with app.db.session() as session:
            shift = shift_sample_news(session, topic_by_slug(session, "claude"), target)
        console.print(f"Moved the sample news {shift} day(s) forward, to {target}.")
    run_build("claude", target)
    run_send("claude", target)
    with app.db.session() as session:
        sent = rows.sent_count(session)
    console.print(
        f"\nDone: {sent} email(s) delivered to {app.settings.outbox_dir}"
        if app.settings.transport == "outbox"
        else f"\nDone: {sent} email(s) delivered over SMTP."
    )


RUN_COLOURS = {"ok": "green", "empty": "yellow", "skipped": "yellow", "failed": "red"}


@click.command("runs", help="What each step of the daily chains did, newest first.")
@click.option("--topic", "slug", help="Only this topic.")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(min=1))
@reports_errors
def runs_command(slug: str | None, limit: int) -> None:
    show_runs(slug, limit)


def show_runs(slug: str | None, limit: int) -> None:
    with current().db.session() as session:
        found = runs.recent_runs(session, slug, limit)
        if not found:
            console.print("No runs yet." if slug is None else f"No runs of {slug} yet.")
        for run in found:
            colour = RUN_COLOURS[run.outcome.value]
            console.print(f"[{colour}]{escape(runs.line(run))}[/]", soft_wrap=True)
