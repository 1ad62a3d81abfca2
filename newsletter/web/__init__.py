"""The subscriber-facing site: blueprints are registered here."""

from __future__ import annotations

from flask import Flask

from newsletter.web.health import bp as health_bp
from newsletter.web.webhooks import bp as webhooks_bp


def init_app(app: Flask) -> None:
    app.register_blueprint(health_bp)
    app.register_blueprint(webhooks_bp)
