"""Story clustering measured on labelled days of news: pairwise precision and recall.

``day.json`` is the hard set: 170 items, 49 stories, 45% in Traditional Chinese, with
amounts written many ways, paraphrased headlines, same-company-same-day stories and
Chinese items that share one Latin name with an unrelated English story. It is split by
story id into a tuning part and a held-out part (stories whose sha256 starts with a byte
that is 0 or 1 modulo 5), fixed before any tuning; the goals are asserted on the held-out
part. Choices were judged on the tuning part, ``stories.json`` (the older, easier
44-item set, kept as a regression check) and the demo day, never on held-out scores
(which were printed three times along the way: see docs/benchmarks/cluster.md).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import pytest

from newsletter.sources.dedupe import SIMILARITY_THRESHOLD, Story, cluster_stories, time_factor
from newsletter.sources.storyterms import item_terms

FIXTURES = Path(__file__).parent.parent / "fixtures" / "dedupe"
MIN_F1 = 0.9
MIN_TOPIC_F1 = 0.85
MIN_PRECISION = 0.95
MIN_CROSS_LANGUAGE_RECALL = 0.8


@dataclass
class Labelled:
    id: int
    title: str
    summary: str
    outlet: str
    published_at: datetime
    story: str
    language: str = "en"
    canonical_url: str = ""


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    cross_language_recall: float | None
    clusters: int

    def line(self) -> str:
        cross = self.cross_language_recall
        return (
            f"P {self.precision:.3f} R {self.recall:.3f} F1 {self.f1:.3f}, en-zh pair recall "
            f"{'n/a' if cross is None else f'{cross:.3f}'}, {self.clusters} clusters"
        )


def easy_day() -> list[Labelled]:
    start = datetime(2026, 1, 12, tzinfo=UTC)
    raw = json.loads((FIXTURES / "stories.json").read_text(encoding="utf-8"))["items"]
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


def hard_day() -> tuple[list[Labelled], dict[str, list[str]]]:
    document = json.loads((FIXTURES / "day.json").read_text(encoding="utf-8"))
    items = [
        Labelled(
            n,
            item["title"],
            item["summary"],
            item["outlet"],
            datetime.fromisoformat(item["at"].replace("Z", "+00:00")),
            item["story"],
            item["lang"],
        )
        for n, item in enumerate(document["items"], start=1)
    ]
    return items, document["topics"]


def held_out(story: str) -> bool:
    """Fixed before any tuning: about 40% of the stories, whatever their content."""
    return hashlib.sha256(story.encode()).digest()[0] % 5 < 2


def scores(items: list[Labelled], stories: list[Story]) -> Scores:
    predicted = {item.id: index for index, story in enumerate(stories) for item in story.items}
    true_positive = false_positive = false_negative = 0
    cross_found = cross_total = 0
    for left, right in combinations(items, 2):
        same_label = left.story == right.story
        same_cluster = predicted[left.id] == predicted[right.id]
        true_positive += same_label and same_cluster
        false_positive += same_cluster and not same_label
        false_negative += same_label and not same_cluster
        if same_label and left.language != right.language:
            cross_total += 1
            cross_found += same_cluster
    precision = true_positive / ((true_positive + false_positive) or 1)
    recall = true_positive / ((true_positive + false_negative) or 1)
    f1 = 2 * precision * recall / ((precision + recall) or 1)
    cross = cross_found / cross_total if cross_total else None
    return Scores(precision, recall, f1, cross, len(stories))


def mistakes(stories: list[Story]) -> list[list[str]]:
    return [
        [f"{item.story}: {item.title}" for item in story.items]
        for story in stories
        if len({item.story for item in story.items}) > 1
    ]


def _report(name: str, items: list[Labelled], topics: dict[str, list[str]]) -> dict[str, Scores]:
    """Scores of a part as one day, then of each topic's items alone, printed."""
    found = {"all": scores(items, cluster_stories(items))}
    for topic, stories in topics.items():
        subset = [item for item in items if item.story in stories]
        found[topic] = scores(subset, cluster_stories(subset))
    chinese = sum(item.language == "zh-TW" for item in items)
    print(
        f"\n[dedupe] {name}: {len(items)} items ({chinese} zh-TW), "
        f"{len({i.story for i in items})} labelled stories: {found['all'].line()}"
    )
    for topic in topics:
        print(f"[dedupe]   topic {topic:8} {found[topic].line()}")
    return found


