"""A real browser on a live server: sign up, follow the confirm link from the email an
SMTP server on loopback received, change preferences, unsubscribe with one click.

Screenshots go to test-artifacts/ (gitignored). Each page is checked for a lang
attribute, one h1, a label for every input, and text contrast of at least 4.5:1.
"""

from __future__ import annotations

import email
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, expect, sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from newsletter.app import create_app
from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.models import Subscriber, SubscriberStatus
from newsletter.services import Services
from tests.loopback import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Without Chromium a developer's run skips these; CI must not pass without them.
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"), reason="needs Debian's chromium"
)

# Runs in the page: the problems an accessibility checker would report first.
AUDIT = """
() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push('html has no lang');
  if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
  for (const input of document.querySelectorAll('input, select, textarea')) {
    if (input.type === 'hidden' || input.closest('[aria-hidden="true"]')) continue;
    const label = input.id && document.querySelector(`label[for="${input.id}"]`);
    if (!label || !label.textContent.trim()) problems.push(`unlabelled ${input.name}`);
  }
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll('p, label, legend, a, button, li, h1, h2, h3')) {
    if (el.closest('[aria-hidden="true"]') || !el.textContent.trim()) continue;
    const fg = lum(rgb(getComputedStyle(el).color).slice(0, 3));
    const bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const text = el.textContent.trim().slice(0, 30);
    if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)} on "${text}"`);
  }
  return problems;
}
"""


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[arg-type]
        )
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"only {len(self.messages)} email(s) arrived"
            time.sleep(0.05)
        return self.messages[count - 1]


def link(message: EmailMessage, kind: str) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    match = re.search(rf"http://127\.0\.0\.1:\d+/{kind}/\S+", body.get_content())
    assert match, f"no {kind} link"
    return match.group(0)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@contextmanager
def serving(settings: Settings, db: Database, **changes: object) -> Iterator[str]:
    """The app on a werkzeug server in a thread; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live = replace(settings, base_url=base, **changes)  # type: ignore[arg-type]
    app = create_app(services=Services(live, db))
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def live_site(
    settings: Settings, db: Database, topics: list[str], inbox: tuple[Inbox, int]
) -> Iterator[str]:
    smtp = {"transport": "smtp", "smtp_host": "127.0.0.1", "smtp_port": inbox[1]}
    with serving(settings, db, **smtp) as base:
        yield base


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            yield browser
        finally:
            browser.close()


def check(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"site-{name}.png"), full_page=True)
    assert page.evaluate(AUDIT) == [], name


def test_signup_confirm_preferences_unsubscribe_in_chromium(
    live_site: str, inbox: tuple[Inbox, int], db: Database
) -> None:
    mail = inbox[0]
    with chromium() as browser:
        context = browser.new_context(locale="en-US", viewport={"width": 420, "height": 900})
        page = context.new_page()
        page.goto(live_site + "/")
        check(page, "1-signup")

        page.get_by_label("Email address").fill("reader@example.com")
        page.get_by_label("Claude").check()
        page.get_by_role("button", name="Subscribe").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
        check(page, "2-check-inbox")

        page.goto(link(mail.wait_for(1), "confirm"))
        check(page, "3-confirm")
        page.get_by_role("button", name="Confirm my subscription").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You are subscribed")
        check(page, "4-confirmed")

        welcome = mail.wait_for(2)
        assert welcome["Subject"] == "Welcome to AI Daily Digest"
        page.goto(link(welcome, "preferences"))
        page.get_by_label("OpenAI").check()
        page.get_by_label("繁體中文").check()
        check(page, "5-preferences")
        page.get_by_role("button", name="Save preferences").click()
        expect(page.get_by_role("status")).to_contain_text("已儲存您的設定")
        check(page, "6-preferences-saved")

        page.goto(link(welcome, "unsubscribe"))
        check(page, "7-unsubscribe")
        page.get_by_role("button", name="取消訂閱").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("已取消訂閱")
        check(page, "8-unsubscribed")

    with db.session() as session:
        reader = session.scalars(select(Subscriber)).one()
        assert reader.status == SubscriberStatus.UNSUBSCRIBED
        assert reader.language == "zh-TW"
        assert [topic.slug for topic in reader.topics] == ["claude", "openai"]
    goodbye = mail.wait_for(3)
    assert goodbye["Subject"] == "您已取消訂閱 AI Daily Digest"


def test_archive_pages_pass_the_audit_on_a_phone_and_a_desktop(
    settings: Settings, db: Database
) -> None:
    with db.session() as session:
        seed_demo(session, settings.suppression_key)
    steps.fetch(Services(settings, db), "claude")
    steps.build(Services(settings, db), "claude", SAMPLE_DATE, ["en", "zh-TW"])
    with serving(settings, db) as base, chromium() as browser:
        for width, device in ((420, "phone"), (1100, "desktop")):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(f"{base}/archive/claude/?lang=zh-TW")
            check(page, f"archive-index-{device}")
            page.get_by_role("link", name=re.compile("CLAUDE")).first.click()
            expect(page.get_by_role("heading", level=1)).to_contain_text(str(SAMPLE_DATE))
            check(page, f"archive-digest-{device}")
            page.close()
