"""Chinese words read through CC-CEDICT: the plain words of a story meet in both
languages, not only the names and amounts the bilingual table knows."""

from __future__ import annotations

from newsletter.sources import glosses
from newsletter.sources.dedupe import cluster_stories
from newsletter.sources.storyterms import item_terms
from tests.sources.test_dedupe import FILLER, item, together


def test_words_are_the_longest_dictionary_words_from_the_left() -> None:
    found = glosses.words("鴻海暫停組裝")
    assert [word for word, _ in found] == ["鴻海", "暫停", "組裝"]
    assert "assemble" in dict(found)["組裝"]


def test_senses_that_say_nothing_of_the_meaning_are_left_out() -> None:
    senses = dict(glosses.words("廣告"))["廣告"]
    assert "advertisement" in senses
    assert "cl:" not in senses and "(" not in senses


def test_a_text_without_dictionary_words_has_none() -> None:
    assert glosses.words("") == []
    assert glosses.words("的") == []  # one character: too many senses to use


def test_plain_words_meet_across_languages_through_the_dictionary() -> None:
    english, chinese = item_terms(
        [("Foxconn halts iPhone assembly after an earthquake", ""), ("地震影響 鴻海暫停組裝", "")]
    )
    assert {"w:assemb", "w:earthq"} <= set(english.counts) & set(chinese.glossed)


def test_a_chinese_word_counts_once_however_many_senses_it_has() -> None:
    (terms,) = item_terms([("", "暫停")])
    assert sum(terms.glossed.values()) == 1.0
    assert set(terms.counts) == {"z:暫停"}


def test_reports_that_share_one_name_and_plain_words_merge_across_languages() -> None:
    """Besides the company the reports share only plain words ("earthquake", "pause",
    "plant"), which only the dictionary carries across languages; one shared name alone
    would not be enough."""
    stories = cluster_stories(
        [
            item(1, "Foxconn pauses production at a plant after an earthquake"),
            item(2, "地震來襲 鴻海工廠暫停生產"),
            item(3, "Foxconn opens a new factory in Mexico"),
            item(4, "鴻海墨西哥新廠開幕"),
            *FILLER,
        ]
    )
    assert together(stories, 1, 2)
    assert together(stories, 3, 4)
    assert not together(stories, 1, 3)
