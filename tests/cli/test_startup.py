"""``newsletter --help`` is instant: it lists the commands without importing what they use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# What a command imports when it runs, never to list the commands.
HEAVY = ("flask", "sqlalchemy", "rq", "redis", "anthropic", "httpx", "premailer", "mjml", "rich")

LIST_IMPORTS = """
import sys
from newsletter.cli import cli
try:
    cli.main(["--help"], prog_name="newsletter")
except SystemExit:
    pass
print(" ".join(sorted(sys.modules)))
"""


def test_help_imports_no_heavy_module_and_creates_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", LIST_IMPORTS], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    *help_lines, modules = result.stdout.strip().splitlines()
    assert "demo" in "\n".join(help_lines) and "worker" in "\n".join(help_lines)
    loaded = {name.split(".")[0] for name in modules.split()}
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert list(tmp_path.iterdir()) == []  # no ./instance/ or anything else


def test_every_listed_command_loads() -> None:
    from newsletter.cli import COMMANDS, cli

    for name in COMMANDS:
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None and command.name == name
