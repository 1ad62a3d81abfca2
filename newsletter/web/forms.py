"""Reading the site's forms: each returns the cleaned values, or wording keys of the
problems per field (the page shows them in the reader's language)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from newsletter.i18n import SUPPORTED_LANGUAGES

EMAIL_MAX = 254  # RFC 5321 path limit
FIELD_MAX = 100  # any other single value


@dataclass
class FormResult:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def honeypot_filled(form: MultiDict[str, str]) -> bool:
    """Bots fill every field; people never see this one."""
    return bool(form.get("website", "").strip())


def read_email(form: MultiDict[str, str], result: FormResult) -> None:
    email = form.get("email", "").strip()
    if not email:
        result.errors["email"] = "email_required"
    elif len(email) > EMAIL_MAX or any(c in email for c in "\r\n\0"):
        result.errors["email"] = "email_invalid"
    result.values["email"] = email[: EMAIL_MAX + 1]


def read_choices(
    form: MultiDict[str, str], result: FormResult, known_topics: list[str], *, language: str
) -> None:
    topics = [slug for slug in form.getlist("topics") if len(slug) <= FIELD_MAX]
    if not topics:
        result.errors["topics"] = "topics_required"
    elif any(slug not in known_topics for slug in topics) or len(topics) > len(known_topics):
        result.errors["topics"] = "topics_unknown"
    chosen = form.get("language", language)
    if chosen not in SUPPORTED_LANGUAGES:
        result.errors["language"] = "language_invalid"
        chosen = language
    result.values["topics"] = list(dict.fromkeys(topics))
    result.values["language"] = chosen


def read_signup(form: MultiDict[str, str], known_topics: list[str], *, language: str) -> FormResult:
    result = FormResult()
    read_email(form, result)
    read_choices(form, result, known_topics, language=language)
    return result


def read_preferences(
    form: MultiDict[str, str], known_topics: list[str], *, language: str
) -> FormResult:
    result = FormResult()
    read_choices(form, result, known_topics, language=language)
    result.values["paused"] = form.get("paused") == "on"
    return result
