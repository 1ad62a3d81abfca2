"""The reader-trust migration on a database that already holds readers, deliveries, an
infographic and suppressions (SQLite, and Postgres when NEWSLETTER_TEST_DATABASE_URL is
set)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.util.exc import CommandError
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from newsletter import migrate
from newsletter.db import make_engine
from newsletter.keys import derive_key
from newsletter.models import email_hash
from tests.conftest import POSTGRES_URL
from tests.loopback import recreate_database

BEFORE = "5e1f0b2c7a91"
SECRET = "s" * 40
NOW = "2026-11-29 07:00:00"


@pytest.fixture
def old_database(tmp_path: Path) -> Iterator[str]:
    """A database at the revision before, with two readers, a delivery and two
    suppressions written as the old code wrote them (plain SHA-256)."""
    if POSTGRES_URL:
        url = make_url(POSTGRES_URL)
        url = url.set(database=f"{url.database}_upgrade").render_as_string(hide_password=False)
        recreate_database(url)
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, BEFORE)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO topics (id, slug, name, keywords, languages, timezone, send_time,"
                " created_at) VALUES (1, 'claude', 'Claude', '[]', '[\"en\"]', 'UTC',"
                " '07:00:00', :now)"
            ),
            {"now": NOW},
        )
        for number in (1, 2):  # ids from the database's own sequence, as in real use
            reader_id = connection.execute(
                text(
                    "INSERT INTO subscribers (email, language, status, created_at, paused)"
                    " VALUES (:email, 'en', 'confirmed', :now, false) RETURNING id"
                ),
                {"email": f"r{number}@example.com", "now": NOW},
            ).scalar_one()
            assert reader_id == number
            connection.execute(
                text(
                    "INSERT INTO subscriptions (subscriber_id, topic_id, created_at)"
                    " VALUES (:id, 1, :now)"
                ),
                {"id": reader_id, "now": NOW},
            )
        connection.execute(
            text(
                "INSERT INTO digests (id, topic_id, date, language, status, writer,"
                " input_tokens, output_tokens, created_at) VALUES (1, 1, '2026-11-29', 'en',"
                " 'ready', 'offline', 0, 0, :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO deliveries (id, digest_id, subscriber_id, state, attempts,"
                " created_at) VALUES (1, 1, 2, 'sent', 1, :now)"
            ),
            {"now": NOW},
        )
        connection.execute(  # the rebuild of digests (SQLite) must not cascade into it
            text(
                "INSERT INTO digest_infographics (digest_id, png, sha256, alt, created_at)"
                " VALUES (1, :png, 'abc', 'the picture', :now)"
            ),
            {"png": b"\x89PNG", "now": NOW},
        )
        for row_id, address, email in ((1, "gone@example.com", None), (2, "b@example.com", "b")):
            connection.execute(
                text(
                    "INSERT INTO suppressions (id, email_hash, email, reason, created_at)"
                    " VALUES (:id, :hash, :email, 'x', :now)"
                ),
                {
                    "id": row_id,
                    "hash": hashlib.sha256(address.encode()).hexdigest(),
                    "email": email,
                    "now": NOW,
                },
            )
    engine.dispose()
    yield url
    if POSTGRES_URL:
        recreate_database(url)


def rows(engine: Engine, query: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def test_upgrade_keeps_every_row_and_keys_readers_and_suppressions(old_database: str) -> None:
    migrate.upgrade(old_database, secret_key=SECRET)
    engine = make_engine(old_database)
    try:
        assert rows(engine, "SELECT count(*) FROM subscriptions") == [(2,)]  # no cascade
        assert rows(engine, "SELECT subscriber_id FROM deliveries") == [(2,)]
        assert rows(engine, "SELECT digest_id, alt FROM digest_infographics") == [
            (1, "the picture")
        ]
        keys = [key for (key,) in rows(engine, "SELECT link_key FROM subscribers")]
        assert len(keys) == 2 and all(keys) and len(set(keys)) == 2
        # both may still get one-click unsubscribes from emails sent before the upgrade
        assert {bool(old) for (old,) in rows(engine, "SELECT legacy_links FROM subscribers")} == {
            True
        }
        hashed = {value for (value,) in rows(engine, "SELECT email_hash FROM suppressions")}
        key = derive_key(SECRET, "suppression")
        assert hashed == {email_hash("gone@example.com", key), email_hash("b@example.com", key)}
        # the newest reader leaves; the next one gets a new id, never theirs
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM subscribers WHERE id = 2"))
            connection.execute(
                text(
                    "INSERT INTO subscribers (email, language, status, created_at, paused,"
                    " link_key) VALUES ('new@example.com', 'en', 'pending', :now, false, 'k')"
                ),
                {"now": NOW},
            )
        assert rows(engine, "SELECT id FROM subscribers WHERE link_key = 'k'") == [(3,)]
        [(legacy,)] = rows(engine, "SELECT legacy_links FROM subscribers WHERE link_key = 'k'")
        assert not legacy  # a row stored after the upgrade is out of reach of key-less links
    finally:
        engine.dispose()


def test_upgrade_refuses_to_guess_the_key_of_existing_suppressions(old_database: str) -> None:
    with pytest.raises((RuntimeError, CommandError), match="NEWSLETTER_SECRET_KEY"):
        migrate.upgrade(old_database)
