"""Group items that tell the same story into stories, the unit the writer works with.

Items are compared by TF-IDF cosine similarity of their title (weighted double) and
summary; pairs above a threshold are joined (single-link, via union-find). Words that
appear in most items of the day (the topic's own name, typically) weigh little.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

SIMILARITY_THRESHOLD = 0.22
_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*|[\u4e00-\u9fff]")
_STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or that the this to "
    "was were will with new now over after about more than how why what who you your our "
    "says said report reports".split()
)


class StoryItem(Protocol):
    id: int
    canonical_url: str
    title: str
    summary: str
    outlet: str
    published_at: datetime


@dataclass
class Story:
    """Items about one event; ``items[0]`` is the lead (the earliest report)."""

    items: list[StoryItem] = field(default_factory=list)

    @property
    def lead(self) -> StoryItem:
        return self.items[0]

    @property
    def outlets(self) -> list[str]:
        return list(dict.fromkeys(item.outlet for item in self.items))


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _terms(item: StoryItem) -> Counter[str]:
    def words(text: str) -> list[str]:
        found = _WORD.findall(text.lower().replace("-", " "))
        return [_stem(w) for w in found if w not in _STOPWORDS and (len(w) > 2 or w.isdigit())]

    terms = Counter(words(item.summary))
    for word in words(item.title):
        terms[word] += 2
    return terms


def _vectors(items: Sequence[StoryItem]) -> list[dict[str, float]]:
    counts = [_terms(item) for item in items]
    document_frequency = Counter(term for terms in counts for term in terms)
    total = len(items)
    vectors = []
    for terms in counts:
        vector = {
            term: weight * math.log((1 + total) / (1 + document_frequency[term]))
            for term, weight in terms.items()
        }
        norm = math.sqrt(sum(value * value for value in vector.values())) or 1.0
        vectors.append({term: value / norm for term, value in vector.items()})
    return vectors


def similarity(left: dict[str, float], right: dict[str, float]) -> float:
    if len(left) > len(right):
        left, right = right, left
    return sum(value * right.get(term, 0.0) for term, value in left.items())


def cluster_stories(
    items: Sequence[StoryItem], threshold: float = SIMILARITY_THRESHOLD
) -> list[Story]:
    """Stories, most-reported first (then most recent); items in each by publish time."""
    parent = list(range(len(items)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    vectors = _vectors(items)
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if similarity(vectors[i], vectors[j]) >= threshold:
                parent[root(j)] = root(i)

    groups: dict[int, list[StoryItem]] = {}
    for index, item in enumerate(items):
        groups.setdefault(root(index), []).append(item)
    stories = [
        Story(sorted(group, key=lambda item: (item.published_at, item.id)))
        for group in groups.values()
    ]
    stories.sort(
        key=lambda story: (
            -len(story.outlets),
            -max(item.published_at.timestamp() for item in story.items),
        )
    )
    return stories
