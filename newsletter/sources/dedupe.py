"""Group items that tell the same story into stories, the unit the writer works with.

Items are compared by TF-IDF cosine similarity of the tokens ``storyterms`` gives them
(amounts by value, names and news terms through a bilingual table, Latin word stems,
Chinese character pairs, and the English senses of Chinese words from CC-CEDICT).
Tokens that most of the day's items share weigh little.

Two reports in the same language are compared on all their tokens, except that the
strongest name they share (``e:``, ``v:`` tokens) counts at most as much as all the rest
they share (``NAME_LIMIT``). An English and a Chinese report can only share names,
terms, amounts and Latin words (a Chinese report's through the senses of its words), so
every pair is also compared on those alone (the "anchors": the tokens of the day that
occur in both languages), leaving out the one shared anchor that contributes most: what
two reports have in common there must not rest on a single word, so one Latin name
("Claude", "Gemini") cannot put a Chinese item into an unrelated English story. A pair
in one language takes the better of its two scores, so paraphrased reports that share
facts but few words still meet. Reports published far apart weigh less (``time_factor``), and
so do reports about different companies (``RIVALS``).

Candidate pairs come from an inverted index: only items that share a token are ever
compared, and tokens found in a large share of the day's items (``BLOCK_SHARE``) neither
make candidates nor count in the score. Stories are then formed by average-link
clustering over the candidate graph (``linkage.average_link``), and a report left alone
joins the story of the item it matches best if that match is strong
(``ATTACH_THRESHOLD``, ``linkage.attach_loners``). A post that gives another item's
address (an aggregator's link to the article) is that item's story (``LINKED``). Two
reports of one outlet join only on a strong match (``SAME_OUTLET_THRESHOLD``): an outlet
tells a story once, while a company's two stories of a day are often reported by the
same outlets in much the same words. Last, groups whose centroids are alike join
(``CENTROID_THRESHOLD``, ``centroids.join_alike``): outlets that frame one event
differently ("launches X" against "chases a rival into X") leave it in two groups.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from newsletter.sources.centroids import NAME_PREFIXES, Centroid, join_alike
from newsletter.sources.linkage import attach_loners, average_link
from newsletter.sources.normalize import canonical_url
from newsletter.sources.storyterms import ItemTerms, item_terms

SIMILARITY_THRESHOLD = 0.1
"""Average similarity at which two groups of reports are one story. Low, because short
paraphrased headlines share little; what keeps stories apart is mostly the outlet rule
(``SAME_OUTLET_THRESHOLD``) and the limits on shared names and rivals."""
NAME_LIMIT = 1.0
"""The most the strongest name two reports in one language share counts for, as a
multiple of all else they share: a company's or a product's two stories of a day share
its name and little else, and one name alone is no story."""
ATTACH_THRESHOLD = 0.3
SAME_OUTLET_THRESHOLD = ATTACH_THRESHOLD
"""Average similarity from which two groups holding reports of one outlet still merge:
an outlet tells a story once, but a forum's members (an outlet such as "Reddit
r/ClaudeAI") post one outage many times, in words this alike. A lone report joins a
group only this strongly (``ATTACH_THRESHOLD``), so that step needs no outlet rule."""
CENTROID_THRESHOLD = 0.2
"""Similarity of two groups' centroids at which they are one story told in two framings
(``centroids.join_alike``)."""
RIVALS = 0.5
"""Similarity kept by two reports that name companies and none in common (the storyterms
table maps products and people to their company): OpenAI's health launch and
Anthropic's share most of their words, yet they are two stories."""
LINKED = 1.0
"""Similarity of a post and the article whose address its text gives (a Hacker News or
Reddit item linking to another item of the day): one story, whatever their words."""
_ADDRESS = re.compile(r"https?://[^\s<>\"')\]]+")
EDGE_FLOOR = 0.05
BLOCK_SHARE = 0.3
MIN_BLOCK_ITEMS = 12
MAX_BLOCK_ITEMS = 50
"""A token in more items than this (or than ``BLOCK_SHARE`` of the day, whichever is
fewer, but never fewer than ``MIN_BLOCK_ITEMS``) cannot tell one story from the others:
no story has that many reports."""
SAME_DAY_HOURS = 24.0
DECAY_HOURS = 48.0


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


@dataclass
class _Vector:
    weights: dict[str, float]
    anchors: dict[str, float]
    chinese: bool
    hours: float
    companies: frozenset[str]


def _normalised(weights: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(value * value for value in weights.values())) or 1.0
    return {term: value / norm for term, value in weights.items()}


