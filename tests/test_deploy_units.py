"""The shipped supervision (systemd units under deploy/, the Procfile) runs real commands,
restarts what dies, and stops the way the processes expect."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from newsletter.cli import COMMANDS
from newsletter.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SERVICES = ["newsletter-web.service", "newsletter-worker@.service", "newsletter-cron.service"]


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / name).read_text())
    return parser


def command_of(exec_start: str) -> list[str]:
    words = shlex.split(exec_start)
    return [Path(words[0]).name, *words[1:]]


@pytest.mark.parametrize("name", SERVICES)
def test_every_unit_restarts_and_stops_gracefully(name: str) -> None:
    service = unit(name)["Service"]
    assert service["Restart"] == "always"
    assert service["KillSignal"] == "SIGTERM"  # gunicorn and rq both stop warm on it
    assert int(service["TimeoutStopSec"]) >= 30
    assert service["EnvironmentFile"] == "/etc/newsletter/newsletter.env"


def test_the_units_run_our_commands() -> None:
    assert command_of(unit("newsletter-worker@.service")["Service"]["ExecStart"]) == [
        "newsletter",
        "worker",
    ]
    assert command_of(unit("newsletter-cron.service")["Service"]["ExecStart"]) == [
        "newsletter",
        "cron",
    ]
    web = command_of(unit("newsletter-web.service")["Service"]["ExecStart"])
    assert web[0] == "gunicorn" and web[-1] == "wsgi:app"
    assert (ROOT / "wsgi.py").is_file()
    assert {"worker", "cron"} <= set(COMMANDS)


def test_a_worker_is_given_a_whole_lease_to_finish_its_job() -> None:
    """A send job stops at 80% of its lease and then records: SIGKILL must not come sooner."""
    stop = int(unit("newsletter-worker@.service")["Service"]["TimeoutStopSec"])
    assert stop > Settings().lease_seconds


def test_the_procfile_runs_the_same_three_processes() -> None:
    processes = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert set(processes) == {"web", "worker", "cron"}
    assert shlex.split(processes["worker"]) == ["newsletter", "worker"]
    assert shlex.split(processes["cron"]) == ["newsletter", "cron"]
    assert processes["web"].split()[0] == "gunicorn" and processes["web"].split()[-1] == "wsgi:app"


def test_the_readme_points_at_the_units() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in [*SERVICES, "newsletter-workers.target", "Procfile"]:
        assert name in readme


def test_the_bounce_timer_runs_the_mailbox_reader() -> None:
    service = unit("newsletter-bounces.service")["Service"]
    assert service["Type"] == "oneshot"
    assert command_of(service["ExecStart"]) == ["newsletter", "bounces", "fetch"]
    assert "bounces" in COMMANDS
    assert unit("newsletter-bounces.timer")["Timer"]["OnUnitActiveSec"] == "10min"
    assert "newsletter-bounces.timer" in (ROOT / "README.md").read_text()
