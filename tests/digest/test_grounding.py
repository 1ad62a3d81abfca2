"""Grounding in code: citations must exist, and only ingested items' URLs survive."""

from __future__ import annotations

import json

import pytest

from newsletter.digest.grounding import citation_problems, remove_foreign_urls
from newsletter.digest.schema import WrittenDigest
from newsletter.digest.writer import WriterError
from tests.digest.anthropic_fake import recorded

ITEM_URLS = ["https://www.anthropic.com/news/healthcare-life-sciences"]


def written(name: str = "good") -> WrittenDigest:
    return WrittenDigest.model_validate(recorded(name)["body"]["content"][0]["input"])


def with_trends(text: str) -> WrittenDigest:
    return written().model_copy(update={"trends": text})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("See https://evil.example/claim?x=1.", "See."),
        ("Go to evil.example/claim now", "Go to now"),
        ("Visit www.evil.example today", "Visit today"),
        ("Read [the report](https://evil.example/r) here", "Read the report here"),
        ("Launch (http://evil.example/a) done", "Launch done"),
        ("請見 https://evil.example/a，謝謝", "請見，謝謝"),
        ("Claude.ai now has the connector.", "Claude.ai now has the connector."),
        (
            "Official post: https://www.anthropic.com/news/healthcare-life-sciences?utm_source=x.",
            "Official post: https://www.anthropic.com/news/healthcare-life-sciences?utm_source=x.",
        ),
        (
            "Official: http://anthropic.com/news/healthcare-life-sciences/ ok",
            "Official: ok",  # another host is another site
        ),
    ],
)
def test_foreign_urls_are_removed_from_text(text: str, expected: str) -> None:
    cleaned, _ = remove_foreign_urls(with_trends(text), ITEM_URLS)
    assert cleaned.trends == expected


def test_every_text_field_is_scrubbed_and_the_removed_urls_reported() -> None:
    cleaned, removed = remove_foreign_urls(written("invented_url"), ITEM_URLS)
    assert sorted(removed) == [
        "https://healthcare-ai-insider.example/claude-report",
        "https://rumours.example/openai-vs-anthropic",
        "www.ai-gossip.example/claude",
    ]
    assert "example" not in json.dumps(cleaned.model_dump())


def test_nothing_to_remove_returns_the_digest_unchanged() -> None:
    digest = written()
    assert remove_foreign_urls(digest, ITEM_URLS) == (digest, [])


def test_a_field_that_was_only_a_link_fails_the_digest() -> None:
    digest = written()
    digest.highlights[0].title = "https://evil.example/only-a-link"
    with pytest.raises(WriterError, match=r"highlights\.0\.title"):
        remove_foreign_urls(digest, ITEM_URLS)


def test_a_list_entry_that_was_only_a_link_is_dropped() -> None:
    digest = written()
    kept = list(digest.summary)
    digest.summary = [*kept, "https://evil.example/only-a-link"]
    cleaned, removed = remove_foreign_urls(digest, ITEM_URLS)
    assert (cleaned.summary, removed) == (kept, ["https://evil.example/only-a-link"])


def test_citation_problems_name_the_highlight_and_the_ids() -> None:
    assert citation_problems(written(), [9001, 9002, 9003, 9004, 9005]) == []
    problems = citation_problems(written("missing_item_id"), [9001, 9002, 9003, 9004, 9005])
    assert problems == [
        "highlight 3 ('Allianz partners with Anthropic') cites item ids that do not exist: [9999]"
    ]
    assert citation_problems(written(), [9001, 9002, 9003, 9004]) == [
        "highlight 3 ('Allianz partners with Anthropic') cites item ids that do not exist: [9005]",
        "key point 4 cites item ids that do not exist: [9005]",
    ]
