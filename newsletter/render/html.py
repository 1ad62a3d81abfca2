"""Digest HTML: Jinja2 fills an MJML template from emails/, mjml-python compiles it,
premailer inlines the CSS (many mail clients ignore <style>)."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import mjml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from premailer import Premailer

from newsletter.digest.schema import DigestContent
from newsletter.i18n import labels
from newsletter.render.placeholders import PREFERENCES, UNSUBSCRIBE

EMAILS_DIR = Path(__file__).resolve().parents[2] / "emails"


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(EMAILS_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def compile_mjml(source: str) -> str:
    """MJML to HTML with the CSS inlined."""
    html = mjml.mjml2html(source, disable_comments=True)
    return Premailer(
        html,
        keep_style_tags=True,
        strip_important=False,
        cssutils_logging_level=logging.CRITICAL,
        allow_network=False,
    ).transform()


def render_digest_html(content: DigestContent, *, view_online_url: str, postal_address: str) -> str:
    """The digest email's HTML, with the recipient's links left as placeholders."""
    mjml_source = (
        _environment()
        .get_template("digest.mjml")
        .render(
            d=content,
            w=labels(content.language),
            sources={source.item_id: source for source in content.sources},
            links={
                "view_online": view_online_url,
                "preferences": PREFERENCES,
                "unsubscribe": UNSUBSCRIBE,
            },
            postal_address=postal_address,
        )
    )
    return compile_mjml(mjml_source)
