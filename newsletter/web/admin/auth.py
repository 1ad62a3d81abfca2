"""Signing in and out, and the guard in front of every console page.

The session (Flask's signed cookie) holds the operator's id, a fingerprint of their
password hash, when they signed in and when they were last seen: it ends after
``NEWSLETTER_ADMIN_SESSION_MINUTES`` idle, after ``MAX_SESSION`` in all, when the
operator is removed or their password changes, and on sign-out.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import abort, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from newsletter import admins
from newsletter.models import Admin
from newsletter.services import current
from newsletter.web.admin import bp

SESSION_KEY = "operator"
MAX_SESSION = 12 * 3600
PUBLIC_ENDPOINTS = frozenset({"admin.login"})
# endpoints that take a file: a larger body than the site's forms, for operators only
UPLOADS = {"admin.subscribers_import": 5 * 1024 * 1024}


def current_admin() -> Admin | None:
    """The signed-in operator of this request (checked once per request)."""
    if "operator" not in g:
        g.operator = _signed_in()
    return g.operator


def _signed_in() -> Admin | None:
    state = session.get(SESSION_KEY)
    if not isinstance(state, dict):
        return None
    now = time.time()
    idle = current().settings.admin_session_minutes * 60
    try:
        expired = now - float(state["seen"]) > idle or now - float(state["since"]) > MAX_SESSION
        admin_id = int(state["id"])
    except (KeyError, TypeError, ValueError):
        expired, admin_id = True, 0
    with current().db.session() as db_session:
        admin = None if expired else db_session.get(Admin, admin_id)
    if admin is None or state.get("key") != admins.session_key(admin):
        session.pop(SESSION_KEY, None)
        return None
    state["seen"] = now
    session[SESSION_KEY] = state
    return admin


def guard() -> Response | None:
    """Before every request: a console page without a signed-in operator redirects to
    the sign-in page (GET) or is refused (anything else)."""
    endpoint = request.endpoint or ""
    if not endpoint.startswith("admin.") or endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_admin() is not None:
        if endpoint in UPLOADS:
            request.max_content_length = UPLOADS[endpoint]
        return None
    if request.method in ("GET", "HEAD"):
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
    abort(403)


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never another site (an open redirect)."""
    if (
        target
        and target.startswith("/admin")
        and not urlsplit(target).netloc
        and "\\" not in target
        and "//" not in target
    ):
        return target
    return url_for("admin.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    failed = False
    if request.method == "POST":
        with current().db.session() as db_session:
            admin = admins.authenticate(
                db_session,
                request.form.get("email", "")[:320],
                request.form.get("password", ""),
            )
            if admin is not None:
                session.clear()  # a fresh session: nothing carried over from before
                now = time.time()
                session[SESSION_KEY] = {
                    "id": admin.id,
                    "key": admins.session_key(admin),
                    "since": now,
                    "seen": now,
                }
                session.permanent = False
                return redirect(_safe_next(request.args.get("next")))
        failed = True
    page = render_template("admin/login.html", failed=failed, next=request.args.get("next", ""))
    return (page, 401) if failed else page


@bp.post("/logout")
def logout() -> Response:
    session.pop(SESSION_KEY, None)
    return redirect(url_for("admin.login"))
