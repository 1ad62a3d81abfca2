"""`/privacy`: what we store about a reader, for how long, that nothing tracks them, and
how to download or delete it. Linked from the site's footer and from every email."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

bp = Blueprint("privacy", __name__)


@bp.get("/privacy")
def privacy() -> str:
    return render_template("privacy.html", fresh_links=url_for("fresh_link.form"))
