"""Estimated cost of a Messages API call, from its token usage.

Prices are list prices in USD per million tokens by model family (the family's current
generation); a model outside these families gets no estimate rather than a wrong one.
Prompt-cache writes (5-minute) cost 1.25x the input price, cache reads 0.1x; a call
through the Message Batches API costs half.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from newsletter.digest.schema import Usage
from newsletter.models import Digest

CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1
BATCH_FACTOR = 0.5  # the Message Batches API bills every token at half price


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float


FAMILY_PRICES = {
    "claude-opus": Price(5.0, 25.0),
    "claude-sonnet": Price(3.0, 15.0),
    "claude-haiku": Price(1.0, 5.0),
}


def price_of(model: str) -> Price | None:
    for family, price in FAMILY_PRICES.items():
        if model.startswith(family + "-"):
            return price
    return None


def with_cost(usage: Usage, model: str, *, batch: bool = False) -> Usage:
    """``usage`` with its estimated cost in USD filled in (None for an unknown model);
    ``batch``: the call went through the Message Batches API."""
    price = price_of(model)
    if price is None:
        return usage.model_copy(update={"cost_usd": None})
    input_tokens = (
        usage.input_tokens
        + usage.cache_write_tokens * CACHE_WRITE_FACTOR
        + usage.cache_read_tokens * CACHE_READ_FACTOR
    )
    cost = (input_tokens * price.input_per_mtok + usage.output_tokens * price.output_per_mtok) / 1e6
    if batch:
        cost *= BATCH_FACTOR
    return usage.model_copy(update={"cost_usd": round(cost, 6)})


def day_costs(digests: list[Digest]) -> dict[tuple[str, date], tuple[int, float]]:
    """What each topic-day cost over its languages (failed attempts included), for the
    days whose digests have a cost estimate: (digests, dollars) per (topic, day)."""
    totals: dict[tuple[str, date], tuple[int, float]] = {}
    for digest in digests:
        if digest.cost_usd is None:
            continue
        count, cost = totals.get((digest.topic.slug, digest.date), (0, 0.0))
        totals[(digest.topic.slug, digest.date)] = (count + 1, cost + digest.cost_usd)
    return totals
