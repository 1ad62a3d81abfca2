"""Story clustering measured on a labelled day of news: pairwise precision and recall."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import pytest

from newsletter.sources.dedupe import SIMILARITY_THRESHOLD, Story, cluster_stories

LABELLED = Path(__file__).parent.parent / "fixtures" / "dedupe" / "stories.json"
MIN_F1 = 0.9


@dataclass
class Labelled:
    id: int
    title: str
    summary: str
    outlet: str
    published_at: datetime
    story: str


def labelled_items() -> list[Labelled]:
    start = datetime(2026, 1, 12, tzinfo=UTC)
    raw = json.loads(LABELLED.read_text(encoding="utf-8"))["items"]
    return [
        Labelled(
            n,
            item["title"],
            item["summary"],
            item["outlet"],
            start + timedelta(minutes=n),
            item["story"],
        )
        for n, item in enumerate(raw, start=1)
    ]


def pairwise_scores(items: list[Labelled], stories: list[Story]) -> tuple[float, float, float]:
    predicted = {item.id: index for index, story in enumerate(stories) for item in story.items}
    true_positive = false_positive = false_negative = 0
    for left, right in combinations(items, 2):
        same_label = left.story == right.story
        same_cluster = predicted[left.id] == predicted[right.id]
        true_positive += same_label and same_cluster
        false_positive += same_cluster and not same_label
        false_negative += same_label and not same_cluster
    precision = true_positive / ((true_positive + false_positive) or 1)
    recall = true_positive / ((true_positive + false_negative) or 1)
    f1 = 2 * precision * recall / ((precision + recall) or 1)
    return precision, recall, f1


def test_labelled_day_clusters_into_its_stories(capsys: pytest.CaptureFixture[str]) -> None:
    items = labelled_items()
    assert len(items) >= 40
    stories = cluster_stories(items)
    precision, recall, f1 = pairwise_scores(items, stories)
    with capsys.disabled():
        print(
            f"\n[dedupe] {len(items)} items, {len({i.story for i in items})} labelled stories, "
            f"{len(stories)} clusters: pairwise precision {precision:.3f}, "
            f"recall {recall:.3f}, F1 {f1:.3f}"
        )
    wrong = [
        [f"{item.story}: {item.title}" for item in story.items]
        for story in stories
        if len({item.story for item in story.items}) > 1
    ]
    assert f1 >= MIN_F1, f"F1 {f1:.3f}; mixed clusters: {wrong}"


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_quality_does_not_hang_on_the_exact_threshold(factor: float) -> None:
    items = labelled_items()
    *_, f1 = pairwise_scores(items, cluster_stories(items, SIMILARITY_THRESHOLD * factor))
    assert f1 >= MIN_F1


def item(n: int, title: str, summary: str = "", outlet: str = "") -> Labelled:
    when = datetime(2026, 1, 12, tzinfo=UTC) + timedelta(minutes=n)
    return Labelled(n, title, summary, outlet or f"Outlet {n}", when, "")


def titles(stories: list[Story]) -> list[list[str]]:
    return [[i.title for i in story.items] for story in stories]


FILLER = [
    item(10, "Apple to use Google's Gemini to power revamped Siri"),
    item(11, "OpenAI hires a new chief financial officer"),
    item(12, "Anthropic opens Tokyo office, its first in Asia"),
    item(13, "Nvidia earnings beat expectations on chip demand"),
]


def test_a_phrase_and_its_joined_spelling_match() -> None:
    stories = cluster_stories(
        [item(1, "Anthropic's newest datacenter"), item(2, "A data center for Claude"), *FILLER]
    )
    assert sorted(titles(stories)[0]) == [
        "A data center for Claude",
        "Anthropic's newest datacenter",
    ]


def test_numbers_match_by_value() -> None:
    stories = cluster_stories(
        [
            item(1, "Anthropic customers top 300,000"),
            item(2, "300K customers for Claude maker"),
            *FILLER,
        ]
    )
    assert len(stories[0].items) == 2


def test_one_loose_pair_does_not_chain_two_stories() -> None:
    opus = [
        item(1, "Introducing Claude Opus 4.6", "Our best model for coding and agents."),
        item(2, "Claude Opus 4.6 released", "Opus 4.6 tops coding benchmarks."),
        item(3, "Claude Opus 4.6 first impressions", "Opus 4.6 in Claude Code all day."),
    ]
    gpt = [
        item(4, "Introducing GPT-5.2", "Our best model for coding and agents at work."),
        item(5, "OpenAI releases GPT-5.2", "GPT-5.2 claims top scores on work tasks."),
        item(6, "GPT-5.2 hands-on", "We tried GPT-5.2 on spreadsheets."),
    ]
    stories = cluster_stories([*opus, *gpt, *FILLER])
    assert sorted(map(sorted, titles(stories)[:2])) == sorted(
        [sorted(i.title for i in opus), sorted(i.title for i in gpt)]
    )


def test_stories_order_by_outlets_and_lead_is_the_first_report() -> None:
    stories = cluster_stories(
        [
            item(3, "Allianz signs a global deal with Anthropic", outlet="Reuters"),
            item(1, "Allianz and Anthropic sign a global deal", outlet="Anthropic"),
            item(2, "Global Allianz deal for Anthropic", outlet="FT"),
            *FILLER,
        ]
    )
    assert stories[0].outlets == ["Anthropic", "FT", "Reuters"]
    assert stories[0].lead.id == 1
    assert all(len(story.items) == 1 for story in stories[1:])


def test_nothing_to_cluster() -> None:
    assert cluster_stories([]) == []
