"""Per-message return paths (VERP): each digest leaves with its own envelope sender,
``bounces+d<delivery id>-<mac>@domain``, so a bounce names the delivery it is about.

The address a bounce comes back to is all a relay keeps of the original reliably (DSNs
quote it, ARF complaints carry it as ``Original-Mail-From``, mailboxes as
``Delivered-To`` or ``Return-Path``). The MAC, keyed from NEWSLETTER_SECRET_KEY, makes
the token unforgeable: a bounce someone writes by hand cannot name a reader's delivery,
so nobody can get a reader suppressed by mailing the bounce box. Lower-case hex,
because some mail systems lower-case local parts (and it costs a fraction of a
microsecond per message).
"""

from __future__ import annotations

import hashlib
import hmac
import re

MAC_BYTES = 8  # 64 bits: 16 hex digits


class ReturnPath:
    """Return paths under one bounce address, and the deliveries named in bounce text."""

    def __init__(self, bounce_address: str, secret_key: str) -> None:
        local, _, domain = bounce_address.rpartition("@")
        self._prefix = f"{local}+d"
        self._suffix = f"@{domain}"
        self._key = hashlib.sha256(b"newsletter-verp\0" + secret_key.encode()).digest()
        self._found = re.compile(
            rf"{re.escape(local)}\+d(\d{{1,18}})-([0-9a-f]{{16}})@{re.escape(domain)}",
            re.IGNORECASE,
        )

    def _mac(self, delivery_id: int) -> str:
        return hmac.digest(self._key, b"%d" % delivery_id, "sha256")[:MAC_BYTES].hex()

    def for_delivery(self, delivery_id: int) -> str:
        return f"{self._prefix}{delivery_id}-{self._mac(delivery_id)}{self._suffix}"

    def deliveries_in(self, text: str) -> set[int]:
        """The deliveries whose genuine return path appears in ``text``."""
        found = set()
        for number, mac in self._found.findall(text):
            delivery_id = int(number)
            if hmac.compare_digest(mac.lower(), self._mac(delivery_id)):
                found.add(delivery_id)
        return found
