"""The operator's console under /admin: server-rendered, English and Traditional Chinese,
no script. Every page and action needs a signed-in operator (``auth.guard``, which runs
before anything else in the request, CSRF check included)."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app
from flask_limiter import Limiter

from newsletter.config import Settings
from newsletter.i18n.admin import admin_wording
from newsletter.web.language import page_language

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
NAV = (
    ("admin.dashboard", "nav_dashboard"),
    ("admin.digests", "nav_digests"),
    ("admin.topics", "nav_topics"),
    ("admin.subscribers", "nav_subscribers"),
    ("admin.suppressions", "nav_suppressions"),
    ("admin.test_send", "nav_test_send"),
)


def console_nav() -> list[tuple[str, str]]:
    return [(endpoint, key) for endpoint, key in NAV if endpoint in current_app.view_functions]


@bp.context_processor
def _admin_context() -> dict[str, object]:
    from newsletter.web.admin.auth import current_admin

    return {
        "a": admin_wording(page_language()),
        "operator": current_admin(),
        "console_nav": console_nav,
    }


def init_app(app: Flask, limiter: Limiter, settings: Settings) -> None:
    from newsletter.web.admin import auth, dashboard, digests, readers, sending, topics

    # imported for the routes they add to ``bp``
    del dashboard, digests, readers, sending, topics
    app.register_blueprint(bp)
    # first of all before_request functions: an anonymous request to /admin is turned
    # away before it reaches anything (a 403 rather than the CSRF check's 400)
    app.before_request_funcs.setdefault(None, []).insert(0, auth.guard)
    app.view_functions["admin.login"] = limiter.limit(
        settings.admin_login_rate_limit, methods=["POST"]
    )(app.view_functions["admin.login"])
