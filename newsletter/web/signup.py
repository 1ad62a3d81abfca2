"""Signup (`/`) with double opt-in, and asking for a new confirmation link (`/resend`).

Both answer the same way whatever the address: a redirect to the "check your inbox"
page, so nobody learns whether an address is subscribed. A signup sends one email
whether the address is new (confirm) or subscribed already (a reminder with the
preferences link), so the time taken does not tell them apart either. With workers the
request only checks the form and queues the signup (``notices.sign_up``): it reads no
subscriber at all.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from newsletter.addresses import normalize_email
from newsletter.errors import InputError
from newsletter.render.notices import Kind
from newsletter.services import current
from newsletter.subscriptions import SignupRequest, request_resend
from newsletter.web.common import topic_choices
from newsletter.web.forms import FormResult, honeypot_filled, read_email, read_signup
from newsletter.web.language import page_language
from newsletter.web.notices import notify, sign_up

bp = Blueprint("signup", __name__)


def _signup_page(result: FormResult, status: int = 200) -> tuple[str, int]:
    return render_template("signup.html", topics=topic_choices(), form=result), status


@bp.get("/")
def signup_form() -> tuple[str, int]:
    language = page_language()
    return _signup_page(FormResult(values={"email": "", "topics": [], "language": language}))


@bp.post("/")
def signup() -> Response | tuple[str, int]:
    if honeypot_filled(request.form):
        return redirect(url_for(".sent"), 303)
    known = [slug for slug, _ in topic_choices()]
    result = read_signup(request.form, known, language=page_language())
    if result.ok:
        try:
            address = normalize_email(
                result.values["email"],
                check_deliverability=current().settings.check_deliverability,
            )
        except InputError:
            result.errors["email"] = "email_invalid"
    if not result.ok:
        return _signup_page(result, 400)
    try:
        sent = sign_up(SignupRequest(address, result.values["language"], result.values["topics"]))
    except InputError:
        result.errors["topics"] = "topics_unknown"
        return _signup_page(result, 400)
    if not sent:
        result.errors["form"] = "send_failed"
        return _signup_page(result, 503)
    return redirect(url_for(".sent"), 303)


@bp.get("/signup/sent")
def sent() -> str:
    return render_template("signup_sent.html", days=current().settings.confirm_max_age_days)


def resend_page(result: FormResult, status: int = 200, *, reason: str = "") -> tuple[str, int]:
    """The "new confirmation link" form, optionally under an expired/invalid-link notice."""
    settings = current().settings
    return render_template(
        "resend.html",
        form=result,
        reason=reason,
        days=settings.confirm_max_age_days,
        minutes=settings.resend_interval_minutes,
    ), status


@bp.get("/resend")
def resend_form() -> tuple[str, int]:
    return resend_page(FormResult(values={"email": ""}))


@bp.post("/resend")
def resend() -> Response | tuple[str, int]:
    app = current()
    if honeypot_filled(request.form):
        return redirect(url_for(".sent"), 303)
    result = FormResult()
    read_email(request.form, result)
    if not result.ok:
        return resend_page(result, 400)
    try:
        with app.db.session() as session:
            subscriber_id = request_resend(
                session,
                result.values["email"],
                resend_interval=app.settings.resend_interval,
                hash_key=app.settings.suppression_key,
            )
    except InputError:
        result.errors["email"] = "email_invalid"
        return resend_page(result, 400)
    if subscriber_id is not None and not notify(Kind.CONFIRM, subscriber_id):
        result.errors["form"] = "send_failed"
        return resend_page(result, 503)
    return redirect(url_for(".sent"), 303)
