"""Optional DKIM signatures (dkimpy), covering the headers that identify a digest email."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import dkim

from newsletter.config import Settings

# Named once more than they occur (each at most once, Reply-To never): a copy of any
# of them added later, above or below, breaks the signature (RFC 6376 8.15).
OVERSIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)
SIGNED_HEADERS = (
    *OVERSIGNED_HEADERS,
    b"feedback-id",
    b"mime-version",
    b"content-type",
    *OVERSIGNED_HEADERS,
)


class DkimSigner:
    def __init__(self, selector: str, domain: str, private_key: Path) -> None:
        self.selector = selector.encode("ascii")
        self.domain = domain.encode("ascii")
        self.key = private_key.read_bytes()

    def sign(self, message: bytes) -> bytes:
        """The message with a ``DKIM-Signature`` header in front (relaxed/relaxed)."""
        signature = dkim.sign(
            message,
            self.selector,
            self.domain,
            self.key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED_HEADERS),
        )
        return signature + message


@lru_cache(maxsize=4)
def signer_for(settings: Settings) -> DkimSigner | None:
    """This process's signer for the settings' key, or None when DKIM is off."""
    if settings.dkim_private_key is None:
        return None
    return DkimSigner(settings.dkim_selector, settings.sender_domain, settings.dkim_private_key)
