"""The services every request, job and command needs: the settings and the database.

A leaf module (it imports no web, CLI or job code), in the shape of Flask's tutorial
``db.py``: ``init_app`` attaches them to an application, ``current()`` finds them from
inside a request or command (the app's) or from a worker (read from the environment).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from newsletter.config import Settings
from newsletter.db import Database

if TYPE_CHECKING:
    from flask import Flask

EXTENSION = "newsletter"


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database

    @classmethod
    def for_settings(cls, settings: Settings) -> Services:
        return cls(settings, Database(settings.database_url))


@lru_cache(maxsize=1)
def from_env() -> Services:
    """This process's services, from the ``NEWSLETTER_*`` environment (built once)."""
    return Services.for_settings(Settings.from_env())


def current() -> Services:
    """The current app's services in a request or command, else this process's own.

    Flask is only asked when something imported it: a worker never does.
    """
    flask = sys.modules.get("flask")
    if flask is not None and flask.has_app_context():
        return flask.current_app.extensions[EXTENSION]
    return from_env()


def of(app: Flask) -> Services:
    return app.extensions[EXTENSION]


def init_app(app: Flask, services: Services) -> None:
    app.extensions[EXTENSION] = services
