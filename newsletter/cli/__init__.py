"""The ``newsletter`` command: a group of thin commands, each module imported only when
one of its commands runs (so ``newsletter --help`` imports no Flask, SQLAlchemy or rq).

Commands run inside an app context holding the services (settings and database) read
from the environment; tests hand them their own app through Flask's CLI runner.
"""

from __future__ import annotations

import importlib
import sys

import click

# command name -> (module under newsletter.cli, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("daily", "demo_command", "Run the whole pipeline on bundled sample news, offline."),
    "daily": ("daily", "daily_command", "The daily chain for TOPIC: fetch, build, fan-out, send."),
    "fetch": ("daily", "fetch_command", "Fetch the news of TOPIC from its sources."),
    "build": ("daily", "build_command", "Write the digest of TOPIC for a date (default today)."),
    "send": ("daily", "send_command", "Send the built digests of TOPIC for a date."),
    "digests": ("daily", "digests_group", "Built digests."),
    "runs": ("daily", "runs_command", "What each step of the daily chains did, and why."),
    "deliveries": ("deliveries", "deliveries_group", "A digest's deliveries; retry failures."),
    "test-send": ("deliveries", "test_send_command", "Send a digest to one address, as a test."),
    "preview": ("daily", "preview_command", "Write a digest's email to files, or serve it."),
    "export-jekyll": ("daily", "export_jekyll_command", "Write a digest as a Jekyll post."),
    "topics": ("catalog", "topics_group", "Topics and their sources."),
    "sources": ("catalog", "sources_group", "The sources a topic's news is fetched from."),
    "subscribers": ("catalog", "subscribers_group", "Readers."),
    "suppressions": ("catalog", "suppressions_group", "Addresses that are never mailed."),
    "bounces": ("bounces", "bounces_group", "Read the bounce mailbox (DSNs, complaints)."),
    "db": ("catalog", "db_group", "Database schema."),
    "admins": ("admins", "admins_group", "Operators of the console at /admin."),
    "worker": ("ops", "worker_command", "Run an rq worker for the pipeline's jobs (needs Redis)."),
    "cron": ("ops", "cron_command", "Enqueue each topic's daily run at its send time."),
    "sweep": ("ops", "sweep_command", "Recover deliveries left by crashed workers."),
}


class LazyGroup(click.Group):
    """Lists commands from ``COMMANDS`` and imports a command's module when it runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"newsletter.cli.{module}"), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, _, short) in COMMANDS.items()])


def _command_app() -> object:
    """The app a command runs in: the services from the environment, no site."""
    from flask import Flask

    from newsletter import services

    app = Flask("newsletter")
    services.init_app(app, services.from_env())
    return app


def _script_info() -> object:
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=_command_app, set_debug_flag=False, load_dotenv_defaults=False)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Self-hosted AI daily-digest newsletter service."""
    if ctx.obj is None:
        ctx.obj = _script_info()


# Commands that run until stopped: a SIGTERM stops them gracefully from their first moment
LONG_RUNNING = frozenset({"worker", "cron"})


def main() -> None:
    if LONG_RUNNING.intersection(sys.argv[1:2]):
        from newsletter.daily.shutdown import STOP

        STOP.install()  # before importing anything heavy
    from newsletter.config import ConfigError

    try:
        cli.main(prog_name="newsletter")
    except ConfigError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
