"""The byte-level template: same content as a freshly built message, no header injection."""

from __future__ import annotations

import email
import re
from dataclasses import replace
from email import policy

import pytest

from newsletter.delivery.template import (
    DigestEnvelope,
    UnsafeHeader,
    compile_template,
    message_id,
)
from newsletter.render.email import RenderedEmail
from newsletter.render.placeholders import (
    PREFERENCES,
    UNSUBSCRIBE,
    PlaceholderError,
    RecipientLinks,
    personalize_html,
    personalize_text,
)

ENVELOPE = DigestEnvelope(
    from_address="digest@news.example.org",
    from_name="AI Daily Digest",
    list_id="Claude digest <claude.news.example.org>",
    feedback_id="7:claude:zh-TW:newsletter",
    domain="news.example.org",
)
LINKS = RecipientLinks(
    unsubscribe="https://news.example.org/unsubscribe/" + "Mq.abc-DEF_123" * 12 + "?a=1&b=2",
    preferences="https://news.example.org/preferences/token.with-=equals",
)


def rendered() -> RenderedEmail:
    long_line = "éx " * 60
    return RenderedEmail(
        subject="CLAUDE 每日摘要 - 2026-01-12",
        text=(
            f"{UNSUBSCRIBE} at a line start\n"
            f"{long_line}{PREFERENCES} mid-line after 180 columns\n"
            ".a dot line\nTrailing space \n"
            f"end: {UNSUBSCRIBE}"
        ),
        html=(
            f'<p>{long_line}</p><a href="{UNSUBSCRIBE}">退訂</a>'
            f'<a href="{PREFERENCES}">設定</a>=3D literal\n<p>tail</p>'
        ),
    )


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def test_rendered_message_decodes_to_the_personalised_parts() -> None:
    source = rendered()
    template = compile_template(source, ENVELOPE)
    mid = message_id(b"k" * 32, 7, 42, "link-key", ENVELOPE.domain)
    data = template.render("mei@example.com", mid, LINKS)

    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF line ends only
    message = parse(data)
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    # the parser keeps the wire's CRLF line ends; mail clients show them as line breaks
    assert plain.get_content().replace("\r\n", "\n") == personalize_text(source.text, LINKS)
    assert html.get_content().replace("\r\n", "\n") == personalize_html(source.html, LINKS)
    assert message["To"] == "mei@example.com"
    assert message["Message-ID"] == mid
    assert message["Subject"] == source.subject
    assert message["List-Id"] == ENVELOPE.list_id
    # no mailto: nothing reads mail sent to the From address (never advertise it)
    assert message["List-Unsubscribe"] == f"<{LINKS.unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Precedence"] == "bulk"
    assert message["Feedback-ID"] == "7:claude:zh-TW:newsletter"
    # RFC 5322 3.3: a numeric zone; "GMT" is obsolete syntax (4.3)
    assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", message["Date"])


def test_message_ids_are_opaque_stable_and_this_installations_own() -> None:
    """Same (digest, reader) and key: the same id on every resend; another secret, or
    the same ids after a database reset (a new random link key), gives another one."""
    key = b"k" * 32
    first = message_id(key, 7, 42, "link-key", "news.example.org")
    assert first == message_id(key, 7, 42, "link-key", "news.example.org")
    assert re.fullmatch(r"<[a-z2-7]{32}@news\.example\.org>", first)
    assert "7" not in first.partition("@")[0] or "42" not in first.partition("@")[0]
    others = {
        message_id(b"o" * 32, 7, 42, "link-key", "news.example.org"),  # another installation
        message_id(key, 7, 42, "new-link-key", "news.example.org"),  # after a reset
        message_id(key, 8, 42, "link-key", "news.example.org"),
        message_id(key, 7, 43, "link-key", "news.example.org"),
    }
    assert first not in others and len(others) == 4


