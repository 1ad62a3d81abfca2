"""The README's production steps: the extra they install exists, each command they run
exists, and (on Postgres) scripts/deploy-check follows them to a working service."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from newsletter.cli import COMMANDS
from tests.conftest import POSTGRES_URL
from tests.delivery.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[1]


def deploy_block() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- deploy:begin.*?```sh\n(.*?)```\n<!-- deploy:end -->", readme, re.S)
    assert block, "README.md has no deploy block"
    return [line for line in block.group(1).replace("\\\n", " ").splitlines() if line.strip()]


def test_the_readme_installs_an_extra_that_brings_gunicorn() -> None:
    lines = deploy_block()
    assert ".venv/bin/pip install '.[prod]'" in " ".join(lines)
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(requirement.startswith("gunicorn") for requirement in extras["prod"])
    assert any(line.startswith("gunicorn ") and "wsgi:app" in line for line in lines)


def test_every_newsletter_command_of_the_readme_exists() -> None:
    commands = [line.split("#")[0].split() for line in deploy_block()]
    used = [words[1] for words in commands if words and words[0] == "newsletter"]
    assert used == ["db", "worker", "cron"]
    assert all(name in COMMANDS for name in used)
    export = next(line for line in deploy_block() if line.startswith("export NEWSLETTER_ENV"))
    assert "NEWSLETTER_BASE_URL=https://" in export and "NEWSLETTER_POSTAL_ADDRESS=" in export


@pytest.mark.deploy
@pytest.mark.skipif(not POSTGRES_URL, reason="production runs on Postgres")
def test_deploy_check_follows_the_readme_to_a_working_service() -> None:
    database = make_url(POSTGRES_URL)
    url = database.set(database=f"{database.database}_deploy").render_as_string(False)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")},
        "DEPLOY_CHECK_VENV": sys.prefix,
        "DEPLOY_CHECK_DATABASE_URL": url,
        "DEPLOY_CHECK_REDIS_URL": REDIS_URL,
    }
    result = subprocess.run(
        [ROOT / "scripts" / "deploy-check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.rstrip().endswith("deploy-check passed")
