"""`/preferences/<token>`: topics, language, pause, unsubscribe from all, download my
data, delete me. The token (from any email) is the only key; it never expires."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from newsletter.i18n.site import wording
from newsletter.models import Subscriber, SubscriberStatus
from newsletter.render.notices import Kind
from newsletter.services import current
from newsletter.subscriptions import export_data, forget, unsubscribe, update_preferences
from newsletter.tokens import Claim, InvalidToken, Purpose
from newsletter.web.common import all_topics, owner, token_for, tokens
from newsletter.web.forms import FormResult, read_preferences
from newsletter.web.fresh_link import fresh_link_page
from newsletter.web.language import choose_language, use_language
from newsletter.web.notices import notify

bp = Blueprint("preferences", __name__, url_prefix="/preferences")


def _claim(token: str) -> Claim:
    """What the token says, or the "get a fresh link" page (tampered or cut-off link)."""
    try:
        return tokens().read(Purpose.PREFERENCES, token)
    except InvalidToken:
        abort(fresh_link_page(404))


def _reader(session: Session, claim: Claim) -> Subscriber:
    """The token's own subscriber, or the "get a fresh link" page (deleted data)."""
    subscriber = owner(session, claim)
    if subscriber is None:
        abort(fresh_link_page(404))
    return subscriber


def _subscriber_id(token: str) -> int:
    """The subscriber of the token, checked against their row's link key."""
    claim = _claim(token)
    with current().db.session() as session:
        return _reader(session, claim).id


def _page(
    subscriber_id: int, result: FormResult | None = None, status: int = 200
) -> tuple[str, int]:
    with current().db.session() as session:
        subscriber = session.get_one(Subscriber, subscriber_id)
        use_language(choose_language(subscriber.language))
        if result is None:
            result = FormResult(
                values={
                    "topics": [topic.slug for topic in subscriber.topics],
                    "language": subscriber.language,
                    "paused": subscriber.paused,
                }
            )
        return render_template(
            "preferences.html",
            email=subscriber.email,
            unsubscribed=subscriber.status == SubscriberStatus.UNSUBSCRIBED,
            unsubscribe_token=token_for(Purpose.UNSUBSCRIBE, subscriber),
            topics=[(topic.slug, topic.name) for topic in all_topics(session)],
            form=result,
        ), status


@bp.get("/<token>")
def show(token: str) -> tuple[str, int]:
    return _page(_subscriber_id(token))


@bp.post("/<token>")
def save(token: str) -> Response | tuple[str, int]:
    subscriber_id = _subscriber_id(token)
    with current().db.session() as session:
        known = [topic.slug for topic in all_topics(session)]
        subscriber = session.get_one(Subscriber, subscriber_id)
        result = read_preferences(request.form, known, language=subscriber.language)
        if result.ok:
            update_preferences(
                session,
                subscriber,
                language=result.values["language"],
                topic_slugs=result.values["topics"],
                paused=result.values["paused"],
            )
    if not result.ok:
        return _page(subscriber_id, result, 400)
    flash(wording(result.values["language"])["saved"])
    return redirect(url_for(".show", token=token, lang=result.values["language"]), 303)


@bp.post("/<token>/unsubscribe")
def unsubscribe_all(token: str) -> Response:
    subscriber_id = _subscriber_id(token)
    with current().db.session() as session:
        reader = session.get_one(Subscriber, subscriber_id)
        left = unsubscribe(reader)
        unsubscribe_token = token_for(Purpose.UNSUBSCRIBE, reader)
    if left:
        notify(Kind.GOODBYE, subscriber_id)
    return redirect(url_for("unsubscribe.show", token=unsubscribe_token), 303)


@bp.get("/<token>/data.json")
def download(token: str) -> Response:
    subscriber_id = _subscriber_id(token)
    with current().db.session() as session:
        data = export_data(session, session.get_one(Subscriber, subscriber_id))
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-newsletter-data.json"'},
    )


@bp.get("/<token>/delete")
def delete_form(token: str) -> tuple[str, int]:
    subscriber_id = _subscriber_id(token)
    with current().db.session() as session:
        use_language(choose_language(session.get_one(Subscriber, subscriber_id).language))
    return render_template("delete.html", token=token, error=None), 200


@bp.post("/<token>/delete")
def delete(token: str) -> tuple[str, int]:
    subscriber_id = _subscriber_id(token)
    with current().db.session() as session:
        subscriber = session.get_one(Subscriber, subscriber_id)
        use_language(choose_language(subscriber.language))  # as the form was shown
        if request.form.get("confirm") != "yes":
            error = "delete_confirm_required"
            return render_template("delete.html", token=token, error=error), 400
        forget(session, subscriber, hash_key=current().settings.suppression_key)
    return render_template("deleted.html"), 200
