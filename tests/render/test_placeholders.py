"""Per-recipient substitution: complete, escaped, single pass, refuses unsafe values."""

from __future__ import annotations

import pytest

from newsletter.render.placeholders import (
    PREFERENCES,
    UNSUBSCRIBE,
    PlaceholderError,
    RecipientLinks,
    fill_once,
    personalize_html,
    personalize_text,
)

LINKS = RecipientLinks(
    unsubscribe="https://news.example.org/unsubscribe/abc.def?x=1&y=2",
    preferences="https://news.example.org/preferences/abc.def",
)
HTML = f'<a href="{UNSUBSCRIBE}">u</a> <a href="{PREFERENCES}">p</a> <a href="{UNSUBSCRIBE}">u</a>'


def test_every_placeholder_is_filled_and_html_escaped() -> None:
    html = personalize_html(HTML, LINKS)
    assert html == (
        '<a href="https://news.example.org/unsubscribe/abc.def?x=1&amp;y=2">u</a> '
        '<a href="https://news.example.org/preferences/abc.def">p</a> '
        '<a href="https://news.example.org/unsubscribe/abc.def?x=1&amp;y=2">u</a>'
    )
    text = personalize_text(f"Leave: {UNSUBSCRIBE}\nTopics: {PREFERENCES}\n", LINKS)
    assert text == (
        "Leave: https://news.example.org/unsubscribe/abc.def?x=1&y=2\n"
        "Topics: https://news.example.org/preferences/abc.def\n"
    )


def test_a_value_is_never_substituted_again() -> None:
    sneaky = RecipientLinks(
        unsubscribe=f"https://news.example.org/u/{PREFERENCES}",
        preferences="https://news.example.org/p/1",
    )
    assert personalize_text(f"{UNSUBSCRIBE} {PREFERENCES}", sneaky) == (
        f"https://news.example.org/u/{PREFERENCES} https://news.example.org/p/1"
    )


def test_recipients_do_not_leak_into_each_other() -> None:
    other = RecipientLinks("https://news.example.org/unsubscribe/2", "https://news.example.org/p/2")
    first = personalize_html(HTML, LINKS)
    second = personalize_html(HTML, other)
    assert "abc.def" not in second and "/2" not in first


def test_text_without_placeholders_is_unchanged() -> None:
    assert personalize_html("<p>nothing personal</p>", LINKS) == "<p>nothing personal</p>"


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "/unsubscribe/relative",
        "https://news.example.org/u/1\r\nBcc: x@example.org",
        "https://news.example.org/u/1 2",
        "https://news.example.org/u/\x001",
        "",
    ],
)
def test_unsafe_links_are_refused(bad: str) -> None:
    with pytest.raises(PlaceholderError):
        RecipientLinks(unsubscribe=bad, preferences="https://news.example.org/p/1")
    with pytest.raises(PlaceholderError):
        RecipientLinks(unsubscribe="https://news.example.org/u/1", preferences=bad)


def test_fill_once_never_rescans_what_it_put_in() -> None:
    values = {"[[CONFIRM_URL]]": "https://x/[[RESUBSCRIBE_URL]]", "[[RESUBSCRIBE_URL]]": "y"}
    text = "[[CONFIRM_URL]] then [[RESUBSCRIBE_URL]]"
    assert fill_once(text, values) == "https://x/[[RESUBSCRIBE_URL]] then y"
