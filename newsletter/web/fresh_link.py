"""`/links`: a reader whose unsubscribe or preferences link no longer works (cut off when
copied, or made for data since deleted) asks for fresh links by email.

Like signup and resend, the answer is the same whatever the address: the "check your
inbox" page, so nobody learns whether an address is on the list. A known address gets
at most one email per resend interval.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

from newsletter.addresses import normalize_email
from newsletter.errors import InputError
from newsletter.services import current
from newsletter.web.forms import FormResult, honeypot_filled, read_email
from newsletter.web.notices import send_fresh_links

bp = Blueprint("fresh_link", __name__)


def fresh_link_page(status: int, result: FormResult | None = None) -> Response:
    """The form, under a "this link does not work any more" notice unless asked for."""
    page = render_template(
        "fresh_link.html",
        form=result or FormResult(values={"email": ""}),
        cut_off=request.endpoint != "fresh_link.request_links",
    )
    return Response(page, status, mimetype="text/html")


@bp.get("/links")
def form() -> Response:
    return fresh_link_page(200)


@bp.post("/links")
def request_links() -> Response:
    if honeypot_filled(request.form):
        return redirect(url_for(".sent"), 303)
    result = FormResult()
    read_email(request.form, result)
    if not result.ok:
        return fresh_link_page(400, result)
    try:
        address = normalize_email(result.values["email"])  # syntax only: no lookup here
    except InputError:
        result.errors["email"] = "email_invalid"
        return fresh_link_page(400, result)
    send_fresh_links(address)
    return redirect(url_for(".sent"), 303)


@bp.get("/links/sent")
def sent() -> str:
    return render_template(
        "fresh_link_sent.html", minutes=current().settings.resend_interval_minutes
    )
