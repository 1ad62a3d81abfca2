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
from collections.abc import Iterable


def average_link(
    groups: list[list[int]], edges: Iterable[tuple[int, int, float]], threshold: float
) -> list[list[int]]:
    """Repeatedly merge the two groups (lists of item indexes) whose average pairwise
    similarity is highest while it reaches ``threshold``; ``edges`` are (item, item,
    similarity) triples."""
    members: dict[int, list[int]] = {number: list(group) for number, group in enumerate(groups)}
    home = {index: number for number, group in members.items() for index in group}
    # link[a][b]: the sum of the similarities between the members of groups a and b
    link: dict[int, dict[int, float]] = {number: {} for number in members}
    version = [0] * len(members)
    for left, right, value in edges:
        a, b = home[left], home[right]
        if a != b:
            link[a][b] = link[b][a] = link[a].get(b, 0.0) + value
    heap = [
        (-total / (len(members[a]) * len(members[b])), a, b, 0, 0)
        for a, neighbours in link.items()
        for b, total in neighbours.items()
        if a < b and total / (len(members[a]) * len(members[b])) >= threshold
    ]
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
    groups: list[list[int]],
    edges: Iterable[tuple[int, int, float]],
    threshold: float,
    largest: int = 1,
) -> list[list[int]]:
    """Move each group of at most ``largest`` items into the larger group that holds its
    best match, if that similarity reaches ``threshold``. A report told in other words
    than the rest of its story matches one of them well but the story as a whole only
    loosely; a small group joins at most one other, and only a larger one, so this
    cannot chain two stories."""
    home = {index: number for number, group in enumerate(groups) for index in group}
    best: dict[int, tuple[float, int]] = {}
    for a, b, value in edges:
        for small, other in ((home[a], home[b]), (home[b], home[a])):
            size = len(groups[small])
            joins = size <= largest and len(groups[other]) > size
            if joins and value >= threshold and value > best.get(small, (0.0, -1))[0]:
                best[small] = (value, other)
    merged = [list(group) for group in groups]
    for small, (_, other) in sorted(best.items()):
        if merged[small] and small not in {o for _, o in best.values()}:
            merged[other].extend(merged[small])
            merged[small] = []
    return [group for group in merged if group]


def bridge(
    groups: list[list[int]], edges: Iterable[tuple[int, int, float]], threshold: float
) -> list[list[int]]:
    """Merge two groups when their members, on average, have a good match on the other
    side: the mean over both groups' items of each item's best similarity to the other
    group. Two halves of one story (reports that stress different facts, each half with
    its own translations) meet this way; each pair of groups is judged once, best first,
    and a group merges at most once, so this cannot chain stories."""
    home = {index: number for number, group in enumerate(groups) for index in group}
    best: dict[tuple[int, int], dict[int, float]] = {}
    for a, b, value in edges:
        ga, gb = home[a], home[b]
        if ga == gb:
            continue
        key = (min(ga, gb), max(ga, gb))
        found = best.setdefault(key, {})
        found[a] = max(found.get(a, 0.0), value)
        found[b] = max(found.get(b, 0.0), value)
    scores = []
    for (ga, gb), found in best.items():
        size = len(groups[ga]) + len(groups[gb])
        scores.append((sum(found.values()) / size, ga, gb))
    merged = [list(group) for group in groups]
    used: set[int] = set()
    for score, ga, gb in sorted(scores, reverse=True):
        if score < threshold:
            break
        if ga in used or gb in used:
            continue
        used |= {ga, gb}
        merged[ga].extend(merged[gb])
        merged[gb] = []
    return [group for group in merged if group]