def _vectors(items: Sequence[StoryItem], terms: list[ItemTerms]) -> list[_Vector]:
    total = len(items)
    frequency = Counter(token for item in terms for token in item.counts.keys() | item.glossed)
    limit = max(MIN_BLOCK_ITEMS, min(BLOCK_SHARE * total, MAX_BLOCK_ITEMS))
    by_language: dict[bool, set[str]] = defaultdict(set)
    for item in terms:
        by_language[item.chinese].update(item.counts.keys() | item.glossed)
    shared = {t for t in by_language[True] & by_language[False] if not t.startswith("z:")}

    def weighted(counts: Counter[str]) -> dict[str, float]:
        return {
            token: count * math.log((1 + total) / (1 + frequency[token]))
            for token, count in counts.items()
            if frequency[token] <= limit
        }

    vectors = []
    for item, tokens in zip(items, terms, strict=True):
        weights = weighted(tokens.counts)
        anchors = {token: value for token, value in weights.items() if token in shared}
        for token, value in weighted(tokens.glossed).items():
            if token in shared:
                anchors[token] = anchors.get(token, 0.0) + value
        vectors.append(
            _Vector(
                _normalised(weights),
                _normalised(anchors),
                tokens.chinese,
                item.published_at.timestamp() / 3600,
                tokens.companies,
            )
        )
    return vectors


def time_factor(left_hours: float, right_hours: float) -> float:
    """1 within a day of each other, then falling: 0.5 two days further apart."""
    apart = abs(left_hours - right_hours) - SAME_DAY_HOURS
    return 1.0 if apart <= 0 else 1 / (1 + apart / DECAY_HOURS)


def _rivals(left: frozenset[str], right: frozenset[str]) -> bool:
    return bool(left and right) and left.isdisjoint(right)


def _group_factor(left: Centroid, right: Centroid) -> float:
    factor = time_factor(left.hours, right.hours)
    return factor * RIVALS if _rivals(left.companies, right.companies) else factor


def _edges(vectors: list[_Vector]) -> list[tuple[int, int, float]]:
    """Pairs that share a token, with their similarity when it reaches ``EDGE_FLOOR``.

    One pass: each item meets the earlier items through the posting lists of its tokens,
    so the work follows the number of (pair, shared token) meetings, not items squared."""
    postings: dict[str, list[int]] = defaultdict(list)
    edges = []
    for i, left in enumerate(vectors):
        words: dict[int, float] = defaultdict(float)
        anchors: dict[int, float] = defaultdict(float)
        strongest: dict[int, float] = defaultdict(float)
        named: dict[int, float] = defaultdict(float)
        for token in left.weights.keys() | left.anchors.keys():
            value = left.weights.get(token)
            anchor = left.anchors.get(token)
            for j in postings[token]:
                right = vectors[j]
                if value is not None and right.chinese == left.chinese:
                    product = value * right.weights.get(token, 0.0)
                    words[j] += product
                    if token.startswith(NAME_PREFIXES) and product > named[j]:
                        named[j] = product
                if anchor is not None and token in right.anchors:
                    product = anchor * right.anchors[token]
                    anchors[j] += product
                    if product > strongest[j]:
                        strongest[j] = product
            postings[token].append(i)
        for j, product in named.items():
            rest = words[j] - product
            words[j] = rest + min(product, NAME_LIMIT * rest)
        for j, value in anchors.items():
            value -= strongest[j]
            if value > words.get(j, 0.0):
                words[j] = value
        for j, value in words.items():
            if value < EDGE_FLOOR:
                continue  # the factors below only lower it
            right = vectors[j]
            value *= time_factor(left.hours, right.hours)
            if _rivals(left.companies, right.companies):
                value *= RIVALS
            if value >= EDGE_FLOOR:
                edges.append((j, i, value))
    return edges


def _link_edges(items: Sequence[StoryItem]) -> list[tuple[int, int, float]]:
    """Pairs of an item and another item of the day whose address its summary gives."""
    home = {item.canonical_url: index for index, item in enumerate(items) if item.canonical_url}
    edges = []
    for index, item in enumerate(items):
        for address in _ADDRESS.findall(item.summary):
            try:
                target = home.get(canonical_url(address.rstrip(".,;:")))
            except ValueError:
                continue  # not a usable address
            if target is not None and target != index:
                edges.append((min(index, target), max(index, target), LINKED))
    return edges


def cluster_stories(
    items: Sequence[StoryItem], threshold: float = SIMILARITY_THRESHOLD
) -> list[Story]:
    """Stories, most-reported first (then most recent); items in each by publish time."""
    vectors = _vectors(items, item_terms((item.title, item.summary) for item in items))
    edges = _edges(vectors) + _link_edges(items)
    outlets = [item.outlet for item in items]
    groups = average_link(len(items), edges, threshold, outlets, SAME_OUTLET_THRESHOLD)
    groups = attach_loners(groups, edges, ATTACH_THRESHOLD)
    groups = join_alike(groups, vectors, outlets, CENTROID_THRESHOLD, _group_factor)
    stories = [
        Story(sorted((items[i] for i in group), key=lambda item: (item.published_at, item.id)))
        for group in groups
    ]
    stories.sort(
        key=lambda story: (
            -len(story.outlets),
            -max(item.published_at.timestamp() for item in story.items),
        )
    )
    return stories
