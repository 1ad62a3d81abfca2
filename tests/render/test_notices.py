"""The confirm, welcome and goodbye emails: both languages, HTML and text, links intact."""

from __future__ import annotations

import pytest

from newsletter.delivery.notices import build_notice
from newsletter.i18n import email_labels, labels
from newsletter.render.notices import (
    Kind,
    NoticeContext,
    render_notice,
)

LINKS = {
    "confirm": "https://news.example.org/confirm/TOKEN-C",
    "preferences": "https://news.example.org/preferences/TOKEN-P",
    "unsubscribe": "https://news.example.org/unsubscribe/TOKEN-U",
    "resubscribe": "https://news.example.org/unsubscribe/TOKEN-U",
    "privacy": "https://news.example.org/privacy",
}
EXPECTED_LINKS = {
    Kind.CONFIRM: ["confirm"],
    Kind.WELCOME: ["preferences", "unsubscribe"],
    Kind.ALREADY: ["preferences", "unsubscribe"],
    Kind.GOODBYE: ["resubscribe"],
    Kind.LINKS: ["preferences", "unsubscribe"],
}


def context(language: str) -> NoticeContext:
    return NoticeContext(
        language=language,
        site="AI Daily Digest",
        topic_names=["Claude", "OpenAI"],
        postal_address="1 Example Street, Taipei",
        links=LINKS,
        confirm_days=7,
    )


@pytest.mark.parametrize("language", ["en", "zh-TW"])
@pytest.mark.parametrize("kind", list(Kind))
def test_each_notice_renders_in_each_language(kind: Kind, language: str) -> None:
    rendered = render_notice(kind, context(language))
    words = email_labels(language)
    assert rendered.subject == words[f"{kind}_subject"].format(site="AI Daily Digest")
    assert f'lang="{language}"' in rendered.html
    assert words[f"{kind}_heading"] in rendered.html
    assert words[f"{kind}_heading"] in rendered.text
    for key in EXPECTED_LINKS[kind]:
        assert f'href="{LINKS[key]}"' in rendered.html
        assert LINKS[key] in rendered.text.splitlines()
    assert "1 Example Street, Taipei" in rendered.text
    # every email links the privacy page
    assert f'href="{LINKS["privacy"]}"' in rendered.html
    assert f"{labels(language)['privacy']}: {LINKS['privacy']}" in rendered.text
    assert "<mj-" not in rendered.html and "{{" not in rendered.html


def test_confirm_names_the_topics_and_the_expiry() -> None:
    rendered = render_notice(Kind.CONFIRM, context("zh-TW"))
    assert "Claude、OpenAI" in rendered.text
    assert "7 天內有效" in rendered.text


def test_hostile_topic_names_are_escaped_in_html() -> None:
    hostile = NoticeContext(
        language="en",
        site="AI Daily Digest",
        topic_names=["<script>alert(1)</script>"],
        postal_address="x",
        links=LINKS,
    )
    rendered = render_notice(Kind.CONFIRM, hostile)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html


def test_a_line_break_in_the_recipient_cannot_add_a_header(settings) -> None:
    rendered = render_notice(Kind.CONFIRM, context("en"))
    with pytest.raises(ValueError):
        build_notice(settings, rendered, "a@example.com\r\nBcc: victim@example.net")
