"""The console in a real browser on a live server, with mail going to an SMTP server on
loopback: sign in, review and approve, reject, edit then approve, a test send, a CSV
import. Screenshots go to test-artifacts/console-*.png; every page passes the site's
accessibility audit (lang, one h1, labelled inputs, contrast)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from newsletter.app import create_app
from newsletter.catalog import topic_by_slug
from newsletter.config import Settings
from newsletter.daily import jobs
from newsletter.db import Database
from newsletter.delivery.suppression import suppress
from newsletter.models import Delivery, Digest, DigestStatus, ReviewMode, Subscriber
from newsletter.services import Services
from tests.loopback import free_port
from tests.support import DEV_HASH_KEY
from tests.web.admin.console_helpers import OPERATOR, PASSWORD
from tests.web.site_helpers import add_reader
from tests.web.test_browser import CHROMIUM, Inbox, check, chromium

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"), reason="needs Debian's chromium"
)


@contextmanager
def live_console(settings: Settings, db: Database, smtp_port: int) -> Iterator[tuple[str, Flask]]:
    """The site on a werkzeug server in a thread, mailing through the SMTP server."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live = replace(
        settings, base_url=base, transport="smtp", smtp_host="127.0.0.1", smtp_port=smtp_port
    )
    app = create_app(services=Services(live, db))
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, app
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _built_for_review(app: Flask, db: Database, day: date) -> None:
    with db.session() as session:
        topic_by_slug(session, "claude").review = ReviewMode.REQUIRED
    with app.app_context():
        assert jobs.build("claude", day.isoformat()) == []


def _statuses(db: Database) -> dict[str, DigestStatus]:
    with db.session() as session:
        return dict(session.execute(select(Digest.language, Digest.status)).all())


