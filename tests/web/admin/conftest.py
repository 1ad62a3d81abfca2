"""Fixtures for the console's tests: an operator, and a client signed in as them."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.admins import add_admin
from newsletter.db import Database
from tests.web.admin.console_helpers import OPERATOR, PASSWORD, sign_in


@pytest.fixture
def operator(db: Database) -> str:
    with db.session() as session:
        add_admin(session, OPERATOR, PASSWORD)
    return OPERATOR


@pytest.fixture
def console(app: Flask, topics: list[str], operator: str) -> FlaskClient:
    """A test client signed in as the operator."""
    client = app.test_client()
    sign_in(client)
    return client
