"""Bounce and complaint notifications from email services.

Postmark's: the sender proves it knows NEWSLETTER_WEBHOOK_SECRET either by an
HMAC-SHA256 of the body in ``X-Newsletter-Signature: sha256=<hex>`` or as the HTTP Basic
password (what Postmark's webhook settings can send). Without the secret set, the
endpoint does not exist.

Amazon SES's, through SNS: each message is verified by its SNS signature and must come
from one of NEWSLETTER_SES_TOPIC_ARNS (``delivery.sns``); without topics set, the
endpoint does not exist. A subscription to the topic is confirmed by visiting its SNS
URL. Certificates and confirmations are fetched with ``SNS_FETCH`` from the app's
extensions when there (tests serve their own), else over HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from flask import Blueprint, Request, abort, current_app, request

from newsletter.delivery import sns
from newsletter.delivery.bounces import postmark_suppression, take_bounce
from newsletter.delivery.suppression import suppress
from newsletter.errors import InputError
from newsletter.services import current
from newsletter.web.security import csrf

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)
SNS_FETCH = "newsletter.sns_fetch"


def authentic(incoming: Request, secret: str) -> bool:
    signature = incoming.headers.get("X-Newsletter-Signature", "")
    if signature.startswith("sha256="):
        expected = hmac.new(secret.encode(), incoming.get_data(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature.removeprefix("sha256="), expected)
    auth = incoming.authorization
    return bool(auth and auth.password and hmac.compare_digest(auth.password, secret))


@bp.post("/postmark")
@csrf.exempt  # a server-to-server call, authenticated by the shared secret instead
def postmark() -> tuple[dict[str, object], int]:
    app = current()
    secret = app.settings.webhook_secret
    if not secret:
        abort(404)
    if not authentic(request, secret):
        return {"error": "bad signature"}, 401
    try:
        entry = postmark_suppression(request.get_json(silent=True))
    except InputError as error:
        return {"error": str(error)}, 400
    if entry is None:
        return {"suppressed": False}, 200
    with app.db.session() as session:
        suppress(session, [entry], hash_key=app.settings.suppression_key)
    return {"suppressed": True}, 200


@bp.post("/ses")
@csrf.exempt  # a server-to-server call, authenticated by its SNS signature instead
def ses() -> tuple[dict[str, object], int]:
    app = current()
    topics = app.settings.ses_topic_arns
    if not topics:
        abort(404)
    fetch: sns.Fetch = current_app.extensions.get(SNS_FETCH, sns.https_fetch)
    try:
        message = sns.verify(json.loads(request.get_data() or b"null"), topics, fetch)
        if message["Type"] == "SubscriptionConfirmation":
            sns.get(fetch, sns.sns_url(message.get("SubscribeURL")))
            return {"subscribed": True}, 200
    except sns.SnsRejected as error:
        return {"error": str(error)}, 403
    except sns.SnsUnavailable as error:
        log.warning("SNS unreachable: %s", error)
        return {"error": "SNS unreachable, deliver again later"}, 503
    except ValueError:
        return {"error": "not JSON"}, 400
    if message["Type"] != "Notification":
        return {"ignored": message["Type"]}, 200
    try:
        events = sns.ses_events(message)
    except InputError as error:
        return {"error": str(error)}, 400
    suppressed = 0
    with app.db.session() as session:
        for event in events:
            limit = app.settings.soft_bounce_limit
            key = app.settings.suppression_key
            if take_bounce(
                session, event.address, event.kind, event.detail, event.source, limit, key
            ):
                suppressed += 1
    return {"events": len(events), "suppressed": suppressed}, 200
