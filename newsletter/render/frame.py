"""What surrounds a digest's content in its email: who sends it, and the links that are
the same for every reader (view online, subscribe, privacy)."""

from __future__ import annotations

from dataclasses import astuple, dataclass

from newsletter.config import Settings
from newsletter.render.links import privacy_url, subscribe_url


@dataclass(frozen=True)
class EmailFrame:
    site_name: str  # the masthead: the service, above the topic's name
    postal_address: str
    view_online_url: str
    subscribe_url: str  # for the "forwarded this? subscribe" line
    privacy_url: str

    def key(self) -> tuple[str, ...]:
        """Every field, for the render cache's key."""
        return astuple(self)


def email_frame(settings: Settings, view_online_url: str) -> EmailFrame:
    return EmailFrame(
        site_name=settings.from_name,
        postal_address=settings.postal_address,
        view_online_url=view_online_url,
        subscribe_url=subscribe_url(settings.base_url),
        privacy_url=privacy_url(settings.base_url),
    )
