"""Which section headings a digest shows: a section with nothing in it is left out."""

from __future__ import annotations

from newsletter.digest.schema import DigestContent


def shown_sections(content: DigestContent) -> list[str]:
    thinking = content.further_thinking
    present = {
        "analysis": any(content.analysis.model_dump().values()),
        "thinking": bool(thinking.developers or thinking.everyday_users),
    }
    keys = ("summary", "trends", "highlights", "analysis", "key_points", "thinking")
    return [key for key in keys if present.get(key, True)]
