"""Readers in the console: search, one reader's history, CSV import and export, and the
suppression list."""

from __future__ import annotations

import io

from flask import Response, abort, flash, render_template, request

from newsletter import audience
from newsletter.catalog import list_topics
from newsletter.daily import jobs
from newsletter.daily.dispatch import dispatcher_for
from newsletter.errors import InputError
from newsletter.i18n import SUPPORTED_LANGUAGES
from newsletter.models import utcnow
from newsletter.readers_csv import export_readers, import_readers
from newsletter.render.notices import Kind
from newsletter.services import current
from newsletter.web.admin import bp
from newsletter.web.admin.auth import current_admin

IMPORT_MAX_BYTES = 5 * 1024 * 1024
CONSENT_MAX = 300  # of the 500 characters kept: who imported, when, and their account


def _page(**context: object) -> str:
    with current().db.session() as session:
        topics = [(topic.slug, topic.name) for topic in list_topics(session)]
    query = request.args.get("q", "")
    found = None
    if query.strip():
        with current().db.session() as session:
            found = audience.search(session, query)
    return render_template(
        "admin/subscribers.html",
        query=query,
        found=found,
        topics=topics,
        languages=SUPPORTED_LANGUAGES,
        **context,
    )


@bp.get("/subscribers")
def subscribers() -> str:
    return _page()


@bp.get("/subscribers/<int:subscriber_id>")
def reader(subscriber_id: int) -> str:
    app = current()
    with app.db.session() as session:
        found = audience.history(session, subscriber_id, app.settings.suppression_key)
        if found is None:
            abort(404)
        return render_template("admin/reader.html", history=found)


@bp.post("/subscribers/import")
def subscribers_import() -> str | tuple[str, int]:
    app = current()
    admin = current_admin()
    assert admin is not None
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InputError("choose a CSV file")
        try:
            text = upload.read(IMPORT_MAX_BYTES + 1).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError("the file must be UTF-8 text") from None
        if len(text) > IMPORT_MAX_BYTES:
            raise InputError(f"at most {IMPORT_MAX_BYTES // (1024 * 1024)} MB per import")
        topics = request.form.getlist("topics")
        if not topics and "topics" not in text.partition("\n")[0].lower():
            raise InputError("choose at least one topic (or give the file a topics column)")
        consent = _consent_note(admin.email) if request.form.get("consent") == "on" else None
        with app.db.session() as session:
            report = import_readers(
                session,
                io.StringIO(text),
                topics=topics,
                language=request.form.get("language") or "en",
                consent_note=consent,
                hash_key=app.settings.suppression_key,
            )
    except InputError as error:
        flash(str(error), "error")
        return _page(), 400
    dispatcher = dispatcher_for(app.settings)
    for subscriber_id in report.to_confirm:
        dispatcher.enqueue(jobs.send_notice, Kind.CONFIRM.value, subscriber_id)
    return _page(report=report)


@bp.get("/subscribers/export.csv")
def subscribers_export() -> Response:
    """Everyone, as ``newsletter subscribers export`` writes it (and imports it again)."""
    out = io.StringIO()
    with current().db.session() as session:
        export_readers(session, out)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="subscribers.csv"'},
    )


def _consent_note(operator: str) -> str:
    """The operator's account of how the file's readers agreed, recorded with who and when."""
    account = " ".join(request.form.get("consent_note", "").split())[:CONSENT_MAX]
    if not account:
        raise InputError("say how and when these readers consented")
    return f"imported by {operator} on {utcnow():%Y-%m-%d}; existing consent attested: {account}"


@bp.get("/suppressions")
def suppressions() -> str:
    with current().db.session() as session:
        total, entries = audience.recent_suppressions(session)
        return render_template("admin/suppressions.html", entries=entries, total=total)
