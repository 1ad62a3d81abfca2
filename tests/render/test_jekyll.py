"""The Jekyll export: the example's front matter and headings, from the one Markdown
renderer of the schema, compared against a golden file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from flask import Flask

from newsletter.catalog import topic_by_slug
from newsletter.db import Database
from newsletter.digest.build import build_digest
from newsletter.digest.offline import OfflineWriter
from newsletter.digest.schema import (
    Analysis,
    DigestContent,
    FurtherThinking,
    Highlight,
    KeyPoint,
    SourceRef,
)
from newsletter.models import Digest, DigestStatus
from newsletter.render.jekyll import jekyll_post
from tests.digest.news_items import DAY
from tests.support import cli_runner

GOLDEN = Path(__file__).parent.parent / "fixtures" / "jekyll"
FRONT_MATTER_KEYS = [
    "layout",
    "title",
    "tagline",
    "date",
    "model",
    "categories",
    "tags",
    "image",
    "ai_summary",
]
EXAMPLE_HEADINGS_ZH = [
    "本週模型趨勢",
    "📰 本週新聞焦點",
    "🔍 深度分析",
    "📌 重點摘要",
    "💡 延伸思考",
    "🔗 資料來源",
]


def fixed_digest(language: str = "zh-TW") -> DigestContent:
    return DigestContent(
        topic="claude",
        topic_name="Claude",
        date=date(2026, 1, 12),
        language=language,
        title="CLAUDE 每日動態 - 2026-01-12",
        tagline="彙整 3 則 CLAUDE 相關新聞",
        summary=[
            "Anthropic 擴展至醫療與生命科學。",
            "平台封堵第三方繞用 Claude Code 訂閱。",
            'Allianz 與 Anthropic 建立全球夥伴關係，主打 "負責任 AI"。',
        ],
        tags=["Anthropic", "Claude", "醫療與生命科學", "CLAUDE", "AI", "Digest"],
        trends="Anthropic 同時在兩條線上加速：垂直產業與平台管控。",
        highlights=[
            Highlight(
                title="進軍醫療與生命科學",
                body="官方指出 Benchling 連接器已可在 Claude.ai 使用。"
                "NBC News 以追趕 OpenAI 視角報導。",
                item_ids=[1, 2],
            ),
            Highlight(
                title="# 打擊未授權第三方使用",
                body="Hacker News 討論串顯示社群正在尋找繞道 <script>alert(1)</script>。",
                item_ids=[3],
            ),
        ],
        analysis=Analysis(
            industry="醫療與保險是最重合規的垂直領域。",
            competition="OpenAI 早先已宣示深耕醫療。",
            market="企業採購將更重視可用性與稽核。",
        ),
        key_points=[
            KeyPoint(text="Benchling 連接器已可於 Claude.ai 使用。", item_ids=[1]),
            KeyPoint(text="- 第三方工具受限。", item_ids=[3]),
        ],
        further_thinking=FurtherThinking(
            developers=["評估遷移至官方 SDK。", "提前設計資料脫敏。"],
            everyday_users=["醫療 AI 能力更貼近實務。"],
        ),
        sources=[
            SourceRef(
                item_id=1,
                title="Advancing Claude in healthcare and the life sciences \\ Anthropic",
                url="https://www.anthropic.com/news/healthcare-life-sciences",
                outlet="Anthropic",
            ),
            SourceRef(
                item_id=2,
                title="Anthropic joins OpenAI's push [into] health care",
                url="https://www.nbcnews.com/tech/anthropic-health-care_(rcna252872)",
                outlet="NBC News",
            ),
            SourceRef(
                item_id=3,
                title="Anthropic blocks third-party use of Claude Code subscriptions",
                url="https://news.ycombinator.com/item?id=46549823",
                outlet="Hacker News",
            ),
        ],
        writer="claude",
        model="claude-sonnet-5-5",
    )


def split_post(text: str) -> tuple[dict[str, object], list[str], str]:
    assert text.startswith("---\n")
    front, body = text[4:].split("\n---\n", 1)
    keys = [line.split(":", 1)[0] for line in front.splitlines()]
    return yaml.safe_load(front), keys, body


def test_export_matches_the_golden_file() -> None:
    post = jekyll_post(fixed_digest(), primary_language="zh-TW")
    assert post.filename == "2026-01-12-claude-daily.md"
    assert post.text == (GOLDEN / post.filename).read_text("utf-8")


def test_front_matter_is_yaml_with_the_example_keys_in_order() -> None:
    content = fixed_digest()
    front, keys, body = split_post(jekyll_post(content).text)
    assert keys == FRONT_MATTER_KEYS
    assert front == {
        "layout": "post",
        "title": content.title,
        "tagline": content.tagline,
        "date": date(2026, 1, 12),
        "model": "claude",
        "categories": ["claude", "daily"],
        "tags": content.tags,
        "image": "//assets/img/posts/2026-01-12-claude-infographic.png",
        "ai_summary": " ".join(content.summary),
    }
    headings = [line[3:] for line in body.splitlines() if line.startswith("## ")]
    assert headings == EXAMPLE_HEADINGS_ZH
    assert body.rstrip().endswith("*本文由 AI 自動生成，彙整自 3 篇新聞來源。*")


def test_writer_text_cannot_inject_html_or_markdown_structure() -> None:
    body = jekyll_post(fixed_digest()).text
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "\n# " not in body and "2) **\\# 打擊未授權第三方使用" in body
    assert "- \\- 第三方工具受限。" in body
    assert "(https://www.nbcnews.com/tech/anthropic-health-care_%28rcna252872%29)" in body
    assert "[Anthropic joins OpenAI's push \\[into\\] health care]" in body


def test_english_headings_and_a_language_suffix_for_the_second_language() -> None:
    post = jekyll_post(fixed_digest("en"), primary_language="zh-TW")
    assert post.filename == "2026-01-12-claude-daily-en.md"
    _, _, body = split_post(post.text)
    assert "## 📰 News highlights" in body and "## 🔗 Sources" in body
    assert "*This digest was generated by AI from 3 news sources.*" in body


def test_cli_exports_a_built_digest(app: Flask, db: Database, news: int, tmp_path: Path) -> None:
    with db.session() as session:
        topic = topic_by_slug(session, "claude")
        digest = build_digest(session, topic, DAY, "zh-TW", OfflineWriter()).digest
    result = cli_runner(app).invoke(
        args=["export-jekyll", str(digest.id), "-o", str(tmp_path / "_posts")]
    )
    assert result.exit_code == 0, result.output
    path = tmp_path / "_posts" / "2026-01-12-claude-daily.md"
    assert f"Wrote {path}" in result.output.replace("\n", "")
    front, keys, _ = split_post(path.read_text("utf-8"))
    assert keys == FRONT_MATTER_KEYS and front["title"] == "CLAUDE 每日動態 - 2026-01-12"


def test_cli_refuses_a_failed_or_unknown_digest(
    app: Flask, db: Database, news: int, tmp_path: Path
) -> None:
    with db.session() as session:
        failed = Digest(
            topic_id=news,
            date=DAY,
            language="en",
            status=DigestStatus.FAILED,
            writer="claude",
            error="the Anthropic API answered 529 overloaded_error: Overloaded",
        )
        session.add(failed)
    runner = cli_runner(app)
    result = runner.invoke(args=["export-jekyll", str(failed.id), "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert f"digest #{failed.id} failed" in result.output
    result = runner.invoke(args=["export-jekyll", "999999", "-o", str(tmp_path)])
    assert result.exit_code == 1 and "no digest #999999" in result.output
    assert list(tmp_path.iterdir()) == []
