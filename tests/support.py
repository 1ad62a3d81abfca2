"""Helpers that drive the real code the way commands do, for tests that need a handle
on a step (a transport of their own, the reports of a send)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner

from newsletter.cli import cli
from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.delivery.send import SendReport, send_range
from newsletter.delivery.transports import Transport, make_transport
from newsletter.models import Digest
from newsletter.services import Services


class NewsletterCliRunner(FlaskCliRunner):
    """Flask's CLI runner over the ``newsletter`` command group, in the given app."""

    def invoke(self, cli_group: Any = None, args: Any = None, **kwargs: Any) -> Result:
        return super().invoke(cli_group or cli, args, **kwargs)


def cli_runner(app: Flask) -> NewsletterCliRunner:
    return NewsletterCliRunner(app)


@dataclass(frozen=True)
class LanguageSend:
    language: str
    digest_id: int
    queued: int
    report: SendReport


def send_day(
    app: Services, slug: str, day: date, transport: Transport | None = None
) -> list[LanguageSend]:
    """What ``newsletter send`` does inline (recover, fan out, send every block), with the
    reports of each digest's send and an optional transport of the test's own."""
    steps.recover_crashes(app)
    results = []
    for digest_id in steps.ready_digests(app, slug, day):
        queued = steps.fan_out(app, digest_id, on_blocks=lambda blocks: None)
        with app.db.session() as session:
            language = session.get_one(Digest, digest_id).language
        report = send_range(
            app.db, app.settings, digest_id, transport or make_transport(app.settings)
        )
        results.append(LanguageSend(language, digest_id, queued, report))
    return results


# The suppression key of the tests' default settings (the development secret).
DEV_HASH_KEY = Settings().suppression_key
