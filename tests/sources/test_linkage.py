"""Average link over a sparse graph, and loners joining the story they match best."""

from __future__ import annotations

from newsletter.sources.linkage import attach_loners, average_link

# two tight pairs (0-1, 2-3) loosely linked through 1-2
EDGES = [(0, 1, 0.9), (2, 3, 0.8), (1, 2, 0.5)]


def sorted_groups(groups: list[list[int]]) -> list[list[int]]:
    return sorted(sorted(group) for group in groups)


def test_groups_merge_while_their_average_similarity_reaches_the_threshold() -> None:
    assert sorted_groups(average_link(4, EDGES, 0.7)) == [[0, 1], [2, 3]]
    # {0,1} and {2,3}: one edge of 0.5 over four pairs, 0.125 on average
    assert sorted_groups(average_link(4, EDGES, 0.12)) == [[0, 1, 2, 3]]


def test_groups_holding_a_report_of_the_same_outlet_merge_only_on_a_strong_match() -> None:
    outlets = ["Reuters", "Bloomberg", "Reuters", "CNBC"]
    assert sorted_groups(average_link(4, EDGES, 0.12, outlets, 0.3)) == [[0, 1], [2, 3]]
    assert sorted_groups(average_link(4, EDGES, 0.12, outlets, 0.1)) == [[0, 1, 2, 3]]
    same = ["Reddit r/ClaudeAI", "Reddit r/ClaudeAI"]
    assert sorted_groups(average_link(2, [(0, 1, 0.9)], 0.1, same, 0.3)) == [[0, 1]]
    assert sorted_groups(average_link(2, [(0, 1, 0.2)], 0.1, same, 0.3)) == [[0], [1]]


def test_a_loner_joins_the_group_of_the_item_it_matches_best() -> None:
    groups = [[0, 1], [2]]
    edges = [(0, 2, 0.35), (1, 2, 0.05)]
    assert sorted_groups(attach_loners(groups, edges, 0.3)) == [[0, 1, 2]]
    assert sorted_groups(attach_loners(groups, edges, 0.4)) == [[0, 1], [2]]
