"""The layers stack one way: a worker's jobs never load the site or the CLI."""

from __future__ import annotations

import subprocess
import sys

LOADED = """
import sys
import newsletter.daily.jobs, newsletter.daily.cron
print(" ".join(sorted(sys.modules)))
"""


def test_jobs_import_no_flask_no_site_no_cli() -> None:
    result = subprocess.run([sys.executable, "-c", LOADED], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    modules = set(result.stdout.split())
    assert "flask" not in modules
    assert not {m for m in modules if m.startswith(("newsletter.web", "newsletter.cli"))}
    assert "newsletter.app" not in modules
