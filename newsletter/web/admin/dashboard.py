"""The console's front page: the service at a glance."""

from __future__ import annotations

from flask import render_template

from newsletter.web.admin import bp


@bp.get("/")
def dashboard() -> str:
    return render_template("admin/dashboard.html")
