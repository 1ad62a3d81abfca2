"""The fast link maker signs exactly what the site's token reader accepts."""

from __future__ import annotations

import pytest

from newsletter.config import Settings
from newsletter.render.links import PublicLinks
from newsletter.tokens import InvalidToken, Purpose, Tokens


def test_links_carry_tokens_the_site_reads_for_the_right_purpose(settings: Settings) -> None:
    links = PublicLinks(settings).recipient(4242, "the-row-key")
    tokens = Tokens(settings.secret_key)
    unsubscribe = links.unsubscribe.removeprefix("https://news.example.org/unsubscribe/")
    preferences = links.preferences.removeprefix("https://news.example.org/preferences/")
    for purpose, token in ((Purpose.UNSUBSCRIBE, unsubscribe), (Purpose.PREFERENCES, preferences)):
        claim = tokens.read(purpose, token)
        assert (claim.subscriber_id, claim.link_key) == (4242, "the-row-key")
    with pytest.raises(InvalidToken):
        tokens.read(Purpose.PREFERENCES, unsubscribe)
    with pytest.raises(InvalidToken):
        Tokens("another-secret-key-of-enough-length").read(Purpose.UNSUBSCRIBE, unsubscribe)
