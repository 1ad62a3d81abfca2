"""The render cache: least recently used entries go first, a hit never re-renders."""

from __future__ import annotations

import pytest

from newsletter.render.cache import RenderCache


def test_hits_do_not_render_again_and_the_oldest_entry_is_evicted() -> None:
    cache = RenderCache(size=2)
    calls: list[str] = []

    def render(value: str):
        return lambda: calls.append(value) or value.upper()

    assert cache.get_or_render("a", render("a")) == "A"
    assert cache.get_or_render("b", render("b")) == "B"
    assert cache.get_or_render("a", render("a")) == "A"  # a is now the most recent
    assert cache.get_or_render("c", render("c")) == "C"  # evicts b
    assert len(cache) == 2
    assert cache.get_or_render("a", render("a")) == "A"
    assert cache.get_or_render("b", render("b")) == "B"
    assert calls == ["a", "b", "c", "b"]
    assert (cache.hits, cache.misses) == (2, 4)


def test_a_failed_render_is_not_cached() -> None:
    cache = RenderCache(size=2)

    def broken() -> str:
        raise RuntimeError("template error")

    with pytest.raises(RuntimeError):
        cache.get_or_render("k", broken)
    assert len(cache) == 0
    assert cache.get_or_render("k", lambda: "fine") == "fine"


def test_a_cache_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RenderCache(size=0)