def parts() -> tuple[list[Labelled], list[Labelled], dict[str, list[str]]]:
    items, topics = hard_day()
    tuning = [item for item in items if not held_out(item.story)]
    test = [item for item in items if held_out(item.story)]
    return tuning, test, topics


def test_the_labelled_day_is_large_and_hard_enough() -> None:
    items, topics = hard_day()
    assert len(items) >= 150
    assert len({item.story for item in items}) >= 40
    assert sum(item.language == "zh-TW" for item in items) >= 0.25 * len(items)
    tuning, test, _ = parts()
    assert {i.story for i in tuning}.isdisjoint({i.story for i in test})
    assert all(any(i.story in stories for i in test) for stories in topics.values())


def test_the_held_out_day_reaches_the_goals(capsys: pytest.CaptureFixture[str]) -> None:
    tuning, test, topics = parts()
    with capsys.disabled():
        _report("tuning part", tuning, topics)
        overall = _report("held-out part", test, topics)["all"]
        _report("whole day", tuning + test, topics)
    wrong = mistakes(cluster_stories(test))
    assert overall.f1 >= MIN_F1, wrong
    assert overall.precision >= MIN_PRECISION, wrong
    assert overall.cross_language_recall is not None
    assert overall.cross_language_recall >= MIN_CROSS_LANGUAGE_RECALL


TOPIC_SHORTFALL = (
    "Known shortfall: the held-out OpenAI subset (11 items, 3 OpenAI stories on one day) "
    "scores F1 0.64; its reports share few words beyond the company itself"
)


@pytest.mark.parametrize(
    "topic",
    [
        "claude",
        pytest.param("openai", marks=pytest.mark.xfail(strict=True, reason=TOPIC_SHORTFALL)),
        "google",
        "chips",
        "bigtech",
        "policy",
    ],
)
def test_each_topic_of_the_held_out_day_reaches_the_goal(topic: str) -> None:
    _, test, topics = parts()
    subset = [item for item in test if item.story in topics[topic]]
    stories = cluster_stories(subset)
    result = scores(subset, stories)
    assert result.f1 >= MIN_TOPIC_F1, mistakes(stories)
    assert result.precision >= MIN_PRECISION
    if result.cross_language_recall is not None:
        assert result.cross_language_recall >= MIN_CROSS_LANGUAGE_RECALL


def test_the_easy_day_still_clusters_into_its_stories(capsys: pytest.CaptureFixture[str]) -> None:
    items = easy_day()
    stories = cluster_stories(items)
    result = scores(items, stories)
    with capsys.disabled():
        print(f"\n[dedupe] easy day: {len(items)} items: {result.line()}")
    assert result.f1 >= MIN_F1, mistakes(stories)


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_quality_does_not_hang_on_the_exact_threshold(factor: float) -> None:
    items, _ = hard_day()
    for day in (easy_day(), items):
        assert scores(day, cluster_stories(day, SIMILARITY_THRESHOLD * factor)).f1 >= MIN_F1


def item(n: int, title: str, summary: str = "", outlet: str = "", hours: float = 0) -> Labelled:
    when = datetime(2026, 1, 12, tzinfo=UTC) + timedelta(minutes=n, hours=hours)
    return Labelled(n, title, summary, outlet or f"Outlet {n}", when, "")


def titles(stories: list[Story]) -> list[list[str]]:
    return [[i.title for i in story.items] for story in stories]


FILLER = [
    item(10, "Apple to use Google's Gemini to power revamped Siri"),
    item(11, "OpenAI hires a new chief financial officer"),
    item(12, "Anthropic opens Tokyo office, its first in Asia"),
    item(13, "Nvidia earnings beat expectations on chip demand"),
    item(14, "微軟發表新一代 Surface 筆電"),
    item(15, "台積電董事會核准資本預算"),
]


def together(stories: list[Story], *ids: int) -> bool:
    return any({i.id for i in story.items} >= set(ids) for story in stories)


def test_a_phrase_and_its_joined_spelling_match() -> None:
    stories = cluster_stories(
        [item(1, "Anthropic's newest datacenter"), item(2, "A data center for Claude"), *FILLER]
    )
    assert together(stories, 1, 2)


