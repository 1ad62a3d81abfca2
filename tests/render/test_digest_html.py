"""The digest's HTML: content, structure, links, escaping, size, caching."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from newsletter.digest.schema import DigestContent
from newsletter.i18n import labels
from newsletter.render import html as render_html
from newsletter.render.frame import EmailFrame
from newsletter.render.html import (
    DIGEST_TEMPLATE,
    EMAILS_DIR,
    html_cache,
    render_digest_html,
)
from newsletter.render.links import public_url
from newsletter.render.placeholders import (
    PREFERENCES,
    UNSUBSCRIBE,
    RecipientLinks,
    personalize_html,
)
from tests.render.sections import shown_sections

GMAIL_CLIP_BYTES = 102 * 1024
DEV_BASE = "http://localhost:5000"
VIEW_ONLINE = f"{DEV_BASE}/archive/claude/2026-01-12?lang=en"
POSTAL = "AI Daily Digest, 1 Example Street, Taipei"
# As long as real signed tokens: the links are part of what Gmail measures.
LINKS = RecipientLinks(
    unsubscribe=f"{DEV_BASE}/unsubscribe/" + "u" * 120,
    preferences=f"{DEV_BASE}/preferences/" + "p" * 120,
)


def is_allowed_link(url: str, base_url: str) -> bool:
    """True for absolute https links, and for links under our own ``base_url`` (which is
    plain http in development)."""
    if url.startswith(base_url.rstrip("/") + "/"):
        return True
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)


def frame(view_online: str = VIEW_ONLINE, base: str = DEV_BASE) -> EmailFrame:
    return EmailFrame("AI Daily Digest", POSTAL, view_online, f"{base}/", f"{base}/privacy")


def render(content: DigestContent, view_online: str = VIEW_ONLINE) -> str:
    base = view_online.split("/archive/")[0]
    return render_digest_html(content, frame(view_online, base))


def soup_of(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def source_link(soup: BeautifulSoup, url: str, title: str) -> bool:
    """Whether the sources list links ``url`` under its title (then its outlet)."""
    return any(a.get_text().startswith(title) for a in soup.find_all("a", href=url))


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_every_part_of_the_digest_is_in_the_email(demo_digests, language: str) -> None:
    content = demo_digests[language]
    words = labels(language)
    html = render(content)
    soup = soup_of(html)
    text = soup.get_text(" ")

    assert soup.html["lang"] == language and soup.html["dir"] == "ltr"
    assert soup.title.string == content.title
    [preheader] = soup.find_all("div", class_="preheader")
    assert preheader.get_text().startswith(" ".join(content.summary))
    # hidden the standard way: never as text coloured like its background
    style = preheader["style"].replace(" ", "")
    assert "display:none" in style and "mso-hide:all" in style and "max-height:0" in style
    assert "color" not in style and "opacity" not in style
    assert soup.body.get_text(" ", strip=True).startswith(" ".join(content.summary))
    # the masthead: the service, then the topic, then the date
    assert soup.find(class_="brand").get_text() == "AI Daily Digest"
    assert soup.find(class_="topic").get_text() == content.topic_name
    assert words["long_date"].format(d=content.date) in text
    headings = [h.get_text(" ", strip=True) for h in soup.find_all("h2")]
    for key in shown_sections(content):
        assert words[key] in headings
    assert words["sources"] in headings
    numbered = [h for h in soup.find_all("h3") if h.find("span")]
    assert [h.get_text(" ", strip=True) for h in numbered] == [
        f"{n} {h.title}" for n, h in enumerate(content.highlights, 1)
    ]
    for heading, highlight in zip(numbered, content.highlights, strict=True):
        cited = [s for s in content.sources if s.item_id in highlight.item_ids]
        # the headline links to its lead source
        assert heading.find("a", class_="headline")["href"] == cited[0].url
        for source in cited:
            assert soup.find("a", href=source.url, string=source.outlet), source
    for source in content.sources:
        assert source_link(soup, source.url, source.title)
    footer = words["footer"].format(count=len(content.sources))
    assert footer in text and str(len(content.sources)) in footer
    assert soup.find("a", href=VIEW_ONLINE, string=words["view_online"])
    assert soup.find("a", href=PREFERENCES, string=words["preferences"])
    assert soup.find("a", href=UNSUBSCRIBE, string=words["unsubscribe"])
    assert soup.find("a", href=f"{DEV_BASE}/privacy", string=words["privacy"])
    forward = soup.find(class_="forward")
    assert words["forwarded"] in forward.get_text()
    assert forward.find("a", href=f"{DEV_BASE}/", string=words["subscribe"])
    assert POSTAL in text


def test_the_email_supports_dark_mode_and_outlook(demo_digests) -> None:
    html = render(demo_digests["en"])
    soup = soup_of(html)
    assert html.startswith("<!doctype html>")
    assert soup.find("meta", attrs={"name": "color-scheme", "content": "light dark"})
    assert soup.find("meta", attrs={"name": "supported-color-schemes"})
    styles = " ".join(style.get_text() for style in soup.find_all("style"))
    assert "@media (prefers-color-scheme: dark)" in styles
    assert "[data-ogsc]" in styles and "[data-ogsb]" in styles
    assert "<!--[if mso]><style>" in html
    assert "max-width:600px" in html.replace(" ", "")


def test_layout_tables_are_presentational(demo_digests) -> None:
    soup = soup_of(render(demo_digests["en"]))
    tables = soup.find_all("table")
    assert tables
    assert all(table.get("role") == "presentation" for table in tables)


def test_no_images_tracking_pixels_or_remote_resources(demo_digests) -> None:
    for content in demo_digests.values():
        html = render(content)
        soup = soup_of(html)
        assert not soup.find_all(["img", "link", "script", "iframe", "object"])
        assert "@import" not in html and "url(" not in html
        assert "googleapis" not in html


def test_zh_tw_uses_cjk_fonts_and_line_breaking(demo_digests) -> None:
    zh = render(demo_digests["zh-TW"])
    en = render(demo_digests["en"])
    assert re.search(r"font-family:\s*'PingFang TC'", zh)
    assert re.search(r"font-family:\s*-apple-system", en)
    assert "line-break:strict" in zh.replace(" ", "")
    assert "line-break:strict" not in en.replace(" ", "")
    assert "'Microsoft JhengHei', Arial" in zh


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_a_full_digest_stays_under_gmail_clipping(demo_digests, language: str) -> None:
    content = demo_digests[language]
    assert len(content.sources) >= 10
    html = personalize_html(render(content), LINKS)
    assert len(html.encode("utf-8")) < GMAIL_CLIP_BYTES


@pytest.mark.parametrize("base", [DEV_BASE, "https://news.example.org"])
def test_every_link_is_absolute_https_or_our_base_url(demo_digests, base: str) -> None:
    links = RecipientLinks(f"{base}/unsubscribe/t", f"{base}/preferences/t")
    for content in demo_digests.values():
        view_online = f"{base}/archive/claude/2026-01-12"
        soup = soup_of(personalize_html(render(content, view_online), links))
        hrefs = [a["href"] for a in soup.find_all("a")]
        assert len(hrefs) > len(content.sources)
        assert all(is_allowed_link(href, base) for href in hrefs), hrefs
        assert all(a.get("href") for a in soup.find_all("a"))


def test_link_policy() -> None:
    assert public_url("https://a.example/x?y=1") == "https://a.example/x?y=1"
    assert public_url("http://a.example/x") == "https://a.example/x"
    for bad in ("javascript:alert(1)", "data:text/html,x", "/relative", "https://", "https://a b"):
        assert public_url(bad) is None, bad
    assert is_allowed_link("http://localhost:5000/unsubscribe/t", "http://localhost:5000")
    assert not is_allowed_link("http://elsewhere.example/", "http://localhost:5000")
    assert not is_allowed_link("http://localhost:50000/x", "http://localhost:5000")


def test_feed_text_is_escaped_never_markup(hostile_digest: DigestContent) -> None:
    html = render(hostile_digest)
    soup = soup_of(html)
    assert not soup.find_all(["script", "img", "iframe", "b"])
    for tag in soup.find_all(True):
        assert not [name for name in tag.attrs if name.startswith("on")], tag.name
    text = soup.get_text(" ")
    # literal markup in feed or model text is removed, neither run nor shown as text
    assert "<script>" not in text and "alert(1)" not in text
    assert "onerror=alert(2)" not in text
    # The hostile link was http with a quote in it: upgraded to https, and the quote
    # (percent-encoded at ingestion) stays inside the attribute value.
    hrefs = [a["href"] for a in soup.find_all("a")]
    assert "https://hostile.example/story?a=1&b=%22onmouseover=alert(3)" in hrefs
    assert 'href="https://hostile.example/story?a=1&amp;b=%22onmouseover' in html


def test_a_digest_is_compiled_once_then_served_from_the_cache(demo_digests) -> None:
    content = demo_digests["en"]
    html_cache.clear()
    first = render(content)
    again = render(content)
    assert again is first
    assert (html_cache.misses, html_cache.hits) == (1, 1)
    changed = content.model_copy(update={"trends": "Something else happened today."})
    assert "Something else happened today." in render(changed)
    assert render(content, view_online=f"{DEV_BASE}/other") is not first
    assert html_cache.misses == 3


def test_an_edited_template_is_never_served_from_the_cache(demo_digests) -> None:
    content = demo_digests["en"]
    template = EMAILS_DIR / DIGEST_TEMPLATE
    first = render(content)
    stat = template.stat()
    try:
        os.utime(template, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert render(content) is not first
    finally:
        os.utime(template, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_personalisation_only_touches_the_placeholders(demo_digests) -> None:
    html = render(demo_digests["en"])
    personal = personalize_html(html, LINKS)
    assert UNSUBSCRIBE not in personal and PREFERENCES not in personal
    assert re.sub(r"https?://localhost:5000/(unsubscribe|preferences)/\w+", "", personal) == (
        html.replace(UNSUBSCRIBE, "").replace(PREFERENCES, "")
    )
    assert render_html.render_key(demo_digests["en"], "a") != render_html.render_key(
        demo_digests["zh-TW"], "a"
    )


def test_a_claude_written_ten_source_digest_fits_and_links_every_source(
    claude_written_digest: DigestContent,
) -> None:
    content = claude_written_digest
    assert len(content.sources) == 10 and content.language == "zh-TW"
    html = personalize_html(render(content), LINKS)
    assert len(html.encode("utf-8")) < GMAIL_CLIP_BYTES
    soup = soup_of(html)
    for source in content.sources:
        assert source_link(soup, source.url, source.title)
    assert "本文由 AI 自動生成，彙整自 10 篇新聞來源。" in soup.get_text()
