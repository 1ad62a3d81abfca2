"""The second clustering pass: one story framed two ways by different outlets is one
story; two stories that share a product name, or that one outlet reported both, are not."""

from __future__ import annotations

import pytest

from newsletter.sources import dedupe
from newsletter.sources.dedupe import cluster_stories
from tests.sources.test_dedupe import (
    FILLER,
    MIN_F1,
    MIN_PRECISION,
    Labelled,
    easy_day,
    hard_day,
    item,
    scores,
    together,
)

LAUNCH = [
    item(
        1,
        "Advancing Copilot in hospitals and clinical research",
        "Copilot now drafts clinical notes and summarises research for hospital staff, "
        "with audit trails for regulators.",
        "Microsoft",
    ),
    item(
        2,
        "微軟推出醫療版 Copilot，進軍臨床研究與醫院",
        "微軟宣布 Copilot 支援臨床紀錄與研究流程，並提供法規稽核紀錄。",
        "iThome",
    ),
    item(
        3,
        "Copilot for hospitals is here: clinical notes in Teams",
        "The clinical research launch is live; notes are drafted in Microsoft Teams.",
        "Reddit",
    ),
]
RIVALRY = [
    item(
        4,
        "Microsoft follows Google into health care with new Copilot tools",
        "Microsoft is chasing Google into health care, pitching Copilot tools for clinical "
        "notes and research to hospitals, with a focus on regulatory compliance.",
        "NBC News",
    ),
    item(
        5,
        "Microsoft takes on Google in the AI health race",
        "The healthcare push puts Copilot in direct competition with Google for hospitals "
        "and drug makers.",
        "Business Insider",
    ),
    item(
        6,
        "追趕 Google！微軟以 Copilot 搶攻醫療市場",
        "繼 Google 之後，微軟也把 Copilot 帶進醫療照護領域，鎖定醫院與藥廠，強調法規遵循。",
        "數位時代",
    ),
]


def test_a_launch_and_its_rivalry_framing_in_two_languages_are_one_story() -> None:
    """Each framing matches its own reports well and the other's loosely (the first pass
    leaves two groups); as wholes they share the launch's subject, not just a name."""
    stories = cluster_stories([*LAUNCH, *RIVALRY, *FILLER])
    assert together(stories, 1, 2, 3, 4, 5, 6)
    assert len(stories[0].items) == 6


def test_two_groups_one_outlet_reported_stay_two_stories() -> None:
    """An outlet tells a story once: if it is in both groups, they are two stories."""
    again = Labelled(**{**vars(RIVALRY[1]), "outlet": "Reddit"})
    stories = cluster_stories([*LAUNCH, RIVALRY[0], again, RIVALRY[2], *FILLER])
    assert not together(stories, 1, 4)


def test_two_stories_about_one_product_stay_apart() -> None:
    """What two groups share must not rest on one name: the easy day's Gemini 3 Flash
    launch and Apple's Gemini-powered Siri (two groups of three reports, no outlet in
    common) share Google and Gemini and little else."""
    day = easy_day()
    stories = cluster_stories(day)
    story_of = {item.id: index for index, story in enumerate(stories) for item in story.items}
    flash = {story_of[item.id] for item in day if item.story == "gemini-flash"}
    siri = {story_of[item.id] for item in day if item.story == "apple-gemini"}
    assert len(flash) == len(siri) == 1
    assert flash != siri


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_the_pass_does_not_hang_on_its_exact_threshold(
    factor: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dedupe, "CENTROID_THRESHOLD", dedupe.CENTROID_THRESHOLD * factor)
    for day in (easy_day(), hard_day()[0]):
        result = scores(day, cluster_stories(day))
        assert result.f1 >= MIN_F1 and result.precision >= MIN_PRECISION
    assert together(cluster_stories([*LAUNCH, *RIVALRY, *FILLER]), 1, 2, 3, 4, 5, 6)
