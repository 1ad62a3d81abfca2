"""The structured digest. Everything downstream (email, text, archive) renders from it.

``WrittenDigest`` is what a writer produces; ``DigestContent`` adds what the service
computes itself (title, tagline, the source list built from cited items), so a writer
can never put an uncited source in front of a reader. The field descriptions are part
of the contract: the Claude writer sends this schema to the model as its tool's input.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

_IDS = "The ids of the news items this rests on (the `id` of the records given)."


class Highlight(BaseModel):
    title: str = Field(min_length=1, max_length=300, description="A short headline.")
    body: str = Field(
        min_length=1,
        max_length=3000,
        description="One paragraph of 3-5 sentences merging what the cited items report, "
        "naming each outlet that reported it once. No URLs.",
    )
    item_ids: list[int] = Field(min_length=1, description=_IDS)


class KeyPoint(BaseModel):
    text: str = Field(min_length=1, max_length=600, description="One factual sentence.")
    item_ids: list[int] = Field(default_factory=list, description=_IDS)


class Analysis(BaseModel):
    industry: str = Field(description="Industry meaning: what the day's news means.")
    competition: str = Field(description="Versus competitors / technical edge.")
    market: str = Field(description="Market impact, short and longer term.")


class FurtherThinking(BaseModel):
    developers: list[str] = Field(description="2-4 concrete advice bullets.")
    everyday_users: list[str] = Field(description="2-3 plain-language bullets.")


class WrittenDigest(BaseModel):
    summary: list[str] = Field(
        min_length=1, max_length=5, description="Exactly 3 sentences summing up the day."
    )
    tags: list[str] = Field(
        default_factory=list, max_length=12, description="5-8 short tags (names, themes)."
    )
    trends: str = Field(description="One paragraph on the trends the day's news shows.")
    highlights: list[Highlight] = Field(
        min_length=1,
        max_length=8,
        description="1-3 news highlights, most important first, one story each.",
    )
    analysis: Analysis
    key_points: list[KeyPoint] = Field(min_length=1, max_length=12, description="3-5 key points.")
    further_thinking: FurtherThinking

    def cited_item_ids(self) -> list[int]:
        """Every item id the text rests on, in order of first citation."""
        ids = [i for highlight in self.highlights for i in highlight.item_ids]
        ids += [i for point in self.key_points for i in point.item_ids]
        return list(dict.fromkeys(ids))


class SourceRef(BaseModel):
    item_id: int
    title: str
    url: str
    outlet: str


class Usage(BaseModel):
    """Tokens a writer spent (over all its calls) and what they cost, estimated."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float | None = None

    def __add__(self, other: Usage) -> Usage:
        costs = [c for c in (self.cost_usd, other.cost_usd) if c is not None]
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cost_usd=round(sum(costs), 6) if costs else None,
        )


class DigestContent(WrittenDigest):
    topic: str
    topic_name: str
    date: date
    language: str
    title: str
    tagline: str
    subject: str = ""  # the email's subject line ("" in digests stored before it existed)
    sources: list[SourceRef] = Field(min_length=1)
    writer: str
    model: str | None = None
    usage: Usage = Field(default_factory=Usage)
