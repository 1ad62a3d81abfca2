"""A digest's email parts, rendered once per digest and language (recipients differ only
by their links, filled in on the way to the transport)."""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.config import Settings
from newsletter.digest.schema import DigestContent
from newsletter.models import Digest
from newsletter.render.frame import email_frame
from newsletter.render.html import render_digest_html
from newsletter.render.infographic_store import email_infographic
from newsletter.render.links import archive_url
from newsletter.render.text import render_digest_text


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def render_email(settings: Settings, digest: Digest) -> RenderedEmail:
    """The digest's email, rendered once for all its recipients."""
    assert digest.content is not None
    content = DigestContent.model_validate(digest.content)
    view_online = archive_url(settings.base_url, digest.topic.slug, digest.date, digest.language)
    frame = email_frame(settings, view_online)
    return RenderedEmail(
        subject=content.subject or content.title,
        html=render_digest_html(content, frame, email_infographic(settings, digest)),
        text=render_digest_text(content, frame),
    )
