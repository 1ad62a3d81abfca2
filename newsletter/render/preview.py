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
from newsletter.models import Digest, DigestInfographic, DigestStatus
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
    infographic: bytes | None = None  # the stored PNG, when the digest has one
    infographic_alt: str = ""


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
        picture = session.get(DigestInfographic, digest_id)
    links = preview_links(settings)
    return Preview(
        digest_id,
        rendered.subject,
        personalize_html(rendered.html, links),
        personalize_text(rendered.text, links),
        picture.png if picture else None,
        picture.alt if picture else "",
    )


def write_preview(preview: Preview, folder: Path) -> list[Path]:
    """Write ``digest-ID.html``, ``digest-ID.txt`` and, when the digest has one, its
    infographic ``digest-ID-infographic.png`` into ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    html_path = folder / f"digest-{preview.digest_id}.html"
    text_path = folder / f"digest-{preview.digest_id}.txt"
    html_path.write_text(preview.html, encoding="utf-8")
    text_path.write_text(preview.text, encoding="utf-8")
    paths = [html_path, text_path]
    if preview.infographic is not None:
        paths.append(folder / f"digest-{preview.digest_id}-infographic.png")
        paths[-1].write_bytes(preview.infographic)
    return paths


def _index(preview: Preview) -> str:
    frames = "".join(
        f"<figure><figcaption>{width} px</figcaption>"
        f'<iframe src="/digest/{preview.digest_id}.html" width="{width}" height="900"></iframe>'
        "</figure>"
        for width in WIDTHS
    )
    picture = (
        f'<p><img src="/digest/{preview.digest_id}/infographic.png" width="600" height="315" '
        f'alt="{escape(preview.infographic_alt)}"></p>'
        if preview.infographic is not None
        else ""
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
        f"{picture}{frames}</html>"
    )


def preview_app(db: Database, settings: Settings, digest_id: int) -> Flask:
    """A local-only app showing one digest's email: ``/`` side by side at phone and
    desktop widths under its infographic, ``/digest/ID.html``, ``/digest/ID.txt`` and
    ``/digest/ID/infographic.png``."""
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

    @app.get("/digest/<int:requested>/infographic.png")
    def infographic(requested: int) -> Response:
        picture = current(requested).infographic
        if picture is None:
            abort(404)
        return Response(picture, mimetype="image/png")

    return app
