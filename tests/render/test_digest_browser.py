"""The digest in a real browser: phone and desktop widths, light and dark.

Screenshots go to test-artifacts/render/ (gitignored) for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from newsletter.i18n import labels
from newsletter.render.frame import EmailFrame
from newsletter.render.html import render_digest_html
from newsletter.render.placeholders import RecipientLinks, personalize_html
from tests.render.sections import shown_sections

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "render"
BASE = "https://news.example.org"
LINKS = RecipientLinks(f"{BASE}/unsubscribe/token", f"{BASE}/preferences/token")
# Phone height of the digest before the redesign (en: demo digest, zh-TW: the reference
# digest as Claude writes it): masthead, forward line and 44px targets must not grow it.
PHONE_HEIGHT_BEFORE = {"en": 6169, "zh-TW": 5477}
SECTION_KEYS = ("summary", "trends", "highlights", "analysis", "key_points", "thinking", "sources")


@pytest.fixture(scope="module")
def browser(demo_digests, claude_written_digest) -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright.

    Module-scoped and started after the digests are built: Playwright's sync API runs an
    event loop in this thread while it is open, and ingestion calls ``asyncio.run``.
    """
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield chromium
        chromium.close()


def open_email(browser: Browser, html: str, width: int, scheme: str) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)
    # Nothing may be fetched: an email that loads remote content would fail here.
    page.route("**/*", lambda route: route.abort())
    page.set_content(html, wait_until="load")
    return page


def background_of_body(page: Page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


@pytest.mark.parametrize("language", ["en", "zh-TW"])
@pytest.mark.parametrize("width", [375, 600])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_digest_reads_well_at_phone_and_desktop_width(
    browser: Browser, demo_digests, claude_written_digest, language: str, width: int, scheme: str
) -> None:
    # English: the demo digest; zh-TW: the Claude-written one, whose text is Chinese.
    content = demo_digests["en"] if language == "en" else claude_written_digest
    html = personalize_html(
        render_digest_html(
            content,
            EmailFrame(
                "AI Daily Digest",
                "AI Daily Digest, 1 Example Street, Taipei",
                f"{BASE}/archive/claude/2026-01-12?lang={language}",
                f"{BASE}/",
                f"{BASE}/privacy",
            ),
        ),
        LINKS,
    )
    page = open_email(browser, html, width, scheme)
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"digest-{language}-{width}-{scheme}.png", full_page=True)

        assert page.evaluate("document.compatMode") == "CSS1Compat"
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"horizontal scroll: {scroll_width} > {width}"
        words = labels(language)
        shown = shown_sections(content)
        for key in SECTION_KEYS:
            heading = page.get_by_role("heading", name=words[key], exact=True)
            if key != "sources" and key not in shown:  # the writer had no facts for it
                assert heading.count() == 0, key
                continue
            heading = page.get_by_role("heading", name=words[key], exact=True)
            assert heading.is_visible(), key
            box = heading.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, key
        card = page.locator(".card").first.bounding_box()
        assert card is not None and card["width"] <= 600
        if width == 375:
            assert card["width"] == 375  # single column, edge to edge on a phone
            height = page.evaluate("document.documentElement.scrollHeight")
            assert height < 0.95 * PHONE_HEIGHT_BEFORE[language], height
        expected = "rgb(13, 17, 23)" if scheme == "dark" else "rgb(242, 243, 245)"
        assert background_of_body(page) == expected
        # every link is a tap target of at least 44 x 44 px (none sits inside a sentence)
        for link in page.locator("a").all():
            box = link.bounding_box()
            assert box is not None, link.inner_text()
            assert box["height"] >= 44 and box["width"] >= 44, (link.inner_text(), box)
        # the preheader is hidden, not drawn in the background's colour
        assert not page.locator(".preheader").is_visible()
    finally:
        page.close()
