"""Story clustering measured on labelled days of news: pairwise precision and recall.

Labelled sets, each a day or so of AI news in English and Traditional Chinese with
same-company-same-day stories, amounts written many ways and paraphrased reports:

- tuning: ``day.json`` (170 items, written alongside the algorithm); ``may.json`` (224
  items, 42% Chinese), ``june.json``, ``july.json``, ``september.json`` and
  ``november.json`` (91 to 93 items each, mostly English, as an aggregator sees a day),
  each written by a helper session that never saw the code and scored blind once before
  it was used for tuning; ``stories.json`` (the older, easier 44-item set);
- held out: ``august.json`` and ``october.json`` (124 and 126 items, 41% Chinese),
  ``april.json`` and ``december.json`` (86 items each, 15% Chinese), written the same
  blind way, scored on arrival and never used for tuning. The goals are asserted on them.

Each day is clustered as a whole and, as a topic's digest does, topic by topic.
"""

from __future__ import annotations

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
TUNING_DAYS = ("day", "may", "june", "july", "september", "november")
HELD_OUT_DAYS = ("august", "october", "april", "december")
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
class Pairs:
    """Pair counts of one or more clusterings, summed before the scores are taken."""

    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    cross_found: int = 0
    cross_total: int = 0
    clusters: int = 0

    def __add__(self, other: Pairs) -> Pairs:
        return Pairs(
            *(a + b for a, b in zip(vars(self).values(), vars(other).values(), strict=True))
        )


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    cross_language_recall: float | None
    clusters: int

    @classmethod
    def of(cls, pairs: Pairs) -> Scores:
        precision = pairs.true_positive / ((pairs.true_positive + pairs.false_positive) or 1)
        recall = pairs.true_positive / ((pairs.true_positive + pairs.false_negative) or 1)
        f1 = 2 * precision * recall / ((precision + recall) or 1)
        cross = pairs.cross_found / pairs.cross_total if pairs.cross_total else None
        return cls(precision, recall, f1, cross, pairs.clusters)

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


def labelled_day(name: str) -> tuple[list[Labelled], dict[str, list[str]]]:
    """A labelled day's items and, per topic, the stories its feeds would bring in."""
    document = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
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


def hard_day() -> tuple[list[Labelled], dict[str, list[str]]]:
    return labelled_day("day")


def pairs(items: list[Labelled], stories: list[Story]) -> Pairs:
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
    return Pairs(
        true_positive, false_positive, false_negative, cross_found, cross_total, len(stories)
    )


def scores(items: list[Labelled], stories: list[Story]) -> Scores:
    return Scores.of(pairs(items, stories))


def mistakes(stories: list[Story]) -> list[list[str]]:
    return [
        [f"{item.story}: {item.title}" for item in story.items]
        for story in stories
        if len({item.story for item in story.items}) > 1
    ]


def topic_items(items: list[Labelled], stories: list[str]) -> list[Labelled]:
    return [item for item in items if item.story in stories]


def day_pairs(names: tuple[str, ...]) -> dict[str, Pairs]:
    """Pair counts of each day clustered whole ("all") and of each topic's items
    clustered alone, summed over the days."""
    found: dict[str, Pairs] = {}
    for name in names:
        items, topics = labelled_day(name)
        parts = {"all": items} | {t: topic_items(items, s) for t, s in topics.items()}
        for part, subset in parts.items():
            found[part] = found.get(part, Pairs()) + pairs(subset, cluster_stories(subset))
    return found


def _report(title: str, names: tuple[str, ...]) -> dict[str, Scores]:
    found = {part: Scores.of(counts) for part, counts in day_pairs(names).items()}
    print(f"\n[dedupe] {title} ({', '.join(names)}): {found['all'].line()}")
    for topic, result in found.items():
        if topic != "all":
            print(f"[dedupe]   topic {topic:8} {result.line()}")
    return found


def test_the_labelled_days_are_large_and_hard_enough() -> None:
    for name in TUNING_DAYS + HELD_OUT_DAYS:
        items, topics = labelled_day(name)
        assert len(items) >= 80, name
        assert len({item.story for item in items}) >= 30, name
        assert sum(item.language == "zh-TW" for item in items) >= 0.1 * len(items), name
        assert {item.story for item in items} == {s for stories in topics.values() for s in stories}
    held_out = [item for name in HELD_OUT_DAYS for item in labelled_day(name)[0]]
    assert len(held_out) >= 150
    assert len({item.story for item in held_out}) >= 40
    assert sum(item.language == "zh-TW" for item in held_out) >= 0.25 * len(held_out)


