"""Second clustering pass: join groups of reports whose centroids are alike.

Outlets frame one event differently ("Anthropic launches Claude for healthcare" against
"Anthropic chases OpenAI into health care"), so average link can leave a story in two
groups whose reports each match their own group well and the other group's only
loosely. A group's centroid (the sum of its reports' vectors) keeps what its reports
agree on and dilutes what one of them says alone, so two such halves are compared as
wholes: by the centroids of their reports in each language they share, and by the
centroids of their anchors (the tokens that occur in both languages), as single reports
are (``dedupe``).

What two groups share must not rest on one name: in each language the shared name
(``e:``, ``v:`` tokens) that contributes most is left out, and across languages the
shared anchor that contributes most, so two stories about one product ("Gemini 3 Flash"
and "Gemini to power Siri") stay apart while two framings of one launch, which share
its subject terms ("health care", "life sciences") besides the company, meet.

Only groups of at least ``MIN_REPORTS`` reports take part (a centroid of one report is
that report, which the first pass has judged already). Two groups that each hold a
report from the same outlet stay apart: an outlet tells a story once, so two groups it
reported are two stories (a company's two stories of one day share its names and
terms). Groups join best pair first, and the joined group's centroid is compared afresh.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

MIN_REPORTS = 2
NAME_PREFIXES = ("e:", "v:")


class Vector(Protocol):
    weights: dict[str, float]
    anchors: dict[str, float]
    chinese: bool
    hours: float
    companies: frozenset[str]


@dataclass
class Centroid:
    """A group of reports as sums of its reports' vectors."""

    members: list[int]
    words: dict[bool, dict[str, float]]
    """Per language (``True``: Chinese), the sum of the reports' token weights."""
    anchors: dict[str, float]
    hours: float
    """The mean publication time."""
    companies: frozenset[str]
    """The companies most of its reports name: what the group is about."""
    outlets: frozenset[str]

    tokens: frozenset[tuple[str, str]]
    """Its tokens tagged by kind ("en", "zh", "anchor"): groups that share none are never
    compared."""


def _add(total: dict[str, float], vector: dict[str, float]) -> None:
    for token, value in vector.items():
        total[token] = total.get(token, 0.0) + value


def centroid(members: list[int], vectors: Sequence[Vector], outlets: Sequence[str]) -> Centroid:
    words: dict[bool, dict[str, float]] = defaultdict(dict)
    anchors: dict[str, float] = {}
    named: Counter[str] = Counter()
    for index in members:
        _add(words[vectors[index].chinese], vectors[index].weights)
        _add(anchors, vectors[index].anchors)
        named.update(vectors[index].companies)
    return Centroid(
        members,
        dict(words),
        anchors,
        sum(vectors[index].hours for index in members) / len(members),
        frozenset(company for company, count in named.items() if 2 * count > len(members)),
        frozenset(outlets[index] for index in members),
        frozenset(
            [("zh" if chinese else "en", token) for chinese, w in words.items() for token in w]
            + [("anchor", token) for token in anchors]
        ),
    )


def _norm(vector: dict[str, float]) -> float:
    return math.sqrt(sum(value * value for value in vector.values()))


def _products(left: dict[str, float], right: dict[str, float]) -> dict[str, float]:
    """Each shared token's part in the cosine of ``left`` and ``right``."""
    scale = _norm(left) * _norm(right)
    if not scale:
        return {}
    if len(left) > len(right):
        left, right = right, left
    return {token: value * right[token] / scale for token, value in left.items() if token in right}


def similarity(left: Centroid, right: Centroid) -> float:
    """The best of: the cosine of the two groups' centroids in each language both have
    without the strongest shared name, and the cosine of their anchor centroids without
    the strongest shared anchor."""
    best = 0.0
    for language, words in left.words.items():
        if language in right.words:
            shared = _products(words, right.words[language])
            names = [value for token, value in shared.items() if token.startswith(NAME_PREFIXES)]
            best = max(best, sum(shared.values()) - max(names, default=0.0))
    anchors = _products(left.anchors, right.anchors).values()
    return max(best, sum(anchors) - max(anchors, default=0.0))


def join_alike(
    groups: list[list[int]],
    vectors: Sequence[Vector],
    outlets: Sequence[str],
    threshold: float,
    factor: Callable[[Centroid, Centroid], float],
) -> list[list[int]]:
    """Join groups while the most similar pair (similarity times ``factor``, for time
    apart and rival companies) reaches ``threshold`` and has no outlet in common."""
    live = {
        number: centroid(group, vectors, outlets)
        for number, group in enumerate(groups)
        if len(group) >= MIN_REPORTS
    }
    small = [group for group in groups if len(group) < MIN_REPORTS]
    version = dict.fromkeys(live, 0)
    heap: list[tuple[float, int, int, int, int]] = []

    def push(a: int, b: int) -> None:
        left, right = live[a], live[b]
        if left.outlets & right.outlets:
            return
        value = similarity(left, right) * factor(left, right)
        if value >= threshold:
            heapq.heappush(heap, (-value, a, b, version[a], version[b]))

    postings: dict[tuple[str, str], list[int]] = defaultdict(list)
    for number, group in live.items():
        met: set[int] = set()
        for token in group.tokens:
            met.update(postings[token])
            postings[token].append(number)
        for other in met:
            push(other, number)
    next_number = len(groups)
    while heap:
        _, a, b, version_a, version_b = heapq.heappop(heap)
        if version.get(a) != version_a or version.get(b) != version_b:
            continue  # a or b has joined another group since this pair was scored
        joined = centroid(live[a].members + live[b].members, vectors, outlets)
        for gone in (a, b):
            del live[gone], version[gone]
        live[next_number], version[next_number] = joined, 0
        for other, group in list(live.items()):
            if other != next_number and not joined.tokens.isdisjoint(group.tokens):
                push(other, next_number)
        next_number += 1
    return [group.members for group in live.values()] + small
