"""Signed, purpose-scoped tokens for the links in emails (itsdangerous).

A token signed for one purpose never validates for another. Confirmation tokens
expire; unsubscribe and preference tokens do not, so links in old emails keep working.
"""

from __future__ import annotations

from enum import StrEnum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class Purpose(StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"


class InvalidToken(ValueError):
    """Tampered, for another purpose, or expired (see ``expired``)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


class Tokens:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key)
        # ``dumps`` derives a key and builds a signer on every call; a send makes two
        # tokens per reader, so each purpose's signer is built once
        self._signers = {
            purpose: self._serializer.make_signer(purpose.value) for purpose in Purpose
        }

    def make(self, purpose: Purpose, subscriber_id: int) -> str:
        """The same token as ``dumps(subscriber_id, salt=purpose)``."""
        payload = self._serializer.dump_payload(subscriber_id)
        return self._signers[purpose].sign(payload).decode("ascii")

    def read(self, purpose: Purpose, token: str, max_age_seconds: int | None = None) -> int:
        try:
            value = self._serializer.loads(token, salt=purpose.value, max_age=max_age_seconds)
        except SignatureExpired:
            raise InvalidToken("this link has expired", expired=True) from None
        except BadSignature:
            raise InvalidToken("this link is not valid") from None
        if not isinstance(value, int):
            raise InvalidToken("this link is not valid")
        return value
