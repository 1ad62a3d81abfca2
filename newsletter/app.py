"""The application factory: the reader site over the given (or the environment's) services."""

from __future__ import annotations

from flask import Flask

from newsletter import services as services_module
from newsletter.config import Settings
from newsletter.services import Services


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """The site. ``services`` wins over ``settings``; with neither, both come from the
    environment."""
    if services is None:
        services = Services.for_settings(settings or Settings.from_env())
    settings = services.settings
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_SECURE=settings.production,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    services_module.init_app(app, services)

    from newsletter import web

    web.init_app(app)
    return app
