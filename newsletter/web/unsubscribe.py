"""`/unsubscribe/<token>`: RFC 8058 one-click POST, a confirm page for people, resubscribe.

Mailbox providers POST ``List-Unsubscribe=One-Click`` with no cookies and no CSRF token:
that request is answered 200 at once, sets no cookie and sends no mail. A GET (which
link scanners make) only shows a button. Unsubscribe tokens never expire.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from newsletter.i18n.site import wording
from newsletter.models import Subscriber, SubscriberStatus
from newsletter.render.notices import Kind
from newsletter.services import current
from newsletter.subscriptions import resubscribe, unsubscribe
from newsletter.tokens import Claim, InvalidToken, Purpose
from newsletter.web.common import owner, token_for, tokens
from newsletter.web.fresh_link import fresh_link_page
from newsletter.web.language import choose_language, use_language
from newsletter.web.notices import notify
from newsletter.web.security import csrf

bp = Blueprint("unsubscribe", __name__, url_prefix="/unsubscribe")

ONE_CLICK = ("List-Unsubscribe", "One-Click")


def _claim(token: str) -> Claim:
    """What the token says, or the "get a fresh link" page (tampered or cut-off link)."""
    try:
        return tokens().read(Purpose.UNSUBSCRIBE, token)
    except InvalidToken:
        abort(fresh_link_page(404))


def _legacy_reader(session: Session, claim: Claim) -> Subscriber | None:
    """The reader of a key-less token from an email sent before link keys, if their row
    is that old too: a mailbox's one-click unsubscribe keeps working (RFC 8058), and a
    row stored since (who may hold a freed id) is out of its reach. It shows nothing."""
    subscriber = session.get(Subscriber, claim.subscriber_id)
    return subscriber if subscriber is not None and subscriber.legacy_links else None


@bp.get("/<token>")
def show(token: str) -> tuple[str, int]:
    claim = _claim(token)
    if claim.legacy:  # a person with an old email: fresh links, nothing shown
        abort(fresh_link_page(404))
    with current().db.session() as session:
        subscriber = owner(session, claim)
        if subscriber is None:
            return render_template("unsubscribe.html", state="gone"), 200
        use_language(choose_language(subscriber.language))
        state = "left" if subscriber.status == SubscriberStatus.UNSUBSCRIBED else "subscribed"
        return render_template(
            "unsubscribe.html",
            state=state,
            email=subscriber.email,
            token=token,
            preferences=token_for(Purpose.PREFERENCES, subscriber),
        ), 200


@bp.post("/<token>")
@csrf.exempt
def post(token: str) -> Response:
    one_click = request.form.get(ONE_CLICK[0]) == ONE_CLICK[1]
    if not one_click:
        csrf.protect()  # the button on our own page is a normal form
    claim = _claim(token)
    with current().db.session() as session:
        subscriber = owner(session, claim)
        if one_click and subscriber is None and claim.legacy:
            subscriber = _legacy_reader(session, claim)
        left = subscriber is not None and unsubscribe(subscriber)
    if one_click:
        return Response("Unsubscribed.\n", 200, mimetype="text/plain")
    if left:
        notify(Kind.GOODBYE, claim.subscriber_id)
    return redirect(url_for(".show", token=token), 303)


@bp.post("/<token>/resubscribe")
def resubscribe_post(token: str) -> Response:
    claim = _claim(token)
    with current().db.session() as session:
        subscriber = owner(session, claim)
        if subscriber is None:
            abort(fresh_link_page(404))
        resubscribe(subscriber)
        language = subscriber.language
    flash(wording(choose_language(language))["resubscribed"])
    return redirect(url_for(".show", token=token), 303)
