"""Helpers for the console's tests: signing in and posting its forms."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.web.site_helpers import csrf_token

OPERATOR = "ops@example.com"
PASSWORD = "correct horse battery staple"


def sign_in(
    client: FlaskClient, email: str = OPERATOR, password: str = PASSWORD, **kwargs: Any
) -> TestResponse:
    token = csrf_token(client, "/admin/login")
    return client.post(
        "/admin/login", data={"csrf_token": token, "email": email, "password": password}, **kwargs
    )


def post(
    client: FlaskClient, path: str, page: str, data: dict[str, Any] | None = None, **kwargs: Any
) -> TestResponse:
    """POST a console form with the CSRF token of ``page``."""
    return client.post(
        path, data={"csrf_token": csrf_token(client, page), **(data or {})}, **kwargs
    )
