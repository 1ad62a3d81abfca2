"""Each reader's unsubscribe and preferences links, made fast for thousands per second.

The tokens are exactly those of ``newsletter.tokens.Tokens`` (same serializer, same
salts), but the two purpose-bound signers are built once per batch instead of once per
token: ``Tokens.make`` derives a key and builds a signer on every call.
"""

from __future__ import annotations

from itsdangerous import URLSafeTimedSerializer

from newsletter.config import Settings
from newsletter.render.placeholders import RecipientLinks
from newsletter.tokens import Purpose


class LinkMaker:
    def __init__(self, settings: Settings) -> None:
        serializer = URLSafeTimedSerializer(settings.secret_key)
        self._payload = serializer.dump_payload
        self._unsubscribe = serializer.make_signer(Purpose.UNSUBSCRIBE.value)
        self._preferences = serializer.make_signer(Purpose.PREFERENCES.value)
        self._base = settings.base_url

    def links(self, subscriber_id: int) -> RecipientLinks:
        payload = self._payload(subscriber_id)
        unsubscribe = self._unsubscribe.sign(payload).decode("ascii")
        preferences = self._preferences.sign(payload).decode("ascii")
        return RecipientLinks(
            unsubscribe=f"{self._base}/unsubscribe/{unsubscribe}",
            preferences=f"{self._base}/preferences/{preferences}",
        )
