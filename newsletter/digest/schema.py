"""The structured digest. Everything downstream (email, text, archive) renders from it.

``WrittenDigest`` is what a writer produces; ``DigestContent`` adds what the service
computes itself (title, tagline, the source list built from cited items), so a writer
can never put an uncited source in front of a reader.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Highlight(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=3000)
    item_ids: list[int] = Field(min_length=1)


class KeyPoint(BaseModel):
    text: str = Field(min_length=1, max_length=600)
    item_ids: list[int] = Field(default_factory=list)


class Analysis(BaseModel):
    industry: str
    competition: str
    market: str


class FurtherThinking(BaseModel):
    developers: list[str] = Field(min_length=1)
    everyday_users: list[str] = Field(min_length=1)


class WrittenDigest(BaseModel):
    summary: list[str] = Field(min_length=1, max_length=5)
    tags: list[str] = Field(default_factory=list, max_length=12)
    trends: str
    highlights: list[Highlight] = Field(min_length=1, max_length=8)
    analysis: Analysis
    key_points: list[KeyPoint] = Field(min_length=1, max_length=12)
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
    input_tokens: int = 0
    output_tokens: int = 0


class DigestContent(WrittenDigest):
    topic: str
    topic_name: str
    date: date
    language: str
    title: str
    tagline: str
    sources: list[SourceRef] = Field(min_length=1)
    writer: str
    model: str | None = None
    usage: Usage = Field(default_factory=Usage)
