"""Signed link tokens: scoped to one purpose, tamper-evident, expiring only when asked."""

from __future__ import annotations

import time

import pytest

from newsletter.tokens import InvalidToken, Purpose, Tokens


def test_a_token_reads_back_for_its_purpose_only() -> None:
    tokens = Tokens("k" * 32)
    token = tokens.make(Purpose.UNSUBSCRIBE, 42)
    assert tokens.read(Purpose.UNSUBSCRIBE, token) == 42
    with pytest.raises(InvalidToken):
        tokens.read(Purpose.CONFIRM, token)


def test_tampered_or_foreign_tokens_are_rejected() -> None:
    token = Tokens("k" * 32).make(Purpose.PREFERENCES, 7)
    with pytest.raises(InvalidToken):
        Tokens("k" * 32).read(Purpose.PREFERENCES, token[:-2] + "xx")
    with pytest.raises(InvalidToken):
        Tokens("other" * 8).read(Purpose.PREFERENCES, token)


def test_expiry_is_reported_as_such() -> None:
    tokens = Tokens("k" * 32)
    token = tokens.make(Purpose.CONFIRM, 1)
    time.sleep(1.1)
    with pytest.raises(InvalidToken) as raised:
        tokens.read(Purpose.CONFIRM, token, max_age_seconds=0)
    assert raised.value.expired


def test_made_tokens_are_the_serializers_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Signers are built once per purpose; the tokens stay exactly itsdangerous' own."""
    import itsdangerous.timed
    from itsdangerous import URLSafeTimedSerializer

    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: 1_800_000_000.0)
    serializer = URLSafeTimedSerializer("s" * 32)
    for purpose in Purpose:
        assert Tokens("s" * 32).make(purpose, 77) == serializer.dumps(77, salt=purpose.value)
