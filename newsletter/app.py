"""The application factory and the per-process services it owns."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from newsletter.config import Settings
from newsletter.db import Database


@dataclass(frozen=True)
class Services:
    """What every request, job and command needs: the settings and the database."""

    settings: Settings
    db: Database


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_SECURE=settings.production,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.extensions["newsletter"] = Services(settings, Database(settings.database_url))

    from newsletter import cli, web

    web.init_app(app)
    cli.init_app(app)
    return app


def services() -> Services:
    """The services of the current Flask application."""
    return current_app.extensions["newsletter"]