def test_the_held_out_days_reach_the_goals(capsys: pytest.CaptureFixture[str]) -> None:
    """F1 and English-Chinese pair recall on each held-out day; precision and each
    topic's F1 over the held-out days together, as one held-out set."""
    with capsys.disabled():
        _report("tuning days", TUNING_DAYS)
        found = _report("held-out days", HELD_OUT_DAYS)
    for name in HELD_OUT_DAYS:
        items, _ = labelled_day(name)
        result = scores(items, stories := cluster_stories(items))
        assert result.f1 >= MIN_F1, (name, mistakes(stories))
        assert result.cross_language_recall is not None
        assert result.cross_language_recall >= MIN_CROSS_LANGUAGE_RECALL, name
    assert found["all"].precision >= MIN_PRECISION
    for topic, result in found.items():
        assert result.f1 >= (MIN_F1 if topic == "all" else MIN_TOPIC_F1), topic
        if result.cross_language_recall is not None:
            assert result.cross_language_recall >= MIN_CROSS_LANGUAGE_RECALL, topic


def test_the_easy_day_still_clusters_into_its_stories(capsys: pytest.CaptureFixture[str]) -> None:
    items = easy_day()
    stories = cluster_stories(items)
    result = scores(items, stories)
    with capsys.disabled():
        print(f"\n[dedupe] easy day: {len(items)} items: {result.line()}")
    assert result.f1 >= MIN_F1, mistakes(stories)


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_quality_does_not_hang_on_the_exact_threshold(factor: float) -> None:
    for day in (easy_day(), hard_day()[0]):
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


def test_a_name_glued_to_its_number_is_one_token() -> None:
    (terms,) = item_terms([("Product9 ships", "")])
    assert "v:product 9" in terms.counts
    assert "w:product9" not in terms.counts


def test_a_company_name_alone_does_not_make_two_reports_one_story() -> None:
    """Meta's bond sale and its ads in the Meta AI app share Meta and nothing else."""
    stories = cluster_stories(
        [
            item(
                1, "Meta kicks off $25 billion bond sale to fund data centers", "Meta sells bonds."
            ),
            item(2, "Meta raises $25 billion in a jumbo bond sale", "Meta's debt."),
            item(3, "Ads come to Meta's assistant", "Meta will test ads in its chatbot."),
            *FILLER,
        ]
    )
    assert together(stories, 1, 2)
    assert not together(stories, 1, 3)
    assert not together(stories, 2, 3)


def test_two_reports_of_one_outlet_are_two_stories() -> None:
    """An outlet tells a story once: a company's two stories of the day, both reported by
    Bloomberg and told in much the same words, stay apart."""
    stories = cluster_stories(
        [
            item(1, "Apple to pay Google $1 billion a year for Siri AI", outlet="Bloomberg"),
            item(2, "Apple's AI chief to step down after Siri delays", outlet="Bloomberg"),
            item(3, "Gemini will power Siri, costing Apple $1B a year", outlet="The Verge"),
            item(4, "Apple AI head leaving after Siri setbacks", outlet="Reuters"),
            *FILLER,
        ]
    )
    assert not together(stories, 1, 2)
    assert together(stories, 1, 3)


def test_an_aggregators_boilerplate_does_not_make_its_items_one_story() -> None:
    """Every item of a Hacker News or Reddit feed carries the same words: addresses,
    points and comments counts, "submitted by"."""
    hn = "Article URL: {}\nComments URL: https://news.ycombinator.com/item?id={}\nPoints: {}"
    stories = cluster_stories(
        [
            item(1, "Veo 4", hn.format("https://deepmind.google/models/veo/", 47104388, 356)),
            item(2, "Elevated errors on Claude.ai", hn.format("https://status.claude.com/", 1, 2)),
            item(
                3, "Rust 2.0 ships", "312 points, 88 comments; links to https://blog.rust-lang.org"
            ),
            item(4, "Veo 4 makes two-minute videos", "Google's video model.", outlet="The Verge"),
            *FILLER,
        ]
    )
    assert not together(stories, 1, 2)
    assert not together(stories, 2, 3)
    assert together(stories, 1, 4)


def test_a_post_linking_to_an_item_of_the_day_is_its_story() -> None:
    """An aggregator's post gives the article's address, not its words."""
    article = item(1, "Introducing Claude Opus 5", "Our most capable model.", "Anthropic")
    article.canonical_url = "https://www.anthropic.com/news/claude-opus-5"
    post = item(
        2,
        "The new frontier model is out",
        "Article URL: https://www.anthropic.com/news/claude-opus-5/?utm_source=hn\n"
        "Comments URL: https://news.ycombinator.com/item?id=1\nPoints: 900",
        "Hacker News",
    )
    stranger = item(3, "A model that writes poems", "Links to https://example.com/poems.")
    stories = cluster_stories([article, post, stranger, *FILLER])
    assert together(stories, 1, 2)
    assert not together(stories, 1, 3)


def test_a_forums_posts_on_one_story_are_one_story() -> None:
    """A forum is one outlet whose members post one story many times."""
    forum = "Reddit r/ClaudeAI"
    stories = cluster_stories(
        [
            item(1, "Claude is down again? API returning overloaded errors", outlet=forum),
            item(2, "Anyone else getting overloaded errors from the Claude API?", outlet=forum),
            item(3, "Claude API down: overloaded errors for an hour", outlet=forum),
            item(4, "Claude Code is great at refactoring Rust", outlet=forum),
            *FILLER,
        ]
    )
    assert together(stories, 1, 2, 3)
    assert not together(stories, 1, 4)


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