def test_each_reader_gets_their_own_links_and_headers() -> None:
    template = compile_template(rendered(), ENVELOPE)
    other = RecipientLinks("https://news.example.org/unsubscribe/zz", "https://x.example/p")
    first = parse(template.render("a@example.com", "<m1@news.example.org>", LINKS))
    second = parse(template.render("b@example.com", "<m2@news.example.org>", other))
    assert LINKS.unsubscribe in first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    body = second.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "https://news.example.org/unsubscribe/zz" in body
    assert LINKS.unsubscribe not in body
    assert (first["To"], second["To"]) == ("a@example.com", "b@example.com")


@pytest.mark.parametrize(
    "recipient",
    [
        "a@example.com\r\nBcc: victim@example.net",
        "a@example.com\nBcc: victim@example.net",
        "a@example.com>, <victim@example.net",
        "mé@example.com",
        "no-at-sign",
    ],
)
def test_a_recipient_that_could_inject_headers_is_refused(recipient: str) -> None:
    template = compile_template(rendered(), ENVELOPE)
    with pytest.raises(UnsafeHeader):
        template.render(recipient, "<m@news.example.org>", LINKS)


def test_a_link_that_could_inject_headers_is_refused() -> None:
    with pytest.raises(PlaceholderError):
        RecipientLinks("https://x.example/u\r\nBcc: victim@example.net", LINKS.preferences)
    template = compile_template(rendered(), ENVELOPE)
    not_ascii = RecipientLinks("https://x.example/ü", LINKS.preferences)
    with pytest.raises(UnsafeHeader):
        template.render("a@example.com", "<m@news.example.org>", not_ascii)


@pytest.mark.parametrize(
    "change",
    [
        {"from_name": "Digest\r\nBcc: victim@example.net"},
        {"from_address": "digest@news.example.org\nBcc: victim@example.net"},
        {"list_id": "x\r\n <evil>"},
        {"feedback_id": "1:a\nX-Evil: 1"},
    ],
)
def test_unchecked_settings_never_reach_a_header(change: dict[str, str]) -> None:
    with pytest.raises(UnsafeHeader):
        compile_template(rendered(), replace(ENVELOPE, **change))


def test_a_subject_with_a_line_break_is_refused() -> None:
    source = rendered()
    with pytest.raises(UnsafeHeader):
        compile_template(replace(source, subject="Digest\r\nBcc: victim@example.net"), ENVELOPE)


def test_no_line_starts_with_a_dot_and_lines_stay_within_76_characters() -> None:
    """SMTP doubles a leading dot in every copy; the template writes none to double."""
    dotty = "\n".join(
        [".first", "x" * 75 + ".dot at the wrap", "." + "y" * 80, "." + "é" * 30, "..two"]
    )
    links = RecipientLinks(
        unsubscribe="https://news.example.org/unsubscribe/" + "a" * 37 + "." + "b" * 60,
        preferences="https://news.example.org/preferences/x",
    )
    email_ = RenderedEmail(subject="s", text=f"{dotty}\n{UNSUBSCRIBE}", html=f"<p>{dotty}</p>")
    raw = compile_template(email_, ENVELOPE).render("a@example.com", "<m@x>", links)
    lines = raw.split(b"\r\n")
    assert not [line for line in lines if line.startswith(b".")]
    body = raw.partition(b"\r\n\r\n")[2].split(b"\r\n")
    assert max(len(line) for line in body) <= 76  # RFC 2045
    parsed = email.message_from_bytes(raw, policy=policy.default)
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert text.replace("\r\n", "\n").rstrip("\n") == f"{dotty}\n{links.unsubscribe}"
    assert dotty in html.replace("\r\n", "\n")


def test_other_double_bracket_text_is_left_as_it_is() -> None:
    """Only our two link placeholders are slots; a digest may quote "[[TODO]]"."""
    email_ = RenderedEmail(
        subject="s", text=f"[[TODO]] and [[NOTE]]\n{UNSUBSCRIBE}", html="<p>[[TODO]]</p>"
    )
    raw = compile_template(email_, ENVELOPE).render("a@example.com", "<m@x>", LINKS)
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert "[[TODO]] and [[NOTE]]" in parsed.get_body(("plain",)).get_content()
    assert "[[TODO]]" in parsed.get_body(("html",)).get_content()
