"""Bounce and complaint notifications from the email API, authenticated by a shared secret.

The sender proves it knows NEWSLETTER_WEBHOOK_SECRET either by an HMAC-SHA256 of the
body in ``X-Newsletter-Signature: sha256=<hex>`` or as the HTTP Basic password (what
Postmark's webhook settings can send). Without the secret set, the endpoint does not
exist.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, Request, abort, request

from newsletter.delivery.bounces import postmark_suppression
from newsletter.delivery.suppression import suppress
from newsletter.errors import InputError
from newsletter.services import current
from newsletter.web.security import csrf

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


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
