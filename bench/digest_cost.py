"""What a topic-day of Claude digests costs: the old way and the new, side by side.

Builds the requests our code sends for a day of 60 items (the bundled sample items,
repeated under new ids, each its own story: the worst case for compact records) and
for the recorded test day, counts their tokens and those of the recorded answers
(tests/fixtures/anthropic/), and prices them at list prices with ``pricing.py``:

- old: each language written from the records by the default model (Sonnet), the
  records as they were (with URLs and 600-character summaries);
- new: the primary language written once from compact records (no URL, summaries
  capped at 400 characters, and only for a story's first three reports), every other
  language translated from that digest by Haiku;
- new, through the Message Batches API (half price).

The API is not reachable from here, so tokens are counted by an estimator, the same for
every row: a token per 3.5 characters of Latin script and JSON, 1.3 per CJK
character (Claude's tokenizers spend about one to one and a half tokens on a Chinese
character). The ratios between rows are what the figures are for.

    .venv/bin/python bench/digest_cost.py
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsletter.demo import SAMPLE_DATE, SAMPLE_FEEDS  # noqa: E402
from newsletter.digest import prompt  # noqa: E402
from newsletter.digest.pricing import with_cost  # noqa: E402
from newsletter.digest.prompt import (  # noqa: E402
    SYSTEM_PROMPT,
    TOOL,
    TRANSLATE_PROMPT,
    records,
    translation_prompt,
    user_prompt,
)
from newsletter.digest.schema import Usage, WrittenDigest  # noqa: E402
from newsletter.digest.writer import WriteRequest  # noqa: E402
from newsletter.sources.dedupe import Story  # noqa: E402

REPORT = ROOT / "docs" / "benchmarks" / "digest-cost.md"
FIXTURES = ROOT / "tests" / "fixtures" / "anthropic"
SAMPLES = ROOT / "newsletter" / "sources" / "samples"
WRITER, TRANSLATOR = "claude-sonnet-5-5", "claude-haiku-5-5"
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
ITEMS = 60


def tokens(text: str) -> int:
    cjk = len(_CJK.findall(text))
    return round((len(text) - cjk) / 3.5 + cjk * 1.3)


@dataclass
class SampleItem:
    id: int
    canonical_url: str
    title: str
    summary: str
    outlet: str
    published_at: datetime


def sample_day(count: int) -> list[SampleItem]:
    """``count`` items cycled from the bundled sample feeds, under new ids."""
    found = []
    for _, filename in SAMPLE_FEEDS:
        parsed = feedparser.parse((SAMPLES / filename).read_bytes())
        for entry in parsed.entries:
            summary = re.sub(r"<[^>]+>", "", entry.get("summary", ""))
            outlet = entry.get("source", {}).get("title") or parsed.feed.get("title", "")
            found.append((entry.title, entry.link, summary, outlet))
    return [
        SampleItem(
            1000 + n, f"{link}#{n}", title, summary, outlet, datetime(2026, 1, 12, tzinfo=UTC)
        )
        for n, (title, link, summary, outlet) in ((n, found[n % len(found)]) for n in range(count))
    ]


def old_records(request: WriteRequest) -> list[dict[str, Any]]:
    """The records as the writer sent them before compaction."""
    return [
        {
            "id": item.id,
            "story": number,
            "outlet": item.outlet,
            "title": item.title,
            "url": item.canonical_url,
            "summary": " ".join(item.summary.split())[:600],
        }
        for number, story in enumerate(request.stories, 1)
        for item in story.items
    ]


def fixed_prefix(system: str) -> int:
    return tokens(system) + tokens(json.dumps(TOOL, ensure_ascii=False))


def recorded(name: str) -> WrittenDigest:
    answer = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    return WrittenDigest.model_validate(answer["body"]["content"][0]["input"])


def output_tokens(written: WrittenDigest) -> int:
    return tokens(json.dumps(written.model_dump(mode="json"), ensure_ascii=False))


def priced(model: str, input_tokens: int, output: int, *, batch: bool = False) -> float:
    usage = Usage(input_tokens=input_tokens, output_tokens=output)
    cost = with_cost(usage, model, batch=batch).cost_usd
    assert cost is not None
    return cost


def old_user_prompt(request: WriteRequest) -> str:
    shown = old_records(request)
    lines = user_prompt(request, records(request)).split("\n")
    head = lines[: lines.index("<news_items>") + 1]
    tail = lines[lines.index("</news_items>") :]
    body = [json.dumps(record, ensure_ascii=False) for record in shown]
    return "\n".join([*head, *body, *tail])


def reference_tokens() -> int:
    """The output tokens of a digest as long as the reference (its body, as JSON)."""
    text = Path("/work/shared/reference/digest-example.md")
    body = text.read_text("utf-8").split("---", 2)[2] if text.exists() else ""
    return tokens(json.dumps(body, ensure_ascii=False)) if body else 0


def day_rows(items: list[SampleItem], primary: str, outputs: dict[str, int]) -> dict[str, Any]:
    """Costs of one topic-day in zh-TW and en, ``primary`` written, the other translated."""
    stories = [Story([item]) for item in items]
    first = WriteRequest("Claude", SAMPLE_DATE, primary, stories)
    other = replace(first, language="en" if primary == "zh-TW" else "zh-TW")
    old_in = [fixed_prefix(SYSTEM_PROMPT) + tokens(old_user_prompt(r)) for r in (first, other)]
    old = sum(priced(WRITER, old_in[n], outputs[r.language]) for n, r in enumerate((first, other)))
    write_in = fixed_prefix(SYSTEM_PROMPT) + tokens(user_prompt(first, records(first)))
    follower = replace(other, primary=recorded("good_zh_tw" if primary == "zh-TW" else "good"))
    translate_in = fixed_prefix(TRANSLATE_PROMPT) + tokens(translation_prompt(follower))
    translate_in += outputs[primary] - output_tokens(follower.primary)  # its real size
    out_first, out_other = outputs[first.language], outputs[other.language]
    new = priced(WRITER, write_in, out_first) + priced(TRANSLATOR, translate_in, out_other)
    batch = priced(WRITER, write_in, out_first, batch=True)
    batch += priced(TRANSLATOR, translate_in, out_other, batch=True)
    return {
        "items": len(items),
        "primary": primary,
        "old_in": sum(old_in),
        "old": old,
        "write_in": write_in,
        "translate_in": translate_in,
        "out": f"{outputs['zh-TW']:,} / {outputs['en']:,}",
        "new": new,
        "batch": batch,
    }


def main() -> None:
    prompt.MAX_RECORDS = 10_000  # the cap is 80; measure the records as built
    recorded_out = {"zh-TW": output_tokens(recorded("good_zh_tw")), "en": 0}
    recorded_out["en"] = output_tokens(recorded("good"))
    long_zh = reference_tokens()
    long_out = {"zh-TW": long_zh, "en": round(long_zh * recorded_out["en"] / recorded_out["zh-TW"])}
    rows = [
        ("recorded", day_rows(sample_day(count), primary, recorded_out))
        for count in (20, ITEMS)
        for primary in ("zh-TW", "en")
    ] + [
        ("reference", day_rows(sample_day(ITEMS), primary, long_out)) for primary in ("zh-TW", "en")
    ]
    machine = (
        f"{os.cpu_count()} cores (`nproc`), {platform.machine()} (`uname -m`), "
        f"Python {platform.python_version()}"
    )
    lines = [
        "# Digest cost per topic-day",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} by `.venv/bin/python bench/digest_cost.py` "
        f"({machine}). Tokens are estimated (see the script: the API is not reachable "
        "here), the same way for every column; prices are list prices from "
        "`newsletter/digest/pricing.py` (Sonnet $3/$15, Haiku $1/$5 per million tokens "
        "in/out, batches half), with no prompt-cache discount counted.",
        "",
        "A topic-day in zh-TW and en. Output sized as the recorded answers (`good_zh_tw`, "
        "`good`), or as long as the reference digest (its body; the en one in the same "
        "ratio to it as the recorded en answer to the zh-TW one):",
        "",
        "| items | output | written | old: input tokens | old: cost | "
        "new: write in / translate in | output zh-TW / en | new: cost | new, batched | "
        "new vs old |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size, row in rows:
        lines.append(
            f"| {row['items']} | {size} | {row['primary']} | {row['old_in']:,} | "
            f"${row['old']:.4f} | {row['write_in']:,} / {row['translate_in']:,} | "
            f"{row['out']} | **${row['new']:.4f}** | ${row['batch']:.4f} | "
            f"{row['new'] / row['old']:.2f}x |"
        )
    worst = max(row["new"] for size, row in rows if row["items"] == ITEMS)
    lines += [
        "",
        "Old: both languages written by Sonnet from the full records (URL, 600-character "
        "summary). New: one Sonnet write from compact records and one Haiku translation "
        f"of the structured digest. The goal, at most $0.05 for {ITEMS} items: "
        + (
            "met in every row."
            if worst <= 0.05
            else f"not met in every row (up to ${worst:.4f}); see below."
        ),
        "",
    ]
    REPORT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
