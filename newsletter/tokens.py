"""Signed, purpose-scoped tokens for the links in emails (itsdangerous).

A token signed for one purpose never validates for another. Confirmation tokens
expire; unsubscribe and preference tokens do not, so links in old emails keep working.

Every token names a subscriber *and* that subscriber's random ``link_key`` (stored in
their row): a link is honoured only while the row it was made for exists. When a reader
deletes their data the key goes with the row, so their old links can never reach
whoever is stored under the same id later (ids are not reused either, but a database
restored from a backup or a reset one would hand them out again).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

# link keys as ``keys.new_link_key`` makes them: nothing JSON would escape
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Purpose(StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"


class InvalidToken(ValueError):
    """Tampered, for another purpose, or expired (see ``expired``)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


class KeyedRow(Protocol):
    id: int
    link_key: str


@dataclass(frozen=True)
class Choices:
    """What a signup asked for, carried in its confirmation link: nothing is written to
    an existing reader's row until the owner of the address confirms."""

    language: str
    topic_slugs: tuple[str, ...]


@dataclass(frozen=True)
class Claim:
    """What a valid token says: whose link it is, and (confirmation only) the choices."""

    subscriber_id: int
    link_key: str
    choices: Choices | None = None
    issued_at: datetime | None = None
    # made before link keys existed (a bare id): it proves no row, so it never belongs
    # to one; only the one-click unsubscribe of emails sent before still honours it
    legacy: bool = False

    def belongs_to(self, row: KeyedRow | None) -> bool:
        """Whether ``row`` is the very subscriber the token was made for."""
        return (
            not self.legacy
            and row is not None
            and row.id == self.subscriber_id
            and hmac.compare_digest(row.link_key.encode(), self.link_key.encode())
        )


class Tokens:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key)
        # ``dumps`` derives a key and builds a signer on every call; a send makes two
        # tokens per reader, so each purpose's signer is built once
        self._signers = {
            purpose: self._serializer.make_signer(purpose.value) for purpose in Purpose
        }

    def make(
        self, purpose: Purpose, subscriber_id: int, link_key: str, choices: Choices | None = None
    ) -> str:
        """The same token as ``dumps([subscriber_id, link_key, ...], salt=purpose)``."""
        if choices is None and _PLAIN_KEY.fullmatch(link_key):
            # what ``dump_payload`` makes of so short a value (zlib never shortens it),
            # without its JSON encoder and compression attempt: a send makes two a reader
            payload = base64_encode(f'[{subscriber_id},"{link_key}"]')
        else:
            value: list[object] = [subscriber_id, link_key]
            if choices is not None:
                value += [choices.language, list(choices.topic_slugs)]
            payload = self._serializer.dump_payload(value)
        return self._signers[purpose].sign(payload).decode("ascii")

    def read(self, purpose: Purpose, token: str, max_age_seconds: int | None = None) -> Claim:
        try:
            value, issued_at = self._serializer.loads(
                token, salt=purpose.value, max_age=max_age_seconds, return_timestamp=True
            )
        except SignatureExpired:
            raise InvalidToken("this link has expired", expired=True) from None
        except BadSignature:
            raise InvalidToken("this link is not valid") from None
        return replace(_claim(value), issued_at=issued_at)


def _claim(value: object) -> Claim:
    """The claim of a signed value, refusing any shape this module does not make."""
    if type(value) is int:  # signed before link keys
        return Claim(value, "", legacy=True)
    if not isinstance(value, list) or len(value) not in (2, 4):
        raise InvalidToken("this link is not valid")
    subscriber_id, link_key = value[0], value[1]
    if type(subscriber_id) is not int or not isinstance(link_key, str) or not link_key:
        raise InvalidToken("this link is not valid")
    if len(value) == 2:
        return Claim(subscriber_id, link_key)
    language, slugs = value[2], value[3]
    if not isinstance(language, str) or not isinstance(slugs, list):
        raise InvalidToken("this link is not valid")
    if not all(isinstance(slug, str) for slug in slugs):
        raise InvalidToken("this link is not valid")
    return Claim(subscriber_id, link_key, Choices(language, tuple(slugs)))
