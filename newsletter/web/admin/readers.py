"""Readers in the console: search, one reader's history, CSV import and export, and the
suppression list."""

from __future__ import annotations

from flask import Response, abort, flash, render_template, request, stream_with_context

from newsletter import readers as reader_queries
from newsletter.catalog import list_topics
from newsletter.daily import jobs
from newsletter.daily.dispatch import dispatcher_for
from newsletter.errors import InputError
from newsletter.i18n import SUPPORTED_LANGUAGES
from newsletter.render.notices import Kind
from newsletter.services import current
from newsletter.subscriber_csv import MAX_LINES, export_readers, import_readers
from newsletter.web.admin import bp
from newsletter.web.admin.auth import current_admin

IMPORT_MAX_BYTES = 5 * 1024 * 1024


def _page(**context: object) -> str:
    with current().db.session() as session:
        topics = [(topic.slug, topic.name) for topic in list_topics(session)]
    query = request.args.get("q", "")
    found = None
    if query.strip():
        with current().db.session() as session:
            found = reader_queries.search(session, query)
    return render_template(
        "admin/subscribers.html",
        query=query,
        found=found,
        topics=topics,
        languages=SUPPORTED_LANGUAGES,
        max_lines=MAX_LINES,
        **context,
    )


@bp.get("/subscribers")
def subscribers() -> str:
    return _page()


@bp.get("/subscribers/<int:subscriber_id>")
def reader(subscriber_id: int) -> str:
    app = current()
    with app.db.session() as session:
        found = reader_queries.history(session, subscriber_id, app.settings.suppression_key)
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
        attested = request.form.get("consent") == "on"
        with app.db.session() as session:
            slugs = set(request.form.getlist("topics"))
            chosen = [topic for topic in list_topics(session) if topic.slug in slugs]
            report = import_readers(
                session,
                text,
                chosen,
                language=request.form.get("language", ""),
                operator=admin.email,
                hash_key=app.settings.suppression_key,
                consent=request.form.get("consent_note", "") if attested else None,
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
    def lines():  # type: ignore[no-untyped-def]
        with current().db.session() as session:
            yield from export_readers(session)

    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="subscribers.csv"'},
    )


@bp.get("/suppressions")
def suppressions() -> str:
    with current().db.session() as session:
        total, entries = reader_queries.recent_suppressions(session)
        return render_template("admin/suppressions.html", entries=entries, total=total)
