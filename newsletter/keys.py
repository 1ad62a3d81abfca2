"""Keys derived from NEWSLETTER_SECRET_KEY, one per use, so that no two uses share a key
and none of them is stored in the database (a leaked database reveals none of them)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

LINK_KEY_BYTES = 12  # 16 URL-safe characters: only has to differ from every other row's


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` (HMAC-SHA256 of the purpose under the secret)."""
    return hmac.new(
        secret_key.encode("utf-8"), f"newsletter/{purpose}".encode(), hashlib.sha256
    ).digest()


def new_link_key() -> str:
    """A fresh random key for a subscriber row: every token of theirs names it."""
    return secrets.token_urlsafe(LINK_KEY_BYTES)
