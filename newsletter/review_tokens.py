"""The signed link in a review request: it names one digest and lapses with its deadline.

Opening it still needs a signed-in operator; the signature only keeps the link from being
made up or reused for another digest.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "digest-review"


def review_token(secret_key: str, digest_id: int) -> str:
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps(digest_id)


def read_review_token(
    secret_key: str, token: str, max_age_seconds: int | None = None
) -> int | None:
    """The digest id, or None for a tampered, foreign or lapsed token."""
    try:
        value = URLSafeTimedSerializer(secret_key, salt=SALT).loads(token, max_age=max_age_seconds)
    except BadSignature:  # SignatureExpired is one
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def review_url(base_url: str, secret_key: str, digest_id: int) -> str:
    return f"{base_url}/admin/review/{review_token(secret_key, digest_id)}"
