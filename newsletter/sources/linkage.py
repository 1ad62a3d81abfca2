"""Average-link clustering over a sparse similarity graph.

Two groups merge only if their members are similar *on average*, so one loosely related
pair cannot chain two stories together the way single-link joining does. Pairs with no
edge count as similarity 0. The best candidate merge comes from a heap: a merge
re-scores only the merged group's neighbours, never every pair, so the cost follows the
number of edges rather than the square of the number of items.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable


def average_link(
    count: int,
    edges: Iterable[tuple[int, int, float]],
    threshold: float,
    strongest_share: float = 0.0,
) -> list[list[int]]:
    """Groups of the indexes ``0..count-1``: repeatedly merge the two groups whose
    average pairwise similarity is highest while it reaches ``threshold``."""
    members: dict[int, list[int]] = {index: [index] for index in range(count)}
    # link[a][b]: the sum of the similarities between the members of groups a and b
    link: dict[int, dict[int, float]] = {index: {} for index in range(count)}
    # best[a][b]: the highest similarity between a member of a and a member of b
    best: dict[int, dict[int, float]] = {index: {} for index in range(count)}
    version = [0] * count
    heap: list[tuple[float, int, int, int, int]] = []
    for a, b, value in edges:
        link[a][b] = link[b][a] = link[a].get(b, 0.0) + value
        best[a][b] = best[b][a] = max(best[a].get(b, 0.0), value)
    for a, neighbours in link.items():
        for b, total in neighbours.items():
            if a < b and total >= threshold:
                heap.append((-total, a, b, 0, 0))
    heapq.heapify(heap)
    while heap:
        negative, a, b, version_a, version_b = heapq.heappop(heap)
        if -negative < threshold:
            break
        if version[a] != version_a or version[b] != version_b:
            continue  # a or b has merged since this entry was pushed
        if len(members[a]) < len(members[b]):
            a, b = b, a
        members[a].extend(members.pop(b))
        version[a] += 1
        version[b] = -1
        for c, total in link.pop(b).items():
            link[c].pop(b)
            strongest = best[c].pop(b)
            if c != a:
                link[a][c] = link[c][a] = link[a].get(c, 0.0) + total
                best[a][c] = best[c][a] = max(best[a].get(c, 0.0), strongest)
        link[a].pop(b, None)
        best[a].pop(b, None)
        del best[b]
        size = len(members[a])
        for c, total in link[a].items():
            average = total / (size * len(members[c]))
            average += strongest_share * (best[a][c] - average)
            if average >= threshold:
                heapq.heappush(heap, (-average, min(a, c), max(a, c), *_versions(version, a, c)))
    return list(members.values())


def _versions(version: list[int], a: int, c: int) -> tuple[int, int]:
    return (version[a], version[c]) if a < c else (version[c], version[a])
