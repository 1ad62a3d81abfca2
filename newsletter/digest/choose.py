"""Which writer a build uses: Claude when an API key is set, else the offline writer."""

from __future__ import annotations

from newsletter.config import Settings
from newsletter.digest.offline import OfflineWriter
from newsletter.digest.writer import Writer


def choose_writer(settings: Settings) -> Writer:
    """Claude when an API key is set, else the offline writer (the pipeline runs offline)."""
    if settings.anthropic_api_key:
        from newsletter.digest.claude import ClaudeWriter  # the SDK is slow to import

        return ClaudeWriter.from_settings(settings)
    return OfflineWriter()


def writer_reason(settings: Settings) -> str:
    """Which writer ``choose_writer`` picks, and why, in one line for people."""
    if settings.anthropic_api_key:
        return f"Writer: Claude ({settings.anthropic_model}), because an Anthropic API key is set."
    return (
        "Writer: offline (extractive, no network), because neither "
        "NEWSLETTER_ANTHROPIC_API_KEY nor ANTHROPIC_API_KEY is set."
    )
