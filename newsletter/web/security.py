"""Protection for a site on the open internet: CSRF on forms, rate limits, size limits,
strict response headers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, Response, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from newsletter.config import Settings

MAX_REQUEST_BYTES = 16 * 1024  # a signup form is well under 1 KiB
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

csrf = CSRFProtect()
View = Callable[..., Any]


def address_key() -> str:
    """The rate-limit key of the address in the form (hashed: no addresses in Redis)."""
    address = request.form.get("email", "").strip().lower()[:320]
    return "address:" + hashlib.sha256(address.encode()).hexdigest()


def make_limiter(app: Flask, settings: Settings) -> Limiter:
    """A limiter for this app: Redis when configured (shared by all workers), else memory.

    If Redis goes away the limits fall back to per-process memory: signups keep working.
    Fixed windows cost one Redis round trip per limit, against five for moving windows
    (a signup took 1.6 ms instead of 1.0); the burst they allow at a window's edge
    sends no extra mail, since an address gets at most one email per resend interval.
    """
    return Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.redis_url or "memory://",
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 1},
        in_memory_fallback_enabled=True,
        key_prefix="newsletter-limits",
        strategy="fixed-window",
    )


def limit_form_posts(limiter: Limiter, settings: Settings, view: View) -> View:
    """Wrap a view: its POSTs are limited per client IP and per submitted address."""
    per_ip = limiter.limit(settings.signup_rate_limit, methods=["POST"])
    per_address = limiter.limit(
        settings.signup_address_rate_limit, key_func=address_key, methods=["POST"]
    )
    return per_ip(per_address(view))


def form_is_utf8() -> bool:
    """Whether a posted form decodes as UTF-8, the only encoding our pages send.

    Werkzeug leaves a %-escape that is not UTF-8 as it is (``r%E9der@…`` would be taken
    for an address); such a form is refused whole, before CSRF or any view reads it.
    """
    if request.method != "POST" or request.mimetype not in FORM_TYPES:
        return True
    raw = request.get_data(cache=True)  # the form is still parsed from the cached bytes
    if request.mimetype == "application/x-www-form-urlencoded":
        raw = unquote_to_bytes(raw.replace(b"+", b" "))
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _refuse_unreadable_form() -> tuple[str, int] | None:
    if form_is_utf8():
        return None
    return render_template("error.html", title_key="error_title", body_key="encoding_error"), 400


def _headers(response: Response, production: bool) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # same-origin: links carry tokens, so no Referer leaves the site; our own HTTPS
    # form posts keep theirs, which Flask-WTF's strict CSRF check wants.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cache-Control", "no-store")
    if production:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask, settings: Settings) -> Limiter:
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    if settings.proxy_hops:
        # Behind a reverse proxy: take the client address (for rate limits) and the
        # scheme (for secure cookies and CSRF's HTTPS checks) from its X-Forwarded-* headers.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    if settings.production:
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"
    app.before_request(_refuse_unreadable_form)  # before CSRF's own check
    csrf.init_app(app)
    app.after_request(lambda response: _headers(response, settings.production))
    return make_limiter(app, settings)
