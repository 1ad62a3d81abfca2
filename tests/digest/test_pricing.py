"""Estimated cost from token usage, by model family."""

from __future__ import annotations

import pytest

from newsletter.digest.pricing import with_cost
from newsletter.digest.schema import Usage

USAGE = Usage(
    input_tokens=1_000_000, output_tokens=100_000, cache_write_tokens=0, cache_read_tokens=0
)


@pytest.mark.parametrize(
    ("model", "cost"),
    [
        ("claude-sonnet-5-5", 3.0 + 1.5),
        ("claude-haiku-4-5-20251001", 1.0 + 0.5),
        ("claude-opus-4-8", 5.0 + 2.5),
        ("claude-mythos-5", None),
    ],
)
def test_cost_by_family(model: str, cost: float | None) -> None:
    assert with_cost(USAGE, model).cost_usd == cost


def test_cache_writes_cost_more_and_reads_less_than_input() -> None:
    cached = Usage(cache_write_tokens=1_000_000, cache_read_tokens=1_000_000)
    assert with_cost(cached, "claude-sonnet-5").cost_usd == pytest.approx(3.75 + 0.3)


def test_usage_adds_up_over_calls() -> None:
    first = with_cost(Usage(input_tokens=10, output_tokens=5), "claude-sonnet-5")
    total = first + with_cost(Usage(input_tokens=1, cache_read_tokens=4), "claude-sonnet-5")
    assert (total.input_tokens, total.output_tokens, total.cache_read_tokens) == (11, 5, 4)
    assert total.cost_usd == pytest.approx((11 * 3 + 5 * 15 + 4 * 0.3) / 1e6, abs=1e-6)
    assert (Usage() + Usage()).cost_usd is None
