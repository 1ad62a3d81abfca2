"""`newsletter sources ...` and `newsletter fetch` as an operator uses them."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from newsletter.models import Item, Source, Topic
from newsletter.services import current
from newsletter.sources.manage import default_topics
from tests.sources.fakeweb import FakeSite, Reply, fixture_bytes
from tests.support import cli_runner

RSS = {"Content-Type": "application/rss+xml"}


@pytest.fixture(autouse=True)
def wide_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")  # rich reads it: table rows stay on one line


def invoke(app: Flask, *args: str) -> tuple[int, str]:
    result = cli_runner(app).invoke(args=list(args))
    return result.exit_code, result.output


def sources(app: Flask) -> list[Source]:
    with app.app_context(), current().db.session() as session:
        return list(session.scalars(select(Source).order_by(Source.id)))


def test_defaults_create_the_topics_once(app: Flask) -> None:
    code, output = invoke(app, "sources", "defaults", "claude", "openai", "gemini")
    assert code == 0, output
    shipped = default_topics()
    assert "claude: created topic, 5 source(s) added." in output
    assert len(sources(app)) == sum(len(spec["sources"]) for spec in shipped.values())
    kinds = {source.kind for source in sources(app) if source.topic_id == sources(app)[0].topic_id}
    assert kinds == {"web", "hn", "reddit", "gnews"}

    code, output = invoke(app, "sources", "defaults", "claude")
    assert code == 0 and "claude: 0 source(s) added." in output


def test_defaults_for_an_unknown_topic_fail_cleanly(app: Flask) -> None:
    code, output = invoke(app, "sources", "defaults", "llama")
    assert code == 1
    assert "no default sources for 'llama' (defaults: claude, openai, gemini)" in output
    assert sources(app) == []


def test_add_each_kind_and_refuse_bad_input(app: Flask) -> None:
    invoke(app, "topics", "add", "claude", "Claude", "--keyword", "Claude")
    ok = [
        ("rss", "Feed", "--url", "https://example.com/feed.xml"),
        ("gnews", "GN", "--query", "Anthropic Claude", "--language", "zh-TW"),
        ("hn", "HN", "--query", "Claude OR Anthropic", "--min-points", "5"),
        ("reddit", "Sub", "--subreddit", "ClaudeAI"),
        ("web", "Page", "--url", "https://www.anthropic.com/news", "--selector", "article a"),
    ]
    for kind, name, *options in ok:
        code, output = invoke(app, "sources", "add", "claude", kind, name, *options)
        assert code == 0, output
    bad = [
        (("web", "Page", "--url", "https://x.example", "--selector", "a[["), "bad CSS selector"),
        (("hn", "HN"), "a Hacker News source needs a query"),
        (("reddit", "Sub", "--subreddit", "no such/sub"), "not a subreddit name"),
        (("rss", "Feed", "--url", "ftp://example.com/feed"), "a source URL must be http(s)"),
        (("rss", "Feed", "--url", "http://example.com:99999/f"), "a source URL must be http(s)"),
        (("rss", "Feed", "--url", "https://[::1/feed"), "a source URL must be http(s)"),
        (("hn", "HN", "--query", "Claude " * 100), "its query or selector 500"),
        (("rss", "F", "--url", "https://e.com/" + "a" * 2000), "at most 2000 characters"),
        (("rss", "Again", "--url", "https://example.com/feed.xml"), "already has this rss source"),
        (("gnews", "GN", "--query", "x", "--language", "xx"), "language must be one of"),
    ]
    for args, message in bad:
        code, output = invoke(app, "sources", "add", "claude", *args)
        assert code == 1 and message in output, output
    code, output = invoke(app, "sources", "add", "nope", "rss", "F", "--url", "https://e.com/f")
    assert code == 1 and "unknown topic 'nope'" in output
    code, output = invoke(app, "sources", "add", "claude", "gopher", "F")
    assert code == 2 and "'gopher' is not one of 'rss', 'gnews', 'hn', 'reddit', 'web'" in output
    assert [source.kind for source in sources(app)] == ["rss", "gnews", "hn", "reddit", "web"]
    assert sources(app)[4].query == "article a"
    code, output = invoke(app, "sources", "list")
    assert code == 0 and "https://www.anthropic.com/news [article a]" in output


def test_fetch_without_sources_says_what_to_do(app: Flask) -> None:
    invoke(app, "topics", "add", "claude", "Claude")
    code, output = invoke(app, "fetch", "claude")
    assert code == 1
    assert "claude has no enabled sources: add some with `newsletter sources add`" in output


def test_disable_enable_remove_and_fetch_table(app: Flask, site: FakeSite) -> None:
    site.route("/good", Reply(body=fixture_bytes("rss2.xml"), headers=RSS))
    site.route("/bad", Reply(body=fixture_bytes("malformed.xml"), headers=RSS))
    site.route("/other", Reply(body=fixture_bytes("atom.xml"), headers=RSS))
    invoke(
        app, "topics", "add", "claude", "Claude", "--keyword", "Claude", "--keyword", "Anthropic"
    )
    for name in ("good", "bad", "other"):
        invoke(app, "sources", "add", "claude", "rss", name, "--url", site.url(f"/{name}"))
    good, bad, other = (source.id for source in sources(app))
    assert invoke(app, "sources", "disable", str(other))[1].startswith(
        f"Source #{other} (other) is disabled"
    )

    code, output = invoke(app, "fetch", "claude")
    assert code == 0, output
    lines = output.splitlines()
    row = next(line for line in lines if "│ good" in line)
    assert [cell.strip() for cell in row.split("│")[2:6]] == ["rss", "new", "3", "4"]
    row = next(line for line in lines if "│ bad" in line)
    assert "failed" in row and "not a readable feed" in row
    assert not any("│ other" in line for line in lines)
    assert "3 new item(s), 1 failed source(s)." in output
    assert site.hits("/other") == 0

    invoke(app, "sources", "enable", str(other))
    code, output = invoke(app, "fetch", "claude")
    assert "unchanged" in next(line for line in output.splitlines() if "│ good" in line)
    assert "1 new item(s), 1 failed source(s)." in output

    code, output = invoke(app, "sources", "list", "claude")
    assert code == 0 and "not a readable feed" in output and "unchanged" in output

    code, output = invoke(app, "sources", "remove", str(good))
    assert code == 0 and f"Removed source #{good} (good)." in output
    assert invoke(app, "sources", "remove", str(good))[0] == 1
    with app.app_context(), current().db.session() as session:
        assert session.scalars(select(Topic)).one().sources[0].id == bad
        kept = session.scalars(select(Item).where(Item.source_id.is_(None))).all()
    assert len(kept) == 3  # the removed source's items stay


def test_sources_list_tells_a_304_from_nothing_matching(app: Flask, site: FakeSite) -> None:
    def conditional(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(body=fixture_bytes("rss2.xml"), headers={**RSS, "ETag": '"v1"'})

    site.route("/cached", conditional)
    site.route("/elsewhere", Reply(body=fixture_bytes("rss2.xml"), headers=RSS))
    invoke(app, "topics", "add", "claude", "Claude", "--keyword", "Claude")
    invoke(app, "topics", "add", "llama", "Llama", "--keyword", "Llama")
    invoke(app, "sources", "add", "claude", "rss", "cached", "--url", site.url("/cached"))
    invoke(app, "sources", "add", "llama", "rss", "elsewhere", "--url", site.url("/elsewhere"))
    for _ in range(2):
        assert invoke(app, "fetch", "claude")[0] == 0
    code, output = invoke(app, "fetch", "llama")
    assert "no-match" in next(line for line in output.splitlines() if "│ elsewhere" in line)

    code, output = invoke(app, "sources", "list")
    assert code == 0, output
    assert "not-modified" in next(line for line in output.splitlines() if "│ cached" in line)
    assert "no-match" in next(line for line in output.splitlines() if "│ elsewhere" in line)
    assert "not-modified: HTTP 304" in output and "no-match: items, but none" in output


def test_piped_output_keeps_urls_and_errors_whole(
    app: Flask, site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS")  # what a pipe gets: no terminal width at all
    long_path = "/" + "very-long-segment/" * 12 + "feed.xml"
    site.route(long_path, Reply(404))
    invoke(app, "topics", "add", "claude", "Claude", "--keyword", "Claude")
    invoke(app, "sources", "add", "claude", "rss", "long", "--url", site.url(long_path))
    invoke(app, "fetch", "claude")
    code, output = invoke(app, "sources", "list")
    assert code == 0, output
    assert site.url(long_path) in output  # on one line, not cut or wrapped at 80 columns
    assert "HTTP 404" in output
