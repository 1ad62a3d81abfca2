"""`newsletter subscribers import FILE.csv` and `export`: bulk, merged, reported, and
double opt-in unless a consent note records how the readers agreed."""

from __future__ import annotations

import csv
import email
import io
import time
from dataclasses import replace
from email import policy
from pathlib import Path

from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from newsletter.app import create_app
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.demo import seed_demo
from newsletter.models import Subscriber, SubscriberStatus, Subscription, Suppression
from newsletter.services import Services, current
from tests.delivery.conftest import REDIS_URL
from tests.support import DEV_HASH_KEY, cli_runner

FILE = """email,language,topics,source
ada@example.com,en,gemini,old list
new.one@example.org,zh-TW,claude gemini,old list
NEW.ONE@example.org,,claude,duplicate row
not an address,en,claude,
left@blocked.example,en,claude,
solo@example.org,fr,claude,
nobody@example.org,en,mystery,
"""


def invoke(app: Flask, *args: str) -> tuple[int, str]:
    result = cli_runner(app).invoke(args=list(args))
    return result.exit_code, result.output


def prepared(app: Flask) -> Flask:
    with app.app_context(), current().db.session() as session:
        seed_demo(session, DEV_HASH_KEY)
        session.add(Suppression(email_hash=_hash("left@blocked.example"), email=None, reason="x"))
    invoke(app, "topics", "add", "gemini", "Gemini")
    return app


def _hash(address: str) -> str:
    from newsletter.models import email_hash

    return email_hash(address, DEV_HASH_KEY)


def readers(app: Flask) -> dict[str, tuple[str, str, list[str], str | None]]:
    with app.app_context(), current().db.session() as session:
        return {
            s.email: (s.language, s.status.value, [t.slug for t in s.topics], s.consent_note)
            for s in session.scalars(select(Subscriber))
        }


def test_import_merges_reports_and_asks_new_readers_to_confirm(
    app: Flask, settings: Settings, tmp_path: Path
) -> None:
    prepared(app)
    path = tmp_path / "readers.csv"
    path.write_text(FILE)
    code, output = invoke(app, "subscribers", "import", str(path))
    assert code == 0, output
    assert "line 5: skipped, not an address:" in output
    assert "line 6: skipped, left@blocked.example: on the suppression list" in output
    assert "line 7: skipped, solo@example.org: unknown language 'fr'" in output
    assert "line 8: skipped, nobody@example.org: unknown topic(s) mystery" in output
    assert (
        "1 reader(s) added, 1 already known (topics merged), 1 duplicate row(s) merged, "
        "4 row(s) skipped." in output
    )
    assert "1 confirmation email(s) sent." in output
    got = readers(app)
    assert got["new.one@example.org"] == ("zh-TW", "pending", ["claude", "gemini"], None)
    assert got["ada@example.com"] == ("en", "confirmed", ["claude", "gemini"], None)
    assert "left@blocked.example" not in got
    [confirmation] = [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in Path(settings.outbox_dir).glob("confirm-*.eml")  # type: ignore[arg-type]
    ]
    assert confirmation["To"] == "new.one@example.org"

    again = invoke(app, "subscribers", "import", str(path))[1]
    assert "0 reader(s) added, 2 already known" in again and "confirmation" not in again


def test_a_consent_note_confirms_and_is_recorded(app: Flask, settings: Settings, tmp_path: Path):
    prepared(app)
    path = tmp_path / "meetup.csv"
    path.write_text("lin@example.org\nkai@example.org,zh-TW\n")
    note = "signed up on paper at the 2026 Taipei meetup"
    code, output = invoke(
        app, "subscribers", "import", str(path), "--topic", "claude", "--consent-note", note
    )
    assert code == 0, output
    assert "2 reader(s) added" in output and "consent recorded" in output
    got = readers(app)
    assert got["lin@example.org"] == ("en", "confirmed", ["claude"], note)
    assert got["kai@example.org"] == ("zh-TW", "confirmed", ["claude"], note)
    assert not list(Path(settings.outbox_dir).glob("confirm-*.eml"))  # type: ignore[arg-type]


def test_import_needs_known_topics_and_a_real_note(app: Flask, tmp_path: Path) -> None:
    prepared(app)
    path = tmp_path / "x.csv"
    path.write_text("a@example.org\n")
    code, output = invoke(app, "subscribers", "import", str(path), "--topic", "nope")
    assert code == 1 and output.startswith("Error: unknown topic(s): nope")
    code, output = invoke(
        app, "subscribers", "import", str(path), "--topic", "claude", "--consent-note", " "
    )
    assert code == 1 and "--consent-note must say how" in output
    code, output = invoke(app, "subscribers", "import", str(path))
    assert "line 1: skipped, a@example.org: no topic" in output


def test_export_lists_every_reader_and_imports_again(app: Flask, tmp_path: Path) -> None:
    prepared(app)
    code, output = invoke(app, "subscribers", "export")
    assert code == 0, output
    rows = list(csv.DictReader(io.StringIO(output)))
    assert [row["email"] for row in rows] == sorted(row["email"] for row in rows)
    by_email = {row["email"]: row for row in rows}
    assert by_email["left@example.com"]["state"] == "unsubscribed"
    assert by_email["mei@example.com"]["topics"] == "claude"
    out = tmp_path / "all.csv"
    code, output = invoke(app, "subscribers", "export", "-o", str(out))
    assert code == 0 and "Exported 5 reader(s)" in output
    code, output = invoke(app, "subscribers", "import", str(out))
    assert "0 reader(s) added, 5 already known" in output


def test_ten_thousand_rows_import_in_under_ten_seconds(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    app = create_app(services=Services(replace(settings, redis_url=REDIS_URL), db))
    prepared(app)
    queue = Queue(settings.queue_name, connection=Redis.from_url(REDIS_URL))
    queue.empty()
    path = tmp_path / "big.csv"
    lines = ["email,language,topics"]
    lines += [f"reader{n}@example.org,{('en', 'zh-TW')[n % 2]},claude" for n in range(10_000)]
    lines += ["reader7@example.org,en,gemini", "broken@,en,claude"]
    path.write_text("\n".join(lines))

    started = time.monotonic()
    code, output = invoke(app, "subscribers", "import", str(path))
    seconds = time.monotonic() - started
    assert code == 0, output
    assert seconds < 10, seconds
    assert "10000 reader(s) added, 0 already known (topics merged), 1 duplicate" in output
    assert "10000 confirmation email(s) queued" in output
    assert queue.count == 20  # 500 confirmations per job
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 10_001 + 5
        pending = select(func.count()).where(Subscriber.status == SubscriberStatus.PENDING)
        assert session.scalar(pending.select_from(Subscriber)) == 10_001
    queue.empty()


def test_export_never_hands_a_spreadsheet_a_formula(app: Flask, tmp_path: Path) -> None:
    prepared(app)
    hostile = "=cmd|'/c~calc'!a0@example.org"  # a valid address, and a formula
    assert invoke(app, "subscribers", "add", hostile, "--topic", "claude")[0] == 0
    invoke(app, "subscribers", "add", "+1@example.org", "--topic", "claude")
    out = tmp_path / "all.csv"
    assert invoke(app, "subscribers", "export", "-o", str(out))[0] == 0
    cells = [row[0] for row in csv.reader(out.open())]
    assert f"'{hostile}" in cells and "'+1@example.org" in cells
    assert not any(
        cell.startswith(("=", "+", "-", "@")) for row in csv.reader(out.open()) for cell in row
    )
    output = invoke(app, "subscribers", "import", str(out))[1]
    assert "0 reader(s) added, 7 already known" in output  # the same readers, read back
