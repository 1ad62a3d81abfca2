"""Bounces that come back by mail: the bounce mailbox reader."""

from __future__ import annotations

import click

from newsletter.cli.common import console, reports_errors
from newsletter.errors import InputError
from newsletter.services import current


@click.group("bounces", help="Bounces and complaints that come back by mail.")
def bounces_group() -> None:
    pass


@bounces_group.command("fetch", help="Read the bounce mailbox (POP3): suppress, then delete.")
@reports_errors
def bounces_fetch() -> None:
    from newsletter.delivery.mailbox import fetch_bounces

    app = current()
    if not app.settings.bounce_mailbox:
        raise InputError("set NEWSLETTER_BOUNCE_MAILBOX to pop3s://user:password@host")
    report = fetch_bounces(app.db, app.settings)
    console.print(
        f"{report.read} message(s) read: {report.hard} hard bounce(s), {report.soft} soft, "
        f"{report.complaints} complaint(s); {report.suppressed} address(es) suppressed; "
        f"{report.ignored} asked for nothing, {report.unmatched} named none of our deliveries."
    )
