"""`/confirm/<token>`: the double opt-in. GET shows a button and changes nothing (mail
scanners fetch links); the POST confirms and sends the welcome email."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from newsletter.i18n import labels
from newsletter.models import SubscriberStatus, Topic
from newsletter.render.notices import Kind
from newsletter.services import current
from newsletter.subscriptions import confirm, link_is_newer
from newsletter.tokens import Claim, InvalidToken, Purpose
from newsletter.web.common import owner, token_for, tokens
from newsletter.web.forms import FormResult
from newsletter.web.language import choose_language, use_language
from newsletter.web.notices import notify
from newsletter.web.signup import resend_page

bp = Blueprint("confirm", __name__)


def _read(token: str) -> Claim:
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
        claim = _read(token)
    except InvalidToken as error:
        return _bad_link(error)
    with current().db.session() as session:
        subscriber = owner(session, claim)
        if subscriber is None or (
            subscriber.status == SubscriberStatus.UNSUBSCRIBED
            and not link_is_newer(claim, subscriber.unsubscribed_at)
        ):
            return render_template("confirm.html", state="nothing"), 200
        state = subscriber.status
        if state == SubscriberStatus.UNSUBSCRIBED:  # coming back: confirming is pending
            state = SubscriberStatus.PENDING
        chosen = claim.choices if state == SubscriberStatus.PENDING else None
        language = choose_language(chosen.language if chosen else subscriber.language)
        use_language(language)
        if chosen is not None:
            topics = _topic_names(session, chosen.topic_slugs)
        else:
            topics = [topic.name for topic in subscriber.topics]
        return render_template(
            "confirm.html",
            state=state.value,
            email=subscriber.email,
            topics=labels(language)["list_join"].join(topics),
            preferences=token_for(Purpose.PREFERENCES, subscriber),
        ), 200


def _topic_names(session: Session, slugs: tuple[str, ...]) -> list[str]:
    query = select(Topic.name).where(Topic.slug.in_(slugs)).order_by(Topic.slug)
    return list(session.scalars(query))


@bp.post("/confirm/<token>")
def confirm_post(token: str) -> Response | tuple[str, int]:
    try:
        claim = _read(token)
    except InvalidToken as error:
        return _bad_link(error)
    with current().db.session() as session:
        confirmed = confirm(session, claim, hash_key=current().settings.suppression_key)
    if confirmed is not None:
        notify(Kind.WELCOME, claim.subscriber_id)
    return redirect(url_for(".confirm_page", token=token), 303)