@pytest.mark.parametrize(
    "spellings",
    [
        ("$2.5B", "2.5 billion dollars", "25億美元", "US$2,500 million", "２５億美元"),
        ("€900m", "900 million euros", "9億歐元", "EUR 900mn"),
        ("70B", "70 billion", "700 億", "70-billion"),
        ("NT$1.2 trillion", "1.2 兆元", "新台幣1.2兆元", "NT$1,200bn"),
        ("300,000", "300K", "30萬", "0.3 million"),
        ("14,000", "1萬4000", "1.4萬", "14 thousand"),
        ("$100 billion", "千億美元", "1000億美元"),
        ("37%", "37 percent", "37 %"),
    ],
)
def test_an_amount_is_one_token_however_it_is_written(spellings: tuple[str, ...]) -> None:
    terms = item_terms((spelling, "") for spelling in spellings)
    amounts = [{t for t in item.counts if t[:2] in ("n:", "p:")} for item in terms]
    assert all(found == amounts[0] for found in amounts), dict(zip(spellings, amounts, strict=True))
    assert len(amounts[0]) == 1


def test_amounts_tell_same_company_stories_apart_and_join_their_reports() -> None:
    stories = cluster_stories(
        [
            item(1, "Microsoft fined €900m by EU regulators"),
            item(2, "歐盟開罰微軟9億歐元"),
            item(3, "Microsoft raises $2.5B in a bond sale"),
            item(4, "微軟發行公司債 募資25億美元"),
            *FILLER,
        ]
    )
    assert together(stories, 1, 2)
    assert together(stories, 3, 4)
    assert not together(stories, 1, 3)


def test_names_match_through_the_bilingual_table() -> None:
    terms = item_terms([("Nvidia and TSMC", ""), ("輝達與台積電", "")])
    assert {"e:nvidia", "e:tsmc"} <= set(terms[0].counts) & set(terms[1].counts)


def test_chinese_reports_in_different_words_match_by_character_pairs() -> None:
    stories = cluster_stories(
        [
            item(1, "立法院三讀通過人工智慧基本法", "明定數位發展部為主管機關，建立風險分級框架。"),
            item(2, "AI基本法完成三讀 風險分級入法", "人工智慧基本法主管機關為數位發展部。"),
            *FILLER,
        ]
    )
    assert together(stories, 1, 2)


def test_an_english_and_a_chinese_report_of_one_story_merge() -> None:
    stories = cluster_stories(
        [
            item(1, "Anthropic raises $30 billion at a $380 billion valuation", "Series G."),
            item(2, "Anthropic 完成 300 億美元融資，估值達 3,800 億美元", "G 輪募資。"),
            *FILLER,
        ]
    )
    assert together(stories, 1, 2)


def test_one_shared_latin_name_does_not_pull_a_chinese_item_into_an_english_story() -> None:
    english = [
        item(1, "Google launches Gemini 3 and puts it in Search", "A new flagship model."),
        item(2, "Gemini 3 Pro tops the LMArena leaderboard", "Google's new model."),
    ]
    chinese = item(3, "Gemini 加入地圖導航，台灣用戶可用語音問路", "駕駛可直接詢問沿途加油站。")
    stories = cluster_stories([*english, chinese, *FILLER])
    assert together(stories, 1, 2)
    assert not together(stories, 1, 3)


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


def test_reports_days_apart_weigh_less() -> None:
    assert time_factor(0, 20) == 1.0
    assert time_factor(0, 72) < time_factor(0, 48) < 1.0


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


WORDS = (
    "model launch deal chips cloud agents coding funding rules safety revenue lawsuit "
    "partnership data center search browser device office users enterprise pricing"
).split()


def same_vocabulary_day(count: int) -> list[Labelled]:
    """Items that all draw on one small vocabulary, four reports per story."""
    items = []
    for n in range(count):
        story = n // 4
        common = " ".join(WORDS[(story * 7 + k * 3) % len(WORDS)] for k in range(5))
        items.append(
            item(
                n,
                f"Company{story % 40} {common} Product{story} {story * 13 % 997} million",
                f"{common} {WORDS[n % len(WORDS)]} report on Product{story}.",
            )
        )
    return items


def test_a_thousand_items_cluster_in_well_under_a_few_seconds() -> None:
    """The goal is under 1 s on the development machine; this shared-CI bound is looser,
    and the old all-pairs algorithm took minutes."""
    items = same_vocabulary_day(1000)
    started = time.perf_counter()
    stories = cluster_stories(items)
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, elapsed
    assert 200 <= len(stories) <= 300
