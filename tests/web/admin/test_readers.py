"""Readers in the console: search, history, CSV import (double opt-in unless consent is
attested) and export, and the suppression list."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery.suppression import suppress
from newsletter.models import Subscriber, SubscriberStatus
from tests.support import DEV_HASH_KEY
from tests.web.admin.console_helpers import OPERATOR
from tests.web.site_helpers import add_reader, csrf_token, outbox

CSV = (
    "email,language\n"
    "new.one@example.com,en\n"
    "New.Two@Example.com,zh-TW\n"
    "reader@example.com\n"  # a reader already
    "new.one@example.com\n"  # twice in the file
    "not an address\n"
    "blocked@example.com\n"  # on the suppression list
    "third@example.com,fr\n"
    "\n"
    "=cmd@example.com\n"
)


def _import(console: FlaskClient, data: dict, body: str = CSV) -> str:
    form = {
        "csrf_token": csrf_token(console, "/admin/subscribers"),
        "file": (io.BytesIO(body.encode()), "readers.csv"),
        "topics": ["claude"],
        "language": "en",
        **data,
    }
    return console.post(
        "/admin/subscribers/import", data=form, content_type="multipart/form-data"
    ).get_data(as_text=True)


def _readers(db: Database) -> dict[str, Subscriber]:
    with db.session() as session:
        found = session.scalars(select(Subscriber)).all()
        for reader in found:
            reader.topics  # noqa: B018
        return {reader.email: reader for reader in found}


def test_an_import_reports_each_line_and_asks_new_readers_to_confirm(
    console: FlaskClient, db: Database, settings: Settings
) -> None:
    add_reader(db, "reader@example.com")
    with db.session() as session:
        suppress(session, [("blocked@example.com", "spam complaint")], hash_key=DEV_HASH_KEY)
    page = _import(console, {})
    assert (
        "Imported 3 reader(s); 1 already known (topics added); 1 repeated line(s) merged; "
        "3 line(s) skipped." in page
    )
    skipped = page.split('class="import-report"', 1)[1]
    for line, why in (
        (6, "not an address: "),
        (7, "blocked@example.com: on the suppression list"),
        (8, "third@example.com: unknown language &#39;fr&#39;"),
    ):
        assert f'<td class="number">{line}</td><td>{why}' in skipped, line
    readers = _readers(db)
    assert readers["new.two@example.com"].language == "zh-TW"
    assert readers["new.one@example.com"].status == SubscriberStatus.PENDING
    assert [t.slug for t in readers["new.one@example.com"].topics] == ["claude"]
    assert "blocked@example.com" not in readers and "third@example.com" not in readers
    confirmations = sorted(m["To"] for m in outbox(settings))
    assert confirmations == ["=cmd@example.com", "new.one@example.com", "new.two@example.com"]
    assert all("/confirm/" in m.get_body(("plain",)).get_content() for m in outbox(settings))


def test_attested_consent_confirms_and_is_recorded(
    console: FlaskClient, db: Database, settings: Settings
) -> None:
    missing = _import(console, {"consent": "on", "consent_note": " "})
    assert "say how and when these readers consented" in missing
    assert set(_readers(db)) == set()

    _import(
        console,
        {"consent": "on", "consent_note": "signed up at our booth, Nov 2026"},
        "a@example.com\nb@example.com\n",
    )
    readers = _readers(db)
    assert {r.status for r in readers.values()} == {SubscriberStatus.CONFIRMED}
    assert readers["a@example.com"].consent_note.startswith(f"imported by {OPERATOR} on ")
    assert readers["a@example.com"].consent_note.endswith(
        "existing consent attested: signed up at our booth, Nov 2026"
    )
    assert outbox(settings) == []  # no confirmation: they consented already
    page = console.get(f"/admin/subscribers/{readers['a@example.com'].id}")
    assert "signed up at our booth" in page.get_data(as_text=True)


def test_bad_imports_change_nothing(console: FlaskClient, db: Database) -> None:
    assert "choose at least one topic" in _import(console, {"topics": []})
    form = {
        "csrf_token": csrf_token(console, "/admin/subscribers"),
        "file": (io.BytesIO(b"\xff\xfe\x00bad"), "readers.csv"),
        "topics": ["claude"],
        "language": "en",
    }
    response = console.post(
        "/admin/subscribers/import", data=form, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and "UTF-8" in response.get_data(as_text=True)
    assert _readers(db) == {}


def test_search_history_export_and_suppressions(
    console: FlaskClient, db: Database, sent_day: date
) -> None:
    add_reader(db, "=2+3@example.com")
    with db.session() as session:
        suppress(
            session,
            [("gone@example.com", "bounced: 550 5.1.1 no such user")],
            hash_key=DEV_HASH_KEY,
        )
    found = console.get("/admin/subscribers", query_string={"q": "READER@"}).get_data(as_text=True)
    assert "reader@example.com" in found and "lector@example.com" not in found
    assert "No reader matches" in console.get("/admin/subscribers?q=%25").get_data(as_text=True)

    reader_id = _readers(db)["reader@example.com"].id
    history = console.get(f"/admin/subscribers/{reader_id}").get_data(as_text=True)
    assert "2026-01-12" in history and "sent" in history
    assert console.get("/admin/subscribers/999999").status_code == 404

    export = console.get("/admin/subscribers/export.csv")
    assert export.headers["Content-Disposition"] == 'attachment; filename="subscribers.csv"'
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    by_email = {row["email"]: row for row in rows}
    assert by_email["reader@example.com"]["topics"] == "claude"
    assert by_email["lector@example.com"]["language"] == "zh-TW"
    assert "'=2+3@example.com" in by_email  # no formula reaches a spreadsheet

    suppressions = console.get("/admin/suppressions").get_data(as_text=True)
    assert "gone@example.com" in suppressions and "bounced: 550 5.1.1 no such user" in suppressions
    assert "1 address(es) are never mailed; the latest 1:" in suppressions
