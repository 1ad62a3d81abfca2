"""Signup (`/`) with double opt-in, and asking for a new confirmation link (`/resend`).

Both answer the same way whatever the address: a redirect to the "check your inbox"
page, so nobody learns whether an address is subscribed. A signup sends one email
whether the address is new (confirm) or subscribed already (a reminder with the
preferences link), so the time taken does not tell them apart either; with workers the
email is only queued (``notices.notify``), the same for both.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from newsletter.app import services
from newsletter.catalog import InputError
from newsletter.render.transactional import Kind
from newsletter.subscriptions import (
    SignupRequest,
    request_resend,
    request_signup,
)
from newsletter.web.common import all_topics
from newsletter.web.forms import FormResult, honeypot_filled, read_email, read_signup
from newsletter.web.language import page_language
from newsletter.web.notices import notify

bp = Blueprint("signup", __name__)


def _resend_interval() -> timedelta:
    return timedelta(minutes=services().settings.resend_interval_minutes)


def _signup_page(result: FormResult, status: int = 200) -> tuple[str, int]:
    with services().db.session() as session:
        topics = [(topic.slug, topic.name) for topic in all_topics(session)]
    return render_template("signup.html", topics=topics, form=result), status


@bp.get("/")
def signup_form() -> tuple[str, int]:
    language = page_language()
    return _signup_page(FormResult(values={"email": "", "topics": [], "language": language}))


@bp.post("/")
def signup() -> Response | tuple[str, int]:
    app = services()
    if honeypot_filled(request.form):
        return redirect(url_for(".sent"), 303)
    with app.db.session() as session:  # one transaction: committed before the email goes
        known = [topic.slug for topic in all_topics(session)]
        result = read_signup(request.form, known, language=page_language())
        if not result.ok:
            return _signup_page(result, 400)
        signup_request = SignupRequest(
            address=result.values["email"],
            language=result.values["language"],
            topic_slugs=result.values["topics"],
        )
        try:
            notice = request_signup(
                session,
                signup_request,
                resend_interval=_resend_interval(),
                check_deliverability=app.settings.check_deliverability,
            )
        except InputError:
            session.rollback()
            result.errors["email"] = "email_invalid"
            return _signup_page(result, 400)
    if notice is not None:
        kind = Kind.ALREADY if notice.already_subscribed else Kind.CONFIRM
        if not notify(kind, notice.subscriber_id):
            result.errors["form"] = "send_failed"
            return _signup_page(result, 503)
    return redirect(url_for(".sent"), 303)


@bp.get("/signup/sent")
def sent() -> str:
    return render_template("signup_sent.html", days=services().settings.confirm_max_age_days)


def resend_page(result: FormResult, status: int = 200, *, reason: str = "") -> tuple[str, int]:
    """The "new confirmation link" form, optionally under an expired/invalid-link notice."""
    settings = services().settings
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
    app = services()
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
                resend_interval=_resend_interval(),
                check_deliverability=app.settings.check_deliverability,
            )
    except InputError:
        result.errors["email"] = "email_invalid"
        return resend_page(result, 400)
    if subscriber_id is not None and not notify(Kind.CONFIRM, subscriber_id):
        result.errors["form"] = "send_failed"
        return resend_page(result, 503)
    return redirect(url_for(".sent"), 303)
