"""Topics in the console: whether each one's digests are reviewed before they are sent."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from newsletter.catalog import list_topics, topic_by_slug
from newsletter.digest.review import set_review
from newsletter.errors import InputError
from newsletter.services import current
from newsletter.web.admin import bp
from newsletter.web.admin.common import wording


@bp.get("/topics")
def topics() -> str:
    with current().db.session() as session:
        return render_template("admin/topics.html", topics=list_topics(session))


@bp.post("/topics/<slug>/review")
def topic_review(slug: str) -> Response:
    mode = request.form.get("review", "")
    with current().db.session() as session:
        try:
            set_review(topic_by_slug(session, slug), mode)
        except InputError as error:
            session.rollback()
            flash(str(error), "error")
        else:
            words = wording()
            flash(words["review_set"].format(topic=slug, mode=words[f"review_{mode}"]), "ok")
    return redirect(url_for("admin.topics"))
