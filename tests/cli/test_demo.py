"""The demo end to end on embedded defaults: fetch, write, render, deliver to the outbox."""

from __future__ import annotations

import email
from email import policy
from email.message import Message
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from newsletter.digest.schema import DigestContent
from newsletter.i18n import labels
from newsletter.models import Digest
from newsletter.services import current
from tests.support import cli_runner

HEADINGS = (
    "trends",
    "highlights",
    "analysis",
    "industry",
    "competition",
    "market",
    "key_points",
    "thinking",
    "developers",
    "everyday_users",
    "sources",
)


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
        assert message["Subject"] == digest.title
        words = labels(language)
        for key in HEADINGS:
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
