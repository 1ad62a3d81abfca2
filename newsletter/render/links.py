"""Which links may appear in an email.

Feed-derived URLs were checked to be http(s) at ingestion; here, at the last step before a
reader sees them, they are checked again and upgraded to https, so that every link in a
digest is absolute https (mail clients and spam filters penalise plain http), and nothing
else (``javascript:``, ``data:``, relative paths) ever becomes a link.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


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
