"""Form input a browser should not send, answered with a proper error (issue 15, item 11)."""

from __future__ import annotations

from flask.testing import FlaskClient

from newsletter.config import Settings
from newsletter.db import Database
from tests.web.site_helpers import csrf_token, outbox, subscriber


def post_raw(client: FlaskClient, path: str, body: bytes) -> tuple[int, str]:
    response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
    return response.status_code, response.get_data(as_text=True)


def test_form_input_that_is_not_utf8_is_refused_as_such(
    client: FlaskClient, settings: Settings
) -> None:
    token = csrf_token(client).encode()
    body = b"csrf_token=" + token + b"&email=r%E9%E9der%40example.com&topics=claude&language=en"
    status, page = post_raw(client, "/", body)
    assert status == 400
    assert "has expired" not in page
    assert "The form could not be read" in page
    assert outbox(settings) == []


def test_a_local_part_over_64_characters_is_refused(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    for length, accepted in ((64, True), (65, False)):
        address = "a" * length + "@example.com"
        response = client.post(
            "/",
            data={
                "csrf_token": csrf_token(client),
                "email": address,
                "topics": ["claude"],
                "language": "en",
            },
        )
        assert response.status_code == (303 if accepted else 400), length
        assert (subscriber(db, address) is not None) == accepted
