"""Review before send: digests of a topic with review required wait for an operator,
who sees the email as readers will, with its checks, and approves, rejects or edits it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from newsletter.app import create_app
from newsletter.config import Settings
from newsletter.daily import jobs, steps
from newsletter.db import Database
from newsletter.models import Delivery, Digest, DigestStatus, ReviewMode, Topic
from newsletter.services import Services
from tests.support import cli_runner
from tests.web.admin.console_helpers import OPERATOR, post, sign_in
from tests.web.site_helpers import outbox, text_of


def _digests(db: Database) -> dict[str, Digest]:
    with db.session() as session:
        return {d.language: d for d in session.scalars(select(Digest))}


def _deliveries(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Delivery)) or 0


def _readers_mail(settings: Settings) -> list:
    return [m for m in outbox(settings) if m["To"] in ("reader@example.com", "lector@example.com")]


def test_a_reviewed_topic_holds_its_digests_and_tells_the_operators(
    app: Flask, db: Database, settings: Settings, review_day: date
) -> None:
    digests = _digests(db)
    assert {d.status for d in digests.values()} == {DigestStatus.AWAITING_REVIEW}
    assert _deliveries(db) == 0 and _readers_mail(settings) == []
    notices = [m for m in outbox(settings) if m["To"] == OPERATOR]
    assert len(notices) == 1 and "2 digest(s) await your review" in notices[0]["Subject"]
    links = sorted(
        set(re.findall(r"https://news\.example\.org(/admin/review/\S+)", text_of(notices[0])))
    )
    assert len(links) == 2

    client = app.test_client()
    assert client.get(links[0]).status_code == 302  # not signed in: to the sign-in page
    sign_in(client)
    page = client.get(links[0], follow_redirects=True)
    assert page.status_code == 200 and "awaiting review" in page.get_data(as_text=True)
    assert client.get(links[0][:-3] + "abc").status_code == 404

    # building again, or a sweep, never sends a digest that waits
    with app.app_context():
        assert jobs.build("claude", review_day.isoformat()) == []
        jobs.sweep()
        assert steps.fan_out(Services(settings, db), digests["en"].id, lambda blocks: None) == 0
    assert _deliveries(db) == 0


def test_approve_sends_it(
    console: FlaskClient, db: Database, settings: Settings, review_day: date
) -> None:
    digest_id = _digests(db)["en"].id
    page = f"/admin/digests/{digest_id}"
    response = post(console, f"{page}/approve", page, follow_redirects=True)
    assert "Approved" in response.get_data(as_text=True)
    digest = _digests(db)["en"]
    assert digest.status == DigestStatus.READY and digest.reviewed_by == OPERATOR
    assert [m["To"] for m in _readers_mail(settings)] == ["reader@example.com"]
    assert _digests(db)["zh-TW"].status == DigestStatus.AWAITING_REVIEW

    again = post(console, f"{page}/approve", page, follow_redirects=True)
    assert "not awaiting review" in again.get_data(as_text=True)
    assert len(_readers_mail(settings)) == 1


def test_reject_holds_it_with_a_reason(
    console: FlaskClient, db: Database, settings: Settings, review_day: date
) -> None:
    digest_id = _digests(db)["en"].id
    page = f"/admin/digests/{digest_id}"
    no_reason = post(console, f"{page}/reject", page, {"reason": "  "}, follow_redirects=True)
    assert "say why the digest is held" in no_reason.get_data(as_text=True)
    assert _digests(db)["en"].status == DigestStatus.AWAITING_REVIEW

    post(console, f"{page}/reject", page, {"reason": "the second story is wrong"})
    digest = _digests(db)["en"]
    assert digest.status == DigestStatus.REJECTED
    assert digest.review_note == "the second story is wrong"
    assert _deliveries(db) == 0 and _readers_mail(settings) == []
    assert "the second story is wrong" in console.get(page).get_data(as_text=True)


def test_an_edit_is_grounded_again_and_reaches_the_readers(
    console: FlaskClient, db: Database, settings: Settings, review_day: date, link_site: str
) -> None:
    digest = _digests(db)["en"]
    page = f"/admin/digests/{digest.id}"
    before = digest.content

    foreign = "Read more at https://evil.example/claim now."
    refused = post(
        console,
        f"{page}/edit",
        page,
        {"part": "highlights.0.body", "text": foreign},
        follow_redirects=True,
    )
    assert "https://evil.example/claim" in refused.get_data(as_text=True)
    for part in ("highlights.99.body", "analysis.nothing", "sources"):
        bad = post(
            console, f"{page}/edit", page, {"part": part, "text": "x"}, follow_redirects=True
        )
        assert "no such part" in bad.get_data(as_text=True)
    chinese = "這段中文不該出現在英文的摘要裡，讀者看不懂。"
    gated = post(
        console,
        f"{page}/edit",
        page,
        {"part": "highlights.0.body", "text": chinese},
        follow_redirects=True,
    )
    assert "language" in gated.get_data(as_text=True)  # the quality gate's rule, named
    assert _digests(db)["en"].content == before

    grounded = f"Edited by an operator; see {link_site}/story/9001 for the details."
    post(console, f"{page}/edit", page, {"part": "highlights.0.body", "text": grounded})
    post(console, f"{page}/edit", page, {"part": "summary", "text": "One.\nTwo.\nThree."})
    edited = _digests(db)["en"].content
    assert edited["highlights"][0]["body"] == grounded
    assert edited["summary"] == ["One.", "Two.", "Three."]
    assert "Edited by an operator" in console.get(f"{page}/email.html").get_data(as_text=True)

    post(console, f"{page}/approve", page)
    (mail,) = _readers_mail(settings)
    assert "Edited by an operator" in text_of(mail)


def test_the_review_page_shows_the_email_and_its_checks(
    console: FlaskClient, db: Database, review_day: date, link_site: str
) -> None:
    digest = _digests(db)["zh-TW"]
    response = console.get(f"/admin/digests/{digest.id}")
    page = response.get_data(as_text=True)
    assert "frame-src 'self'" in response.headers["Content-Security-Policy"]
    assert 'class="phone"' in page and 'class="desktop"' in page  # this language
    assert 'class="sibling-phone"' in page and 'class="sibling-desktop"' in page  # the other
    assert page.count("<iframe") == 4
    assert re.search(r"HTML 大小 \d+\.\d KB|Size \d+\.\d KB of HTML", page)
    assert re.search(r"\d+ of \d+ links answer|\d+ 個連結中有 \d+ 個可連線", page)
    assert f"{link_site}/gone/9005: HTTP 404" in page  # the one story whose link is gone
    assert f"{link_site}/story/9001:" not in page
    assert 'hreflang="en"' in page  # the other language is one click away

    email = console.get(f"/admin/digests/{digest.id}/email.html")
    assert email.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in email.headers["Content-Security-Policy"]
    assert "script-src" not in email.headers["Content-Security-Policy"]
    assert "CLAUDE" in email.get_data(as_text=True)


def test_a_digest_not_approved_in_time_is_never_sent(
    settings: Settings, db: Database, review_day: date
) -> None:
    late = create_app(services=Services(replace(settings, review_grace_minutes=0), db))
    late.config["TESTING"] = True
    client = late.test_client()
    sign_in(client)
    digest_id = _digests(db)["en"].id
    page = f"/admin/digests/{digest_id}"
    response = post(client, f"{page}/approve", page, follow_redirects=True)
    assert "will not be sent" in response.get_data(as_text=True)
    assert _digests(db)["en"].status == DigestStatus.EXPIRED

    with late.app_context():
        jobs.sweep()  # the sweeper's check expires the other one and tells the operators
    assert _digests(db)["zh-TW"].status == DigestStatus.EXPIRED
    assert _deliveries(db) == 0 and _readers_mail(settings) == []
    told = [m for m in outbox(settings) if m["To"] == OPERATOR]
    assert "were not sent: no approval in time" in told[-1]["Subject"]
    assert "claude" not in told[-1]["Subject"]


def test_review_is_set_per_topic_on_the_command_line_and_in_the_console(
    app: Flask, console: FlaskClient, db: Database
) -> None:
    runner = cli_runner(app)
    assert runner.invoke(args=["topics", "review", "claude", "required"]).exit_code == 0
    assert runner.invoke(args=["topics", "review", "claude", "maybe"]).exit_code == 2
    post(console, "/admin/topics/openai/review", "/admin/topics", {"review": "required"})
    bad = post(
        console,
        "/admin/topics/openai/review",
        "/admin/topics",
        {"review": "sometimes"},
        follow_redirects=True,
    )
    assert "review is 'off' or 'required'" in unescape(bad.get_data(as_text=True))
    with db.session() as session:
        modes = dict(session.execute(select(Topic.slug, Topic.review)).all())
    assert modes == {"claude": ReviewMode.REQUIRED, "openai": ReviewMode.REQUIRED}
    post(console, "/admin/topics/claude/review", "/admin/topics", {"review": "off"})
    with db.session() as session:
        assert session.scalar(select(Topic.review).where(Topic.slug == "claude")) == "off"


def test_the_review_page_shows_text_that_is_not_grounded(
    console: FlaskClient, db: Database, review_day: date
) -> None:
    with db.session() as session:
        digest = session.scalars(select(Digest).where(Digest.language == "en")).one()
        content = dict(digest.content)
        content["trends"] = "See https://evil.example/x for more."
        content["highlights"] = [{**content["highlights"][0], "item_ids": [123456]}]
        digest.content = content
    page = unescape(console.get(f"/admin/digests/{digest.id}").get_data(as_text=True))
    assert "Not grounded on the day's ingested items" in page
    assert "cites item ids that do not exist: [123456]" in page
    assert "https://evil.example/x" in page.split("Not grounded")[1]


def test_a_held_digest_can_still_be_approved_in_time(
    console: FlaskClient, db: Database, settings: Settings, review_day: date
) -> None:
    digest_id = _digests(db)["zh-TW"].id
    page = f"/admin/digests/{digest_id}"
    post(console, f"{page}/reject", page, {"reason": "checking a figure"})
    assert _digests(db)["zh-TW"].status == DigestStatus.REJECTED
    post(console, f"{page}/approve", page)
    assert _digests(db)["zh-TW"].status == DigestStatus.READY
    assert [m["To"] for m in _readers_mail(settings)] == ["lector@example.com"]


def test_the_archive_shows_a_digest_only_once_it_is_approved(
    console: FlaskClient, db: Database, review_day: date
) -> None:
    archived = f"/archive/claude/{review_day.isoformat()}?lang=en"
    assert console.get(archived).status_code == 404
    assert "2026-01-12" not in console.get("/archive/claude/feed.xml?lang=en").get_data(
        as_text=True
    )
    digest_id = _digests(db)["en"].id
    page = f"/admin/digests/{digest_id}"
    post(console, f"{page}/approve", page)
    assert console.get(archived).status_code == 200
