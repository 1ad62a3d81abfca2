"""Digest HTML: Jinja2 fills an MJML template from emails/, mjml-python compiles it,
premailer inlines the CSS (many mail clients ignore <style>).

That pipeline costs tens of milliseconds, so its result is cached per (digest content,
links, template): every recipient of a digest shares one render, and only the
placeholders of ``render.placeholders`` differ between them.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import mjml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from premailer import Premailer

from newsletter.digest.schema import DigestContent
from newsletter.i18n import labels
from newsletter.render.cache import RenderCache
from newsletter.render.frame import EmailFrame
from newsletter.render.links import public_url
from newsletter.render.placeholders import PREFERENCES, UNSUBSCRIBE
from newsletter.render.quotes import mark_quotations

EMAILS_DIR = Path(__file__).resolve().parents[2] / "emails"
DIGEST_TEMPLATE = "digest.mjml"
DOCTYPE = "<!doctype html>"
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "yi"})
CJK_LANGUAGES = frozenset({"zh", "ja", "ko"})

LATIN_FONTS = "-apple-system, BlinkMacSystemFont, 'Segoe UI', 'Helvetica Neue', Arial"
CJK_FONTS = "'PingFang TC', 'Noto Sans TC', 'Noto Sans CJK TC', 'Microsoft JhengHei'"
# Hidden after the preheader so that clients do not fill the inbox preview with body text.
PREHEADER_FILLER = "\u034f\u200c\u00a0" * 40

html_cache = RenderCache(size=32)


@cache
def email_templates() -> Environment:
    """The Jinja2 environment of ``emails/``: the digest and the notices alike."""
    environment = Environment(
        loader=FileSystemLoader(EMAILS_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["public_url"] = public_url
    environment.filters["quotations"] = mark_quotations
    return environment


def compile_mjml(source: str) -> str:
    """MJML to HTML with the CSS inlined."""
    return inline_css(mjml.mjml2html(source, disable_comments=True))


def inline_css(html: str) -> str:
    """Copy the CSS onto each element's ``style``, for clients that drop ``<style>``.

    The ``<style>`` blocks are kept as well: media queries (phones, dark mode) and client
    hooks such as Outlook.com's ``[data-ogsc]`` only work from there. premailer drops the
    doctype, which would put browsers and some clients in quirks mode; it is restored.
    """
    inlined = Premailer(
        html,
        keep_style_tags=True,
        strip_important=False,
        cssutils_logging_level=logging.CRITICAL,
        allow_network=False,
    ).transform()
    if not inlined.lstrip().lower().startswith("<!doctype"):
        inlined = f"{DOCTYPE}\n{inlined}"
    return inlined


def is_cjk(language: str) -> bool:
    return language.split("-")[0].lower() in CJK_LANGUAGES


def text_direction(language: str) -> str:
    return "rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


def font_stack(language: str) -> str:
    """System fonts only (no web font download); CJK faces first for CJK languages, so
    that punctuation takes its full-width CJK form."""
    if is_cjk(language):
        return f"{CJK_FONTS}, {LATIN_FONTS}, sans-serif"
    return f"{LATIN_FONTS}, {CJK_FONTS}, sans-serif"


@dataclass(frozen=True)
class EmailImage:
    """A remote image shown in the email (never needed to read it: it has ``alt`` text)."""

    url: str
    alt: str


def lead_links(content: DigestContent) -> dict[int, str]:
    """Each highlight's headline link: its first cited source that can be a public link."""
    urls = {source.item_id: public_url(source.url) for source in content.sources}
    leads = {}
    for number, highlight in enumerate(content.highlights):
        found = [url for item_id in highlight.item_ids if (url := urls.get(item_id))]
        if found:
            leads[number] = found[0]
    return leads


def digest_mjml(content: DigestContent, frame: EmailFrame, image: EmailImage | None = None) -> str:
    """The filled MJML source of the digest (before compilation)."""
    words = labels(content.language)
    cjk = is_cjk(content.language)
    return (
        email_templates()
        .get_template(DIGEST_TEMPLATE)
        .render(
            d=content,
            w=words,
            site=frame.site_name,
            sources={source.item_id: source for source in content.sources},
            leads=lead_links(content),
            links={
                "view_online": frame.view_online_url,
                "subscribe": frame.subscribe_url,
                "privacy": frame.privacy_url,
                "preferences": PREFERENCES,
                "unsubscribe": UNSUBSCRIBE,
            },
            postal_address=frame.postal_address,
            long_date=words["long_date"].format(d=content.date),
            direction=text_direction(content.language),
            font_stack=font_stack(content.language),
            mso_fonts="'Microsoft JhengHei', Arial, sans-serif" if cjk else "Arial, sans-serif",
            cjk=cjk,
            line_height="1.7" if cjk else "1.55",
            preheader_filler=PREHEADER_FILLER,
            image=image,
        )
    )


def render_key(content: DigestContent, *args: str) -> tuple[str, ...]:
    """What a render depends on: the content, the extra arguments and the template file
    (its modification time, so an edited template is never served from the cache)."""
    digest = hashlib.sha256(content.model_dump_json().encode()).hexdigest()
    template = (EMAILS_DIR / DIGEST_TEMPLATE).stat().st_mtime_ns
    return (digest, str(template), *args)


def render_digest_html(
    content: DigestContent, frame: EmailFrame, image: EmailImage | None = None
) -> str:
    """The digest email's HTML, with the recipient's links left as placeholders.

    Compiled once per distinct content, frame and image; later calls return the cached HTML.
    """
    image_key = (image.url, image.alt) if image else ()
    return html_cache.get_or_render(
        render_key(content, *frame.key(), *image_key),
        lambda: compile_mjml(digest_mjml(content, frame, image)),
    )
