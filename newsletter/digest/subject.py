"""The subject line of a digest email: the topic in its own case, the top story, the date.

``Claude 每日動態：進軍醫療與生命科學（1/12）``, ``Claude daily: Claude moves into
healthcare (Jan 12)``. No capitals-only words (spam filters score them), and short
enough that ``Subject: `` and the line fit the 78 characters of one header line
(RFC 5322), so that no mail library folds it: the headline is cut at a clause boundary,
or with an ellipsis. (The quality gate allows up to 78, as Buttondown does.)
"""

from __future__ import annotations

import re
from datetime import date

from newsletter.digest.schema import WrittenDigest

MAX_CHARS = 78 - len("Subject: ")
_FORMATS = {
    "en": ("{topic} daily: {lead} ({d:%b} {d.day})", "{topic} daily ({d:%b} {d.day})"),
    "zh-TW": (
        "{topic} 每日動態：{lead}（{d.month}/{d.day}）",
        "{topic} 每日動態（{d.month}/{d.day}）",
    ),
}
_CLAUSE = re.compile(r"\s*[，,：:；;—–]\s*|\s+-\s+")


def _fit(lead: str, room: int, ellipsis: str) -> str:
    lead = " ".join(lead.split()).rstrip("。.")
    if len(lead) <= room:
        return lead
    clause = _CLAUSE.split(lead, maxsplit=1)[0]
    if 0 < len(clause) <= room:
        return clause
    cut = lead[: room - len(ellipsis)]
    if " " in cut and not re.search(r"[\u4e00-\u9fff]", cut[-1]):
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + ellipsis


def subject_line(topic_name: str, day: date, language: str, written: WrittenDigest) -> str:
    with_lead, without = _FORMATS.get(language, _FORMATS["en"])
    if not written.highlights:
        return without.format(topic=topic_name, d=day)
    frame = with_lead.format(topic=topic_name, lead="", d=day)
    # An ASCII subject stays unencoded: a "…" would make the mail library fold it into
    # an encoded word with a doubled space before it.
    ellipsis = "…" if language.startswith("zh") else "..."
    lead = _fit(written.highlights[0].title, MAX_CHARS - len(frame), ellipsis)
    return with_lead.format(topic=topic_name, lead=lead, d=day)
