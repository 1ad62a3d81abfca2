"""Previews of a digest's email for whoever edits the templates: files, and a small local
server that re-renders on every request (an edited template shows on reload).

The recipient links are filled with clearly fake ``.../preview`` URLs: a preview is never a
working unsubscribe link for anybody.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

from flask import Flask, Response, abort

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.models import Digest, DigestStatus
from newsletter.render.email import render_email
from newsletter.render.placeholders import RecipientLinks, personalize_html, personalize_text

WIDTHS = (375, 600)


class NoSuchDigest(LookupError):
    """The digest does not exist or has no content to show."""


@dataclass(frozen=True)
class Preview:
    digest_id: int
    subject: str
    html: str
    text: str


def preview_links(settings: Settings) -> RecipientLinks:
    base = settings.base_url
    return RecipientLinks(
        unsubscribe=f"{base}/unsubscribe/preview", preferences=f"{base}/preferences/preview"
    )


def render_preview(db: Database, settings: Settings, digest_id: int) -> Preview:
    """The digest's email as one recipient would get it, with preview links."""
    with db.session() as session:
        digest = session.get(Digest, digest_id)
        if digest is None or digest.status != DigestStatus.READY or digest.content is None:
            raise NoSuchDigest(f"no ready digest #{digest_id}")
        rendered = render_email(settings, digest)
    links = preview_links(settings)
    return Preview(
        digest_id,
        rendered.subject,
        personalize_html(rendered.html, links),
        personalize_text(rendered.text, links),
    )


def write_preview(preview: Preview, folder: Path) -> tuple[Path, Path]:
    """Write ``digest-ID.html`` and ``digest-ID.txt`` into ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    html_path = folder / f"digest-{preview.digest_id}.html"
    text_path = folder / f"digest-{preview.digest_id}.txt"
    html_path.write_text(preview.html, encoding="utf-8")
    text_path.write_text(preview.text, encoding="utf-8")
    return html_path, text_path


def _index(preview: Preview) -> str:
    frames = "".join(
        f"<figure><figcaption>{width} px</figcaption>"
        f'<iframe src="/digest/{preview.digest_id}.html" width="{width}" height="900"></iframe>'
        "</figure>"
        for width in WIDTHS
    )
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        f"<title>Preview: {escape(preview.subject)}</title>"
        "<style>body{font:14px system-ui,sans-serif;margin:16px}figure{display:inline-block;"
        "vertical-align:top;margin:0 16px 16px 0}iframe{border:1px solid #ccc}</style>"
        f"<h1>{escape(preview.subject)}</h1>"
        f'<p><a href="/digest/{preview.digest_id}.html">HTML</a> · '
        f'<a href="/digest/{preview.digest_id}.txt">plain text</a> · '
        "dark mode: switch your system or browser theme</p>"
        f"{frames}</html>"
    )


def preview_app(db: Database, settings: Settings, digest_id: int) -> Flask:
    """A local-only app showing one digest's email: ``/`` side by side at phone and
    desktop widths, ``/digest/ID.html`` and ``/digest/ID.txt``."""
    app = Flask(__name__)

    def current(requested: int) -> Preview:
        try:
            return render_preview(db, settings, requested)
        except NoSuchDigest:
            abort(404)

    @app.get("/")
    def index() -> Response:
        return Response(_index(current(digest_id)), mimetype="text/html")

    @app.get("/digest/<int:requested>.html")
    def html(requested: int) -> Response:
        return Response(current(requested).html, mimetype="text/html")

    @app.get("/digest/<int:requested>.txt")
    def text(requested: int) -> Response:
        return Response(current(requested).text, mimetype="text/plain")

    return app
