"""Each reader's unsubscribe and preferences links, made for thousands per second."""

from __future__ import annotations

from newsletter.config import Settings
from newsletter.render.placeholders import RecipientLinks
from newsletter.tokens import Purpose, Tokens


class LinkMaker:
    def __init__(self, settings: Settings) -> None:
        self._tokens = Tokens(settings.secret_key)
        self._base = settings.base_url

    def links(self, subscriber_id: int) -> RecipientLinks:
        make = self._tokens.make
        return RecipientLinks(
            unsubscribe=f"{self._base}/unsubscribe/{make(Purpose.UNSUBSCRIBE, subscriber_id)}",
            preferences=f"{self._base}/preferences/{make(Purpose.PREFERENCES, subscriber_id)}",
        )
