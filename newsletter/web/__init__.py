"""The subscriber-facing site: blueprints, protection and error pages are wired here."""

from __future__ import annotations

import math
import time

from flask import Blueprint, Flask, render_template
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from newsletter import services
from newsletter.i18n.site import wait_wording
from newsletter.web import (
    admin,
    archive,
    confirm,
    fresh_link,
    health,
    language,
    preferences,
    privacy,
    security,
    signup,
    webhooks,
)
from newsletter.web import unsubscribe as unsubscribe_views

site = Blueprint(
    "site", __name__, static_folder="static", static_url_path="/assets", template_folder="templates"
)
BLUEPRINTS = (
    site,
    health.bp,
    signup.bp,
    confirm.bp,
    fresh_link.bp,
    preferences.bp,
    unsubscribe_views.bp,
    archive.bp,
    privacy.bp,
    webhooks.bp,
)
RATE_LIMITED_ENDPOINTS = ("signup.signup", "signup.resend", "fresh_link.request_links")
ERROR_PAGES = {
    400: ("error_title", "bad_request_body"),
    404: ("not_found_title", "not_found_body"),
    413: ("too_large_title", "too_large_body"),
    429: ("rate_limited_title", "rate_limited_body"),
    500: ("error_title", "server_error_body"),
}


def _error_page(error: HTTPException, wait: int = 0) -> tuple[str, int]:
    code = error.code or 500
    title, body = ERROR_PAGES.get(code, ERROR_PAGES[500])
    page = render_template(
        "error.html", title_key=title, body_key=body, wait=wait, wait_for=wait_wording
    )
    return page, code


def _rate_limited_page(
    limiter: Limiter, error: RateLimitExceeded
) -> tuple[str, int, dict[str, str]]:
    """The 429 page: the page and Retry-After both say when the breached limit's window
    ends (the whole window if the store cannot tell).

    Flask-Limiter's own rate-limit headers are off: on every request they cost two more
    Redis round trips, for headers a browser form never reads; this asks once, on a 429.
    """
    wait = error.limit.limit.get_expiry()
    breached = limiter.current_limit
    if breached is not None and breached.breached:
        wait = min(wait, max(1, math.ceil(breached.window[0] - time.time())))
    page, code = _error_page(error, wait)
    return page, code, {"Retry-After": str(wait)}


def _csrf_page(error: CSRFError) -> tuple[str, int]:
    return render_template("error.html", title_key="error_title", body_key="csrf_error"), 400


def init_app(app: Flask) -> None:
    settings = services.of(app).settings
    limiter = security.init_app(app, settings)
    language.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    admin.init_app(app, limiter, settings)
    for endpoint in RATE_LIMITED_ENDPOINTS:
        app.view_functions[endpoint] = security.limit_form_posts(
            limiter, settings, app.view_functions[endpoint]
        )
    app.context_processor(
        lambda: {"site_name": settings.from_name, "postal_address": settings.postal_address}
    )
    app.register_error_handler(CSRFError, _csrf_page)
    app.register_error_handler(RateLimitExceeded, lambda error: _rate_limited_page(limiter, error))
    for code in ERROR_PAGES:
        app.register_error_handler(code, _error_page)
