"""Per-recipient values are left as placeholders by the renderers and filled in last.

The placeholders are plain ASCII that MJML, premailer and the transfer encoding leave
alone, so the expensive render happens once per digest and language.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

UNSUBSCRIBE = "[[UNSUBSCRIBE_URL]]"
PREFERENCES = "[[PREFERENCES_URL]]"


@dataclass(frozen=True)
class RecipientLinks:
    unsubscribe: str
    preferences: str


def personalize_html(html: str, links: RecipientLinks) -> str:
    return html.replace(UNSUBSCRIBE, escape(links.unsubscribe)).replace(
        PREFERENCES, escape(links.preferences)
    )


def personalize_text(text: str, links: RecipientLinks) -> str:
    return text.replace(UNSUBSCRIBE, links.unsubscribe).replace(PREFERENCES, links.preferences)
