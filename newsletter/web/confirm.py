"""`/confirm/<token>`: the double opt-in. GET shows a button and changes nothing (mail
scanners fetch links); the POST confirms and sends the welcome email."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from newsletter.i18n import labels
from newsletter.models import Subscriber, SubscriberStatus
from newsletter.render.notices import Kind
from newsletter.services import current
from newsletter.subscriptions import confirm
from newsletter.tokens import InvalidToken, Purpose
from newsletter.web.common import token_for, tokens
from newsletter.web.forms import FormResult
from newsletter.web.language import choose_language, use_language
from newsletter.web.notices import notify
from newsletter.web.signup import resend_page

bp = Blueprint("confirm", __name__)


def _read(token: str) -> int:
    max_age = current().settings.confirm_max_age_days * 24 * 3600
    return tokens().read(Purpose.CONFIRM, token, max_age_seconds=max_age)


def _bad_link(error: InvalidToken) -> tuple[str, int]:
    reason = "expired" if error.expired else "invalid"
    return resend_page(
        FormResult(values={"email": ""}), 410 if error.expired else 400, reason=reason
    )


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> tuple[str, int]:
    try:
        subscriber_id = _read(token)
    except InvalidToken as error:
        return _bad_link(error)
    with current().db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None or subscriber.status == SubscriberStatus.UNSUBSCRIBED:
            return render_template("confirm.html", state="nothing"), 200
        language = choose_language(subscriber.language)
        use_language(language)
        return render_template(
            "confirm.html",
            state=subscriber.status.value,
            email=subscriber.email,
            topics=labels(language)["list_join"].join(t.name for t in subscriber.topics),
            preferences=token_for(Purpose.PREFERENCES, subscriber.id),
        ), 200


@bp.post("/confirm/<token>")
def confirm_post(token: str) -> Response | tuple[str, int]:
    try:
        subscriber_id = _read(token)
    except InvalidToken as error:
        return _bad_link(error)
    with current().db.session() as session:
        confirmed = confirm(session, subscriber_id) is not None
    if confirmed:
        notify(Kind.WELCOME, subscriber_id)
    return redirect(url_for(".confirm_page", token=token), 303)
