"""The models and the migrations describe the same schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from newsletter import migrate
from newsletter.db import Base, Database


def test_migrations_match_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_console_migration_goes_down_and_up_again(tmp_path: Path) -> None:
    """Down keeps the digests (a status it does not know becomes failed), up restores."""
    url = f"sqlite:///{tmp_path / 'round-trip.db'}"
    migrate.upgrade(url)
    config = migrate.alembic_config(url)
    command.downgrade(config, "-1")
    command.upgrade(config, "head")
    database = Database(url)
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    database.dispose()
