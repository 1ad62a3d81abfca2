"""What the console's pages share."""

from __future__ import annotations

from types import MappingProxyType

from newsletter.i18n.admin import admin_wording
from newsletter.web.language import page_language


def wording() -> MappingProxyType[str, str]:
    """The console's wording in this page's language (for flashed messages)."""
    return admin_wording(page_language())
