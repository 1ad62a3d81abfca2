"""Signed link tokens: scoped to one purpose, tamper-evident, expiring only when asked,
and bound to the link key of the row they were made for."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from itsdangerous import URLSafeTimedSerializer

from newsletter.keys import new_link_key
from newsletter.tokens import Choices, Claim, InvalidToken, Purpose, Tokens
from tests.web.site_helpers import tampered


@dataclass
class Row:
    id: int
    link_key: str


def test_a_token_reads_back_for_its_purpose_only() -> None:
    tokens = Tokens("k" * 32)
    token = tokens.make(Purpose.UNSUBSCRIBE, 42, "key-42")
    claim = tokens.read(Purpose.UNSUBSCRIBE, token)
    assert (claim.subscriber_id, claim.link_key, claim.choices) == (42, "key-42", None)
    with pytest.raises(InvalidToken):
        tokens.read(Purpose.CONFIRM, token)


def test_a_claim_belongs_only_to_the_row_with_its_key() -> None:
    claim = Tokens("k" * 32).read(
        Purpose.PREFERENCES, Tokens("k" * 32).make(Purpose.PREFERENCES, 7, "old-key")
    )
    assert claim.belongs_to(Row(7, "old-key"))
    assert not claim.belongs_to(Row(7, "new-key"))  # same id, someone else
    assert not claim.belongs_to(Row(8, "old-key"))
    assert not claim.belongs_to(None)


def test_confirmation_tokens_carry_the_signups_choices() -> None:
    tokens = Tokens("k" * 32)
    choices = Choices("zh-TW", ("claude", "openai"))
    claim = tokens.read(Purpose.CONFIRM, tokens.make(Purpose.CONFIRM, 3, "k3", choices))
    assert claim.choices == choices
    assert claim.issued_at is not None


def test_tampered_or_foreign_tokens_are_rejected() -> None:
    token = Tokens("k" * 32).make(Purpose.PREFERENCES, 7, "key")
    with pytest.raises(InvalidToken):
        Tokens("k" * 32).read(Purpose.PREFERENCES, tampered(token))
    with pytest.raises(InvalidToken):
        Tokens("other" * 8).read(Purpose.PREFERENCES, token)


def test_a_token_from_before_link_keys_belongs_to_no_row() -> None:
    """A bare id (signed before link keys) reads as a legacy claim that no row owns."""
    token = URLSafeTimedSerializer("k" * 32).dumps(7, salt=Purpose.UNSUBSCRIBE.value)
    claim = Tokens("k" * 32).read(Purpose.UNSUBSCRIBE, token)
    assert (claim.subscriber_id, claim.legacy) == (7, True)
    assert not claim.belongs_to(Row(7, ""))
    assert not claim.belongs_to(Row(7, "any-key"))


@pytest.mark.parametrize(
    "value", ["7", [7], ["7", "key"], [7, ""], [7, "k", "en"], [True, "k"], True]
)
def test_signed_values_of_another_shape_are_rejected(value: object) -> None:
    token = URLSafeTimedSerializer("k" * 32).dumps(value, salt=Purpose.PREFERENCES.value)
    with pytest.raises(InvalidToken):
        Tokens("k" * 32).read(Purpose.PREFERENCES, token)


def test_expiry_is_reported_as_such() -> None:
    tokens = Tokens("k" * 32)
    token = tokens.make(Purpose.CONFIRM, 1, "key")
    time.sleep(1.1)
    with pytest.raises(InvalidToken) as raised:
        tokens.read(Purpose.CONFIRM, token, max_age_seconds=0)
    assert raised.value.expired


def test_made_tokens_are_the_serializers_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Signers are built once per purpose; the tokens stay exactly itsdangerous' own."""
    import itsdangerous.timed

    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: 1_800_000_000.0)
    serializer = URLSafeTimedSerializer("s" * 32)
    for purpose in Purpose:
        made = Tokens("s" * 32).make(purpose, 77, "key")
        assert made == serializer.dumps([77, "key"], salt=purpose.value)
        assert isinstance(Tokens("s" * 32).read(purpose, made), Claim)


def test_the_fast_payload_is_the_serializers_own() -> None:
    """A send makes two tokens a reader without itsdangerous's JSON and zlib round: the
    payload must be the very one ``dump_payload`` makes, so both read the same."""
    tokens = Tokens("s" * 40)
    for subscriber_id in (1, 4242, 2**40):
        key = new_link_key()
        fast = tokens.make(Purpose.UNSUBSCRIBE, subscriber_id, key)
        payload = tokens._serializer.dump_payload([subscriber_id, key]).decode()
        assert fast.startswith(payload + ".")
        assert tokens.read(Purpose.UNSUBSCRIBE, fast).link_key == key
