"""What an operator changes and reads from the command line: topics edited and removed,
readers added to more topics, their real state and the counts per topic and language."""

from __future__ import annotations

from datetime import time

from flask import Flask
from sqlalchemy import func, select

from newsletter.demo import seed_demo
from newsletter.models import Source, Subscriber, SubscriberStatus, Subscription, Topic
from newsletter.services import current
from tests.support import DEV_HASH_KEY, cli_runner


def invoke(app: Flask, *args: str) -> tuple[int, str]:
    result = cli_runner(app).invoke(args=list(args))
    return result.exit_code, result.output


def seeded(app: Flask) -> Flask:
    with app.app_context(), current().db.session() as session:
        seed_demo(session, DEV_HASH_KEY)
    return app


def topic(app: Flask, slug: str) -> Topic | None:
    with app.app_context(), current().db.session() as session:
        found = session.scalar(select(Topic).where(Topic.slug == slug))
        if found is not None:
            session.expunge(found)
        return found


def test_topics_edit_changes_only_what_is_given(app: Flask) -> None:
    code, output = invoke(
        app, "topics", "add", "gemini", "Gemini", "--feed", "https://example.org/a.xml"
    )
    assert code == 0, output
    with app.app_context(), current().db.session() as session:
        first_source = session.scalars(select(Source.id)).one()
    code, output = invoke(
        app,
        "topics",
        "edit",
        "gemini",
        "--name",
        "Google Gemini",
        "--keyword",
        "Gemini",
        "--keyword",
        "Bard",
        "--language",
        "zh-TW",
        "--timezone",
        "Asia/Taipei",
        "--send-time",
        "06:45",
        "--add-feed",
        "https://example.org/b.xml",
        "--remove-source",
        str(first_source),
    )
    assert code == 0, output
    edited = topic(app, "gemini")
    assert edited is not None
    assert (edited.name, edited.keywords, edited.languages) == (
        "Google Gemini",
        ["Gemini", "Bard"],
        ["zh-TW"],
    )
    assert (edited.timezone, edited.send_time) == ("Asia/Taipei", time(6, 45))
    with app.app_context(), current().db.session() as session:
        assert list(session.scalars(select(Source.url))) == ["https://example.org/b.xml"]

    code, output = invoke(app, "topics", "edit", "gemini", "--send-time", "07:10")
    assert code == 0 and topic(app, "gemini").name == "Google Gemini"  # type: ignore[union-attr]


def test_topics_edit_refuses_bad_values_and_changes_nothing(app: Flask) -> None:
    invoke(app, "topics", "add", "gemini", "Gemini")
    for args, message in [
        (["--timezone", "Mars/Olympus"], "unknown time zone"),
        (["--send-time", "25:00"], "send time must be HH:MM"),
        (["--language", "fr"], "languages must be among"),
        (["--keyword", " "], "a topic needs at least one keyword"),
        (["--remove-source", "999"], "no source #999"),
        (["--add-feed", "ftp://example.org/x"], "a source URL must be http(s)"),
    ]:
        code, output = invoke(app, "topics", "edit", "gemini", "--name", "Changed", *args)
        assert code == 1 and output.startswith(f"Error: {message}"), output
        assert topic(app, "gemini").name == "Gemini"  # type: ignore[union-attr]
    code, output = invoke(app, "topics", "edit", "nope", "--name", "X")
    assert code == 1 and "unknown topic 'nope'" in output


def test_topics_remove_is_refused_while_readers_follow_unless_forced(app: Flask) -> None:
    seeded(app)
    code, output = invoke(app, "topics", "remove", "claude")
    assert code == 1
    assert output.startswith("Error: 4 reader(s) follow claude")  # pending ones count
    assert topic(app, "claude") is not None
    code, output = invoke(app, "topics", "remove", "claude", "--force")
    assert code == 0 and "Removed topic claude (4 reader(s) no longer follow it)." in output
    assert topic(app, "claude") is None
    with app.app_context(), current().db.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0
        assert session.scalar(select(func.count()).select_from(Source)) == 0

    invoke(app, "topics", "add", "empty", "Empty")
    code, output = invoke(app, "topics", "remove", "empty")
    assert code == 0 and "Removed topic empty." in output


def test_subscribers_add_adds_a_topic_to_an_existing_reader(app: Flask) -> None:
    seeded(app)
    invoke(app, "topics", "add", "gemini", "Gemini")
    code, output = invoke(app, "subscribers", "add", "Ada@Example.com", "--topic", "gemini")
    assert code == 0, output
    assert "ada@example.com already reads en: added gemini (confirmed)." in output
    with app.app_context(), current().db.session() as session:
        ada = session.scalar(select(Subscriber).where(Subscriber.email == "ada@example.com"))
        assert [t.slug for t in ada.topics] == ["claude", "gemini"]
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 5
    code, output = invoke(app, "subscribers", "add", "ada@example.com", "--topic", "gemini")
    assert code == 1 and "follows gemini already" in output
    code, output = invoke(
        app, "subscribers", "add", "pending@example.com", "--topic", "claude", "--confirmed"
    )
    assert code == 0 and "(confirmed)" in output


def test_subscribers_list_shows_the_real_state_and_counts_per_topic(app: Flask) -> None:
    seeded(app)
    with app.app_context(), current().db.session() as session:
        from newsletter.delivery.suppression import suppress

        suppress(
            session,
            [("grace@example.com", "bounced: 550 5.1.1 no such user")],
            hash_key=DEV_HASH_KEY,
        )
        mei = session.scalar(select(Subscriber).where(Subscriber.email == "mei@example.com"))
        mei.paused = True
    code, output = invoke(app, "subscribers", "list")
    assert code == 0, output
    grace = next(line for line in output.splitlines() if "grace@example.com" in line)
    assert "suppressed (bounced: 550 5.1.1 no such user)" in grace
    assert "confirmed" not in grace
    assert "paused" in next(line for line in output.splitlines() if "mei@" in line)
    assert "claude: 1 confirmed, 1 paused, 1 pending, 1 suppressed, 1 unsubscribed" in output


def test_topics_list_shows_readers_per_language(app: Flask) -> None:
    seeded(app)
    with app.app_context(), current().db.session() as session:
        session.add(
            Subscriber(
                email="lin@example.com",
                language="zh-TW",
                status=SubscriberStatus.CONFIRMED,
                topics=[session.scalar(select(Topic))],
            )
        )
    code, output = invoke(app, "topics", "list")
    assert code == 0, output
    row = next(line for line in output.splitlines() if "claude" in line)
    assert "en 2, zh-TW 2 (+1 pending)" in row
