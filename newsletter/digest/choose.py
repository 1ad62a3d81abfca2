"""Which writer a build uses: Claude when an API key is set, else the offline writer."""

from __future__ import annotations

from datetime import UTC, datetime

from newsletter.config import Settings
from newsletter.digest.offline import OfflineWriter
from newsletter.digest.writer import Writer


def choose_writer(settings: Settings, send_at: datetime | None = None) -> Writer:
    """Claude when an API key is set, else the offline writer (the pipeline runs offline).

    Claude goes through the Message Batches API when the build runs early enough before
    ``send_at`` (NEWSLETTER_ANTHROPIC_BATCH_LEAD_MINUTES)."""
    if settings.anthropic_api_key:
        from newsletter.digest.batch import batch_policy  # the SDK is slow to import
        from newsletter.digest.claude import ClaudeWriter

        lead = settings.anthropic_batch_lead_minutes
        policy = batch_policy(lead, send_at, datetime.now(UTC)) if send_at else None
        return ClaudeWriter.from_settings(settings, batch=policy)
    return OfflineWriter()


def writer_reason(settings: Settings) -> str:
    """Which writer ``choose_writer`` picks, and why, in one line for people."""
    if settings.anthropic_api_key:
        return f"Writer: Claude ({settings.anthropic_model}), because an Anthropic API key is set."
    return (
        "Writer: offline (extractive, no network), because neither "
        "NEWSLETTER_ANTHROPIC_API_KEY nor ANTHROPIC_API_KEY is set."
    )
