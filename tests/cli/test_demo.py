"""The demo end to end on embedded defaults: fetch, write, render, deliver to the outbox."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import Message
from pathlib import Path

from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import func, select

from newsletter.digest.language import is_chinese, simplified_characters, unquoted
from newsletter.digest.quality import normal_form, sentences
from newsletter.digest.schema import DigestContent
from newsletter.i18n import labels
from newsletter.models import Digest, Item
from newsletter.services import current
from tests.render.sections import shown_sections
from tests.support import cli_runner

HEADINGS = ("trends", "highlights", "analysis", "key_points", "thinking", "sources")
SECTIONS = ("summary", "trends", "highlights", "analysis", "key_points", "thinking")


def _parts(message: Message) -> dict[str, str]:
    parts = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return parts


def test_demo_delivers_one_email_per_confirmed_reader(app: Flask, settings) -> None:
    result = cli_runner(app).invoke(args=["demo", "--force"])
    assert result.exit_code == 0, result.output
    assert "Done: 3 email(s) delivered" in result.output

    files = sorted(Path(settings.outbox_dir).glob("*.eml"))
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in files
    ]
    recipients = sorted(message["To"] for message in messages)
    assert recipients == ["ada@example.com", "grace@example.com", "mei@example.com"]

    with app.app_context(), current().db.session() as session:
        digests = {
            d.language: DigestContent.model_validate(d.content)
            for d in session.scalars(select(Digest))
        }
    for message in messages:
        assert message.get_content_type() == "multipart/alternative"
        parts = _parts(message)
        assert set(parts) == {"text/plain", "text/html"}
        language = "zh-TW" if message["To"] == "mei@example.com" else "en"
        digest = digests[language]
        assert message["Subject"].strip() == digest.subject  # a long one is folded at once
        words = labels(language)
        for key in HEADINGS:
            if key in shown_sections(digest) or key not in SECTIONS:
                assert words[key] in parts["text/html"], key
        for source in digest.sources:
            assert f'href="{source.url}"' in parts["text/html"]
            assert source.url in parts["text/plain"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "https://news.example.org/unsubscribe/" in message["List-Unsubscribe"]


def test_demo_twice_sends_nothing_new(app: Flask, settings) -> None:
    runner = cli_runner(app)
    assert runner.invoke(args=["demo", "--force"]).exit_code == 0
    second = runner.invoke(args=["demo", "--force"])
    assert second.exit_code == 0, second.output
    assert len(list(Path(settings.outbox_dir).glob("*.eml"))) == 3
    with app.app_context(), current().db.session() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 2


REFERENCE_STORIES = {
    "healthcare and life sciences": {
        "https://www.anthropic.com/news/healthcare-life-sciences",
        "https://www.nbcnews.com/tech/tech-news/anthropic-health-care-rcna252872",
        "https://www.businessinsider.com/anthropic-chases-openai-ai-heath-claude-2026-1",
        "https://www.reddit.com/r/ClaudeAI/comments/1q9abcd/claude_for_healthcare_is_here/",
    },
    "third-party use of Claude Code blocked, xAI cut off": {
        "https://news.ycombinator.com/item?id=46549823",
        "https://venturebeat.com/technology/anthropic-cracks-down-on-unauthorized-claude-usage-by-third-party-harnesses",
        "https://www.reddit.com/r/ClaudeAI/comments/1q7zq1e/anthropic_blocks_thirdparty_use_of_claude_code/",
        "https://www.reddit.com/r/singularity/comments/1q8yzal/report_anthropic_cuts_off_xais_access_to_claude/",
    },
    "Allianz partnership": {
        "https://www.allianz.com/en/mediacenter/news/media-releases/260109-allianz-and-anthropic-forge-global-partnership.html",
        "https://www.anthropic.com/news/allianz",
        "https://www.reuters.com/technology/allianz-anthropic-claude-deal-2026-01-09/",
    },
}


def test_the_demo_highlights_are_the_reference_digests_three_stories(app: Flask, settings) -> None:
    """../shared/reference/digest-example.md has three highlights for this day; each of its
    stories is one highlight here, whatever the outlets called it."""
    assert cli_runner(app).invoke(args=["demo", "--force"]).exit_code == 0
    with app.app_context(), current().db.session() as session:
        for digest in session.scalars(select(Digest)):
            content = DigestContent.model_validate(digest.content)
            url = {source.item_id: source.url.rstrip("/") for source in content.sources}
            highlights = [{url[i] for i in h.item_ids} for h in content.highlights]
            assert len(highlights) == len(REFERENCE_STORIES), digest.language
            for name, urls in REFERENCE_STORIES.items():
                wanted = {u.rstrip("/") for u in urls}
                assert any(wanted <= found for found in highlights), (name, highlights)


def _prose_of_email(html: str, outlets: set[str]) -> list[str]:
    """The digest's own words in the email: every paragraph, list entry and highlight
    title, less the source list, the citation lines and the footer, with quotations
    (original headlines) and outlet names taken out."""
    soup = BeautifulSoup(html, "html.parser")
    # the masthead names the service and topic (proper names), as the footer does
    for boilerplate in soup.select("ol, p.refs, p.foot, p.kicker, p.ai, p.masthead, p.topic"):
        boilerplate.decompose()
    texts = []
    for element in soup.find_all(["p", "li", "h3"]):
        text = unquoted(element.get_text(" ", strip=True))
        for outlet in sorted(outlets, key=len, reverse=True):
            text = text.replace(outlet, " ")
        if re.search(r"\w", text):
            texts.append(element.get_text(" ", strip=True))
    return texts


def test_the_chinese_email_reads_as_chinese_once_with_three_highlights(
    app: Flask, settings
) -> None:
    assert cli_runner(app).invoke(args=["demo", "--force"]).exit_code == 0
    (path,) = [
        path
        for path in Path(settings.outbox_dir).glob("*.eml")
        if "mei@example.com" in path.read_text("utf-8", errors="replace")
    ]
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    html = _parts(message)["text/html"]
    with app.app_context(), current().db.session() as session:
        outlets = set(session.scalars(select(Item.outlet)))

    prose = _prose_of_email(html, outlets)
    assert len(prose) > 10
    for text in prose:
        own = unquoted(text)
        for outlet in outlets:
            own = own.replace(outlet, " ")
        assert is_chinese(own) and not simplified_characters(own), text
    said = [normal_form(s) for text in prose for s in sentences(text) if len(normal_form(s)) >= 8]
    assert len(said) == len(set(said)), "a sentence is repeated"
    soup = BeautifulSoup(html, "html.parser")
    assert len(soup.select("h3 span.num")) == 3
    assert message["Subject"].startswith("Claude 每日動態：")
