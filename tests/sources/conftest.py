"""Fixtures for the sources tests: local HTTP servers standing in for news sites."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.sources.fakeweb import FakeSite


@pytest.fixture
def make_site() -> Iterator[Callable[[], FakeSite]]:
    sites: list[FakeSite] = []

    def make() -> FakeSite:
        sites.append(FakeSite())
        return sites[-1]

    yield make
    for site in sites:
        site.close()


@pytest.fixture
def site(make_site: Callable[[], FakeSite]) -> FakeSite:
    return make_site()
