"""Alembic, driven from code so that `newsletter db upgrade` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head", *, secret_key: str = "") -> None:
    """Apply migrations; ``secret_key`` for those that re-key data with a derived key
    (an empty database never needs it)."""
    config = alembic_config(database_url)
    config.attributes["secret_key"] = secret_key
    command.upgrade(config, revision)


def revision(database_url: str, message: str) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
