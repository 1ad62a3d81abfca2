"""Test sends from the console: any digest or notice, to any address."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from newsletter.catalog import list_topics
from newsletter.delivery.proof import send_test, send_test_notice
from newsletter.delivery.transports import TransportError
from newsletter.digest.build import recent_digests
from newsletter.errors import InputError
from newsletter.i18n import SUPPORTED_LANGUAGES
from newsletter.render.notices import Kind
from newsletter.services import current
from newsletter.web.admin import bp
from newsletter.web.admin.common import wording

CHOICES_LIMIT = 30


@bp.get("/test-send")
def test_send() -> str:
    with current().db.session() as session:
        digests = [d for d in recent_digests(session, None, CHOICES_LIMIT) if d.content]
        for digest in digests:
            digest.topic  # noqa: B018 - loaded for the template
        return render_template(
            "admin/test_send.html",
            digests=digests,
            kinds=list(Kind),
            languages=SUPPORTED_LANGUAGES,
            chosen=request.args.get("what", ""),
        )


def _send(what: str, address: str) -> None:
    app = current()
    kind, _, rest = what.partition(":")
    if kind == "digest" and rest.isdigit():
        send_test(app.db, app.settings, int(rest), address)
        return
    notice, _, language = rest.partition(":")
    if kind != "notice" or notice not in set(Kind) or language not in SUPPORTED_LANGUAGES:
        raise InputError("choose a digest or a notice to send")
    with app.db.session() as session:
        names = [topic.name for topic in list_topics(session)][:2]
    send_test_notice(app.settings, Kind(notice), language, address, names)


@bp.post("/test-send")
def test_send_post() -> Response:
    what = request.form.get("what", "")
    address = request.form.get("address", "").strip()[:320]
    words = wording()
    try:
        _send(what, address)
    except (InputError, TransportError, ValueError) as error:
        flash(words["test_failed"].format(error=error), "error")
    else:
        flash(words["test_sent"].format(address=address), "ok")
    back = request.form.get("back", "")
    if back.isdigit():
        return redirect(url_for("admin.digest", digest_id=int(back)))
    return redirect(url_for("admin.test_send", what=what))
