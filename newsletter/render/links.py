"""Every public link: the ones the service hands out (a reader's confirm, unsubscribe and
preferences links, signed; the archive's pages and feed), built here and nowhere else,
and the check every feed-derived link passes before it reaches an email.

Feed-derived URLs were checked to be http(s) at ingestion; ``public_url`` checks them
again at the last step before a reader sees them and upgrades them to https, so that
every link in a digest is absolute https (mail clients and spam filters penalise plain
http), and nothing else (``javascript:``, ``data:``, relative paths) ever becomes a link.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit, urlunsplit

from newsletter.config import Settings
from newsletter.render.placeholders import RecipientLinks
from newsletter.tokens import Choices, Purpose, Tokens


def public_url(url: str) -> str | None:
    """``url`` as an absolute https URL, or None when it cannot be one."""
    url = url.strip()
    if any(char.isspace() or ord(char) < 32 for char in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit(("https", parts.netloc, parts.path, parts.query, parts.fragment))


class PublicLinks:
    """A reader's signed links. Each token names the subscriber's id and their row's
    ``link_key``, so a link works only while the row it was made for exists."""

    def __init__(self, settings: Settings) -> None:
        self._tokens = Tokens(settings.secret_key)
        self._base = settings.base_url

    def confirm(self, subscriber_id: int, link_key: str, choices: Choices | None = None) -> str:
        """The confirmation link; ``choices`` (a signup's, not yet applied) travel in it."""
        token = self._tokens.make(Purpose.CONFIRM, subscriber_id, link_key, choices)
        return f"{self._base}/confirm/{token}"

    def unsubscribe(self, subscriber_id: int, link_key: str) -> str:
        token = self._tokens.make(Purpose.UNSUBSCRIBE, subscriber_id, link_key)
        return f"{self._base}/unsubscribe/{token}"

    def preferences(self, subscriber_id: int, link_key: str) -> str:
        token = self._tokens.make(Purpose.PREFERENCES, subscriber_id, link_key)
        return f"{self._base}/preferences/{token}"

    def recipient(self, subscriber_id: int, link_key: str) -> RecipientLinks:
        return RecipientLinks(
            self.unsubscribe(subscriber_id, link_key), self.preferences(subscriber_id, link_key)
        )


def subscribe_url(base_url: str) -> str:
    """The signup page: the "forwarded this? subscribe" line of every digest."""
    return f"{base_url}/"


def privacy_url(base_url: str) -> str:
    """The privacy page, which every email links."""
    return f"{base_url}/privacy"


def archive_index_url(base_url: str, topic_slug: str, language: str) -> str:
    return f"{base_url}/archive/{topic_slug}/?lang={language}"


def archive_feed_url(base_url: str, topic_slug: str, language: str) -> str:
    return f"{base_url}/archive/{topic_slug}/feed.xml?lang={language}"


def archive_url(base_url: str, topic_slug: str, day: date, language: str) -> str:
    """The archive page of one digest: its email's "view online" link."""
    return f"{base_url}/archive/{topic_slug}/{day.isoformat()}?lang={language}"
