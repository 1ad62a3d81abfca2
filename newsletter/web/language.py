"""The language of a page: ``?lang=``, else the one chosen before (session), else
Accept-Language. Chinese in any script gets zh-TW, anything else English."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, g, request, session

from newsletter.i18n import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from newsletter.i18n.site import LANGUAGE_NAMES, wording

_BY_PRIMARY_TAG = {"en": "en", "zh": "zh-TW"}


def choose_language(preferred: str | None = None) -> str:
    """The page language; ``preferred`` (e.g. a subscriber's) beats Accept-Language."""
    requested = request.args.get("lang", "")
    if requested in SUPPORTED_LANGUAGES:
        session["lang"] = requested
        return requested
    remembered = session.get("lang")
    if remembered in SUPPORTED_LANGUAGES:
        return remembered
    if preferred in SUPPORTED_LANGUAGES:
        return preferred
    for tag, _quality in request.accept_languages:  # best first
        primary = tag.split("-")[0].split("_")[0].lower()
        if primary in _BY_PRIMARY_TAG:
            return _BY_PRIMARY_TAG[primary]
    return DEFAULT_LANGUAGE


def page_language() -> str:
    """The language of the page being rendered, chosen once per request."""
    if "page_language" not in g:
        g.page_language = choose_language()
    return g.page_language


def use_language(language: str) -> None:
    g.page_language = language


def _switch_url(language: str) -> str:
    """This page in ``language`` (its GET form: a form page after a POST shows it empty)."""
    return f"{request.path}?{urlencode({**request.args.to_dict(), 'lang': language})}"


def init_app(app: Flask) -> None:
    @app.context_processor
    def _language_context() -> dict[str, object]:
        language = page_language()
        return {
            "lang": language,
            "t": wording(language),
            "language_names": LANGUAGE_NAMES,
            "switch_url": _switch_url,
        }
