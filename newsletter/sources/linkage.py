"""Average-link clustering over a sparse similarity graph.

Two groups merge only if their members are similar *on average*, so one loosely related
pair cannot chain two stories together the way single-link joining does. Pairs with no
edge count as similarity 0.

The best candidate merge comes from a heap: a merge re-scores only the merged group's
neighbours, never every pair, so the cost follows the number of edges rather than the
square of the number of items.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence


def average_link(
    count: int,
    edges: Iterable[tuple[int, int, float]],
    threshold: float,
    outlets: Sequence[str] | None = None,
    same_outlet_threshold: float = math.inf,
) -> list[list[int]]:
    """Groups of the indexes ``0..count-1``: repeatedly merge the two groups whose
    average pairwise similarity is highest while it reaches ``threshold``. Given each
    index's outlet, two groups that hold a report of the same outlet merge only from
    ``same_outlet_threshold``: an outlet tells a story once, but a forum's members post
    one story many times."""
    members: dict[int, list[int]] = {index: [index] for index in range(count)}
    sources: dict[int, set[str]] = {
        index: {outlets[index]} if outlets else set() for index in range(count)
    }
    # link[a][b]: the sum of the similarities between the members of groups a and b
    link: dict[int, dict[int, float]] = {index: {} for index in range(count)}
    version = [0] * count
    for a, b, value in edges:
        link[a][b] = link[b][a] = link[a].get(b, 0.0) + value
    heap = [
        (-total, a, b, 0, 0)
        for a, neighbours in link.items()
        for b, total in neighbours.items()
        if a < b and total >= threshold
    ]
    heapq.heapify(heap)
    while heap:
        negative, a, b, version_a, version_b = heapq.heappop(heap)
        if -negative < threshold:
            break
        if version[a] != version_a or version[b] != version_b:
            continue  # a or b has merged since this entry was pushed
        if -negative < same_outlet_threshold and not sources[a].isdisjoint(sources[b]):
            continue
        if len(members[a]) < len(members[b]):
            a, b = b, a
        members[a].extend(members.pop(b))
        sources[a] |= sources.pop(b)
        version[a] += 1
        version[b] = -1
        for c, total in link.pop(b).items():
            link[c].pop(b)
            if c != a:
                link[a][c] = link[c][a] = link[a].get(c, 0.0) + total
        link[a].pop(b, None)
        size = len(members[a])
        for c, total in link[a].items():
            similarity = total / (size * len(members[c]))
            if similarity >= threshold:
                low, high = min(a, c), max(a, c)
                heapq.heappush(heap, (-similarity, low, high, version[low], version[high]))
    return list(members.values())


def attach_loners(
    groups: list[list[int]], edges: Iterable[tuple[int, int, float]], threshold: float
) -> list[list[int]]:
    """Move each group of one into the group of its most similar item, if that similarity
    reaches ``threshold``. A report told in other words than the rest of its story
    matches one of them well but the story as a whole only loosely; a lone item joins
    at most one group, so this cannot chain two stories."""
    home = {index: number for number, group in enumerate(groups) for index in group}
    best: dict[int, tuple[float, int]] = {}
    for a, b, value in edges:
        for loner, other in ((a, b), (b, a)):
            alone = len(groups[home[loner]]) == 1 and len(groups[home[other]]) > 1
            if alone and value >= threshold and value > best.get(loner, (0.0, -1))[0]:
                best[loner] = (value, other)
    merged = [list(group) for group in groups]
    for loner, (_, other) in best.items():
        merged[home[other]].append(loner)
        merged[home[loner]] = []
    return [group for group in merged if group]
