"""Digests in the console: the list, and one digest's review page (the email as readers
get it, the checks before sending, approve / reject / edit)."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from newsletter.daily import jobs
from newsletter.daily import review as daily_review
from newsletter.delivery import rows
from newsletter.digest import review
from newsletter.digest.build import recent_digests
from newsletter.models import Digest
from newsletter.render.checks import check_email
from newsletter.render.email import render_email
from newsletter.render.placeholders import personalize_html, personalize_text
from newsletter.render.preview import preview_links
from newsletter.review_tokens import read_review_token
from newsletter.services import current
from newsletter.stats import tally
from newsletter.web.admin import bp
from newsletter.web.admin.auth import current_admin
from newsletter.web.admin.common import wording

LIST_LIMIT = 60
# The email's own page, framed by the review page: its inline styles may apply, nothing
# may run, and only the console may frame it.
EMAIL_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
REVIEW_PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def _digest(session: Session, digest_id: int) -> Digest:
    digest = session.get(Digest, digest_id)
    if digest is None:
        abort(404)
    return digest


@bp.get("/digests")
def digests() -> str:
    app = current()
    daily_review.expire_overdue(app)  # the page tells the truth even without a cron
    with app.db.session() as session:
        waiting = review.awaiting(session)
        recent = recent_digests(session, None, LIST_LIMIT)
        for digest in (*waiting, *recent):
            digest.topic  # noqa: B018 - loaded for the template
        return render_template("admin/digests.html", waiting=waiting, recent=recent)


@bp.get("/review/<token>")
def review_link(token: str) -> Response:
    """The link in a review request: the digest's page, if the link is genuine."""
    digest_id = read_review_token(current().settings.secret_key, token)
    if digest_id is None:
        abort(404)
    return redirect(url_for("admin.digest", digest_id=digest_id))


@bp.get("/digests/<int:digest_id>")
def digest(digest_id: int) -> Response:
    app = current()
    settings = app.settings
    with app.db.session() as session:
        found = _digest(session, digest_id)
        siblings = review.same_day(session, found)
        deadline = review.review_deadline(found, timedelta(minutes=settings.review_grace_minutes))
        rendered = render_email(settings, found) if found.content else None
        parts = review.editable_parts(found.content) if found.content else []
        grounding = review.grounding_problems(session, found)
        failed = rows.failed_recipients(session, found.id)
        counts = tally(session, found)
    # the links are asked with the database connection handed back: sites may be slow
    checks = (
        check_email(
            rendered.subject,
            rendered.html,
            settings.base_url,
            private_hosts=settings.link_check_private_hosts,
        )
        if rendered
        else None
    )
    text = personalize_text(rendered.text, preview_links(settings)) if rendered else ""
    page = render_template(
        "admin/digest.html",
        digest=found,
        siblings=siblings,
        deadline=deadline,
        rendered=rendered,
        checks=checks,
        text=text,
        parts=parts,
        reviewable=found.status in review.APPROVABLE,
        failed=failed,
        counts=counts,
        grounding=grounding,
    )
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = REVIEW_PAGE_POLICY
    return response


@bp.get("/digests/<int:digest_id>/email.html")
def digest_email(digest_id: int) -> Response:
    """The digest's HTML email exactly as a reader gets it (with a placeholder reader's
    links), for the review page's frames."""
    app = current()
    with app.db.session() as session:
        found = _digest(session, digest_id)
        if found.content is None:
            abort(404)
        rendered = render_email(app.settings, found)
    html = personalize_html(rendered.html, preview_links(app.settings))
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = EMAIL_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _reviewer() -> str:
    admin = current_admin()
    assert admin is not None  # the guard let the request in
    return admin.email


@bp.post("/digests/<int:digest_id>/approve")
def approve(digest_id: int) -> Response:
    try:
        jobs.approve(digest_id, _reviewer())
    except review.ReviewError as error:
        flash(str(error), "error")
    else:
        flash(wording()["approved"], "ok")
    return redirect(url_for("admin.digest", digest_id=digest_id))


@bp.post("/digests/<int:digest_id>/reject")
def reject(digest_id: int) -> Response:
    with current().db.session() as session:
        try:
            review.reject(
                session, _digest(session, digest_id), _reviewer(), request.form.get("reason", "")
            )
        except review.ReviewError as error:
            flash(str(error), "error")
        else:
            flash(wording()["rejected"], "ok")
    return redirect(url_for("admin.digest", digest_id=digest_id))


@bp.post("/digests/<int:digest_id>/edit")
def edit(digest_id: int) -> Response:
    with current().db.session() as session:
        try:
            review.edit(
                session,
                _digest(session, digest_id),
                request.form.get("part", ""),
                request.form.get("text", ""),
            )
        except review.ReviewError as error:
            session.rollback()
            flash(str(error), "error")
        else:
            flash(wording()["edited"], "ok")
    return redirect(url_for("admin.digest", digest_id=digest_id))


@bp.post("/digests/<int:digest_id>/retry")
def retry(digest_id: int) -> Response:
    """Retry the digest's temporarily failed deliveries (permanent failures stay)."""
    count = jobs.retry_failed(digest_id)
    flash(wording()["retried"].format(count=count), "ok")
    return redirect(url_for("admin.digest", digest_id=digest_id))
