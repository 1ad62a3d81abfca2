"""What happened to a digest's emails, retrying the temporary failures, and test sends."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from newsletter.cli.common import console, reports_errors
from newsletter.daily import jobs
from newsletter.delivery import rows
from newsletter.delivery.proof import send_test
from newsletter.delivery.transports import TransportError
from newsletter.errors import InputError
from newsletter.models import Digest
from newsletter.services import current

STATE_COLOURS = {
    "pending": "yellow",
    "sending": "cyan",
    "sent": "green",
    "failed": "red",
    "suppressed": "magenta",
}


def _digest(digest_id: int) -> Digest:
    with current().db.session() as session:
        digest = session.get(Digest, digest_id)
        if digest is None:
            raise InputError(f"no digest #{digest_id} (see `newsletter digests list`)")
        session.expunge(digest)
        return digest


class DeliveriesGroup(click.Group):
    """``deliveries DIGEST_ID`` lists; ``deliveries retry DIGEST_ID`` retries."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands:
            return "show", self.commands["show"], args
        return super().resolve_command(ctx, args)


@click.group(
    "deliveries",
    cls=DeliveriesGroup,
    help="`deliveries DIGEST_ID [--failed]`: sent / failed / pending, and each delivery; "
    "`deliveries retry DIGEST_ID`: temporary failures back to pending and sent again.",
)
def deliveries_group() -> None:
    pass


@deliveries_group.command("show", help="A digest's deliveries by state, and each one.")
@click.argument("digest_id", type=int)
@click.option("--failed", "failed_only", is_flag=True, help="Only the failed ones.")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(min=1))
@reports_errors
def deliveries_show(digest_id: int, failed_only: bool, limit: int) -> None:
    digest = _digest(digest_id)
    with current().db.session() as session:
        counts = rows.delivery_counts(session, digest_id)
        lines = rows.digest_deliveries(session, digest_id, failed_only=failed_only, limit=limit)
    console.print(
        f"Digest #{digest_id} ({digest.date} {digest.language}): {counts.sent} sent, "
        f"{counts.failed} failed, {counts.pending} pending, {counts.sending} sending, "
        f"{counts.suppressed} suppressed"
    )
    if not lines:
        return
    table = Table("id", "address", "state", "attempts", "when", "last error")
    for line in lines:
        state = line.state.value
        if line.state.value == "failed":
            state += " (permanent)" if line.permanent else " (temporary)"
        when = line.sent_at or line.next_attempt_at
        table.add_row(
            str(line.delivery_id),
            escape(line.address or "(erased)"),
            f"[{STATE_COLOURS[line.state.value]}]{state}[/]",
            str(line.attempts),
            f"{when:%Y-%m-%d %H:%M}" if when else "",
            escape(line.last_error or ""),
        )
    console.print(table)
    total = counts.failed if failed_only else counts.total
    if total > len(lines):
        console.print(f"… {total - len(lines)} more (use --limit).")


@deliveries_group.command(
    "retry", help="Send again the deliveries that failed on temporary errors (4xx, timeouts)."
)
@click.argument("digest_id", type=int)
@reports_errors
def deliveries_retry(digest_id: int) -> None:
    _digest(digest_id)
    app = current()
    with app.db.session() as session:
        retried = rows.retry_temporary_failures(session, digest_id, app.settings.send_batch_size)
    if not retried.count:
        console.print(f"Digest #{digest_id} has no delivery that failed on a temporary error.")
        return
    jobs.retry_sends(retried.blocks)
    where = "sent" if app.settings.inline_jobs else f"enqueued on {app.settings.queue_name!r}"
    console.print(
        f"{retried.count} delivery(ies) back to pending, {len(retried.blocks)} send job(s) {where}."
    )
    if app.settings.inline_jobs:
        with app.db.session() as session:
            counts = rows.delivery_counts(session, digest_id)
        console.print(f"Now {counts.sent} sent, {counts.failed} failed, {counts.pending} pending.")


@click.command("test-send", help="Send a ready digest to one address, marked [TEST].")
@click.argument("digest_id", type=int)
@click.option("--to", "address", required=True, help="Where the test goes.")
@reports_errors
def test_send_command(digest_id: int, address: str) -> None:
    app = current()
    try:
        subject = send_test(app.db, app.settings, digest_id, address)
    except TransportError as error:
        raise InputError(f"the test was not sent: {error}") from None
    console.print(f"Sent {escape(subject)!r} to {escape(address)} (no delivery recorded).")
