"""Liquid in model text or feed titles is shown by Jekyll, never executed: the exported
post is built with the real Jekyll (Debian's ``jekyll``; scripts/test installs it)."""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

import pytest

from newsletter.digest.schema import SourceRef
from newsletter.render.jekyll import jekyll_post, liquid_safe
from tests.render.test_jekyll import fixed_digest

JEKYLL = shutil.which("jekyll")
ATTACKS = [
    "{{ site.time }}",
    "{% include ../../../etc/hostname %}",
    "{% endraw %}{{ site.time }}",
    "{%- endraw -%}{% assign x = 1 %}",
    "{{ 1 | plus: 41 }}",
    "{%",
]


def hostile_post() -> str:
    content = fixed_digest("en")
    content.trends = " ".join(f"Trend {n}: {attack}." for n, attack in enumerate(ATTACKS))
    content.highlights[0].title = "Claude {{ page.path }} ships"
    content.sources[0] = SourceRef(
        item_id=content.sources[0].item_id,
        title="{% include secret.txt %} Claude",
        url=content.sources[0].url,
        outlet="Wire",
    )
    return jekyll_post(content).text


def test_text_without_liquid_is_left_as_it_is() -> None:
    assert liquid_safe("plain {text} 100% ok\n") == "plain {text} 100% ok\n"


@pytest.mark.skipif(JEKYLL is None, reason="needs Debian's jekyll (scripts/test installs it)")
def test_jekyll_shows_liquid_from_the_digest_literally(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "_layouts").mkdir(parents=True)
    (site / "_posts").mkdir()
    (site / "_config.yml").write_text("markdown: kramdown\n")
    (site / "_layouts" / "post.html").write_text("<h1>{{ page.title }}</h1>\n{{ content }}\n")
    (site / "_includes").mkdir()
    (site / "_includes" / "secret.txt").write_text("SECRET-INCLUDED")
    (site / "_posts" / "2026-01-12-claude-daily.md").write_text(hostile_post(), "utf-8")
    done = subprocess.run(
        [str(JEKYLL), "build", "--safe", "-s", str(site), "-d", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    [page] = (tmp_path / "out").rglob("*.html")
    shown = html.unescape(page.read_text("utf-8"))
    for attack in ATTACKS:
        assert attack in shown
    assert "{{ page.path }}" in shown and "{% include secret.txt %}" in shown
    assert "SECRET-INCLUDED" not in shown and "42" not in shown