def _sign_in(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the console")
    page.get_by_label("Email address").fill(OPERATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def test_sign_in_review_approve_and_reject_in_chromium(
    settings: Settings, db: Database, operator: str, day_news: date, inbox: tuple[Inbox, int]
) -> None:
    mail, smtp_port = inbox
    with live_console(settings, db, smtp_port) as (base, app), chromium() as browser:
        _built_for_review(app, db, day_news)
        notice = mail.wait_for(1)
        assert notice["To"] == OPERATOR and "await your review" in notice["Subject"]
        links = re.findall(
            rf"{re.escape(base)}/admin/review/\S+", notice.get_body(("plain",)).get_content()
        )

        page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="en-US")
        page.goto(base + "/admin/")
        page.get_by_label("Email address").fill(OPERATOR)
        page.get_by_label("Password").fill("not the password at all")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("do not match an operator")
        check(page, "console-1-sign-in-failed")

        page.goto(links[0])  # the review link: sign in first, then the digest
        _sign_in(page)
        expect(page.get_by_role("heading", level=1)).to_contain_text(
            "CLAUDE" if False else "Digest #"
        )
        expect(page.locator("iframe.phone")).to_be_visible()
        expect(page.locator("iframe.desktop")).to_be_visible()
        frame = page.frame_locator("iframe.desktop")
        expect(frame.get_by_text(re.compile("Daily Digest|每日動態")).first).to_be_visible()
        expect(page.get_by_text("HTTP 404")).to_be_visible()  # the story whose link is gone
        check(page, "console-2-review")
        language = "en" if "(en)" in page.get_by_role("heading", level=1).inner_text() else "zh-TW"

        page.get_by_role("button", name="Approve and send").click()
        expect(page.get_by_role("status")).to_contain_text("Approved")
        reader = "reader@example.com" if language == "en" else "lector@example.com"
        digest_mail = mail.wait_for(2)
        assert digest_mail["To"] == reader

        page.goto(links[1])
        page.get_by_label("Reason for holding it").fill("the second story is unconfirmed")
        page.get_by_role("button", name="Reject").click()
        expect(page.get_by_role("status")).to_contain_text("Rejected")
        check(page, "console-3-rejected")

        page.goto(base + "/admin/")
        check(page, "console-4-dashboard")
        expect(page.locator("svg.chart polyline")).to_have_count(2)
        page.goto(base + "/admin/?lang=zh-TW")
        expect(page.get_by_role("heading", level=1)).to_have_text("總覽")
        check(page, "console-5-dashboard-zh")
    other = "zh-TW" if language == "en" else "en"
    assert _statuses(db) == {language: DigestStatus.READY, other: DigestStatus.REJECTED}
    assert len(mail.messages) == 2


def test_edit_then_approve_and_a_test_send_in_chromium(
    settings: Settings,
    db: Database,
    operator: str,
    day_news: date,
    link_site: str,
    inbox: tuple[Inbox, int],
) -> None:
    mail, smtp_port = inbox
    with live_console(settings, db, smtp_port) as (base, app), chromium() as browser:
        _built_for_review(app, db, day_news)
        mail.wait_for(1)
        with db.session() as session:
            digest_id = session.scalar(select(Digest.id).where(Digest.language == "en"))
        page = browser.new_page(viewport={"width": 420, "height": 900}, locale="en-US")
        page.goto(f"{base}/admin/digests/{digest_id}")
        _sign_in(page)

        page.get_by_label("Part to edit").select_option("highlights.0.body")
        page.get_by_label("New text").fill("Claim it at https://evil.example/free now.")
        page.get_by_role("button", name="Save the edit").click()
        expect(page.get_by_role("alert")).to_contain_text("https://evil.example/free")

        page.get_by_label("Part to edit").select_option("highlights.0.body")
        page.get_by_label("New text").fill("Rewritten by the operator before sending.")
        page.get_by_role("button", name="Save the edit").click()
        expect(page.get_by_role("status")).to_contain_text("Saved")
        frame = page.frame_locator("iframe.phone")
        expect(frame.get_by_text("Rewritten by the operator before sending.")).to_be_visible()
        check(page, "console-6-edited-phone")

        page.get_by_label("Send to").fill("editor@example.net")
        page.get_by_role("button", name="Send the test").click()
        expect(page.get_by_role("status")).to_contain_text("Test sent to editor@example.net")
        test = mail.wait_for(2)
        assert test["To"] == "editor@example.net" and test["Subject"].startswith("[TEST] ")
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(Delivery)) == 0

        page.get_by_role("button", name="Approve and send").click()
        expect(page.get_by_role("status")).to_contain_text("Approved")
        sent = mail.wait_for(3)
        assert sent["To"] == "reader@example.com" and not sent["Subject"].startswith("[TEST]")
        assert "Rewritten by the operator" in sent.get_body(("plain",)).get_content()
    with db.session() as session:
        rows = (
            session.execute(
                select(Subscriber.email).join(Delivery, Delivery.subscriber_id == Subscriber.id)
            )
            .scalars()
            .all()
        )
    assert rows == ["reader@example.com"]  # the test made no delivery row


def test_csv_import_in_chromium(
    settings: Settings,
    db: Database,
    operator: str,
    topics: list[str],
    inbox: tuple[Inbox, int],
    tmp_path: Path,
) -> None:
    add_reader(db, "known@example.com")
    with db.session() as session:
        suppress(session, [("blocked@example.com", "spam complaint")], hash_key=DEV_HASH_KEY)
    upload = tmp_path / "readers.csv"
    upload.write_text(
        "email,language\nfresh@example.com,zh-TW\nknown@example.com\nnot-an-address\n"
        "blocked@example.com\nfresh@example.com\n",
        encoding="utf-8",
    )
    mail, smtp_port = inbox
    with live_console(settings, db, smtp_port) as (base, _app), chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="en-US")
        page.goto(base + "/admin/subscribers")
        _sign_in(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Subscribers")
        page.get_by_label("CSV file").set_input_files(str(upload))
        page.get_by_label("Claude").check()
        page.get_by_role("button", name="Import").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Imported 1 reader(s); 1 already known (topics added); 1 repeated line(s) merged; "
            "2 line(s) skipped."
        )
        report = page.locator("table.import-report")
        expect(report.locator("tbody tr")).to_have_count(2)  # the malformed, the suppressed
        expect(report).to_contain_text("on the suppression list")
        check(page, "console-7-import")
        confirmation = mail.wait_for(1)
        assert confirmation["To"] == "fresh@example.com"
        assert confirmation["Subject"] == "請確認訂閱 AI Daily Digest"

        page.get_by_label("Search by address").fill("fresh")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="fresh@example.com").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Reader fresh@example.com")
        check(page, "console-8-reader")
    assert len(mail.messages) == 1
