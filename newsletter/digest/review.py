"""Review before send: a digest of a topic with review required is built ``awaiting
review`` and goes out only once an operator approves it, by its send time plus a grace.

An operator may reject it (held, with a reason), approve it, or edit a highlight's or a
section's text first; an edit is grounded again like a writer's text (its citations and
links must rest on the day's ingested items) and refused if it is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.digest.build import items_in_window, primary_digest
from newsletter.digest.grounding import citation_problems, remove_foreign_urls
from newsletter.digest.quality import GateContext, check, context_for, describe
from newsletter.digest.schema import DigestContent, WrittenDigest
from newsletter.digest.writer import WriteRequest, WriterError
from newsletter.errors import InputError
from newsletter.models import Digest, DigestStatus, ReviewMode, Topic, utcnow
from newsletter.sources.dedupe import cluster_stories

# An operator may approve what waits or what they held; nothing else.
APPROVABLE = (DigestStatus.AWAITING_REVIEW, DigestStatus.REJECTED)
REASON_MAX = 1000
EDIT_MAX = 3000


class ReviewError(InputError):
    """The review action cannot be done; the message says why. Nothing changed."""


def set_review(topic: Topic, mode: str) -> None:
    try:
        topic.review = ReviewMode(mode)
    except ValueError:
        raise InputError("review is 'off' or 'required'") from None


def review_deadline(digest: Digest, grace: timedelta) -> datetime:
    """The digest's send time (its topic's, on its date, in its time zone) plus ``grace``."""
    topic = digest.topic
    send_at = datetime.combine(digest.date, topic.send_time, tzinfo=ZoneInfo(topic.timezone))
    return send_at + grace


def approve(
    session: Session, digest: Digest, reviewer: str, grace: timedelta, now: datetime | None = None
) -> None:
    """Mark the digest ready to send; ReviewError if it is not waiting or it is too late."""
    now = now or utcnow()
    if digest.status not in APPROVABLE:
        raise ReviewError(f"digest #{digest.id} is {digest.status.value}, not awaiting review")
    if now > review_deadline(digest, grace):
        digest.status = DigestStatus.EXPIRED
        session.commit()
        raise ReviewError(
            f"digest #{digest.id} was not approved by its send time plus the grace: "
            "it will not be sent"
        )
    digest.status, digest.reviewed_by, digest.reviewed_at = DigestStatus.READY, reviewer, now


def reject(session: Session, digest: Digest, reviewer: str, reason: str) -> None:
    """Hold the digest with a reason (it may still be approved before its deadline)."""
    reason = reason.strip()
    if not reason:
        raise ReviewError("say why the digest is held")
    if digest.status not in APPROVABLE:
        raise ReviewError(f"digest #{digest.id} is {digest.status.value}, not awaiting review")
    digest.status, digest.review_note = DigestStatus.REJECTED, reason[:REASON_MAX]
    digest.reviewed_by, digest.reviewed_at = reviewer, utcnow()


def expire_overdue(session: Session, grace: timedelta, now: datetime | None = None) -> list[Digest]:
    """Digests still waiting (or held) past their deadline become ``expired``: never sent."""
    now = now or utcnow()
    waiting = session.scalars(select(Digest).where(Digest.status.in_(APPROVABLE)))
    expired = [digest for digest in waiting if now > review_deadline(digest, grace)]
    for digest in expired:
        digest.status = DigestStatus.EXPIRED
    return expired


def awaiting(session: Session) -> list[Digest]:
    return list(
        session.scalars(
            select(Digest)
            .where(Digest.status.in_(APPROVABLE))
            .order_by(Digest.date, Digest.topic_id, Digest.language)
        )
    )


@dataclass(frozen=True)
class Part:
    """A piece of a digest's text an operator may rewrite."""

    key: str
    heading: str
    text: str


def editable_parts(content: dict[str, Any]) -> list[Part]:
    """The summary, the trends, each highlight's title and body, the analysis."""
    parts = [Part("summary", "summary", "\n".join(content["summary"]))]
    parts.append(Part("trends", "trends", content["trends"]))
    for number, highlight in enumerate(content["highlights"]):
        parts.append(
            Part(f"highlights.{number}.title", f"highlight {number + 1}: title", highlight["title"])
        )
        parts.append(
            Part(f"highlights.{number}.body", f"highlight {number + 1}: text", highlight["body"])
        )
    for name in ("industry", "competition", "market"):
        parts.append(Part(f"analysis.{name}", f"analysis: {name}", content["analysis"][name]))
    return parts


def _replaced(content: dict[str, Any], key: str, text: str) -> dict[str, Any]:
    updated = {
        **content,
        "highlights": [dict(h) for h in content["highlights"]],
        "analysis": dict(content["analysis"]),
    }
    if key == "summary":
        updated["summary"] = [line.strip() for line in text.splitlines() if line.strip()]
    elif key == "trends":
        updated["trends"] = text
    elif key.startswith("analysis.") and key.split(".", 1)[1] in updated["analysis"]:
        updated["analysis"][key.split(".", 1)[1]] = text
    elif key.startswith("highlights."):
        _, number, field = key.split(".", 2) if key.count(".") == 2 else ("", "", "")
        if (
            not number.isdigit()
            or int(number) >= len(updated["highlights"])
            or field not in ("title", "body")
        ):
            raise ReviewError(f"no such part {key!r}")
        updated["highlights"][int(number)][field] = text
    else:
        raise ReviewError(f"no such part {key!r}")
    return updated


def grounding_problems(
    session: Session, digest: Digest, written: WrittenDigest | None = None
) -> list[str]:
    """What in the digest's text (or ``written``, an edit of it) does not rest on the
    day's ingested items: citations of unknown items, links to anything else."""
    if written is None:
        if digest.content is None:
            return []
        written = WrittenDigest.model_validate(digest.content)
    items = items_in_window(session, digest.topic, digest.date)
    problems = citation_problems(written, [item.id for item in items])
    try:
        _, removed = remove_foreign_urls(
            written, [url for item in items for url in (item.url, item.canonical_url)]
        )
    except WriterError as error:
        return [*problems, str(error)]
    if removed:
        problems.append(
            "every link must be one of the day's news items; not: " + ", ".join(removed)
        )
    return problems


def edit(session: Session, digest: Digest, key: str, text: str) -> None:
    """Rewrite one part of a digest awaiting review, grounded and gated again.

    ReviewError (nothing saved) for a part that does not exist, text that breaks the
    schema, a link or citation that does not rest on the day's ingested items, or text
    the quality gate refuses (another language, a repeated sentence, ...).
    """
    if digest.status not in APPROVABLE or digest.content is None:
        raise ReviewError(
            f"digest #{digest.id} is {digest.status.value}: only a digest "
            "awaiting review can be edited"
        )
    text = text.replace("\r\n", "\n").strip()
    if not text or len(text) > EDIT_MAX:
        raise ReviewError(f"the new text must be 1 to {EDIT_MAX} characters")
    updated = _replaced(digest.content, key, text)
    try:
        written = WrittenDigest.model_validate(updated)
    except ValidationError as error:
        raise ReviewError(f"the edit does not fit the digest: {error.errors()[0]['msg']}") from None
    problems = grounding_problems(session, digest, written)
    if problems:
        raise ReviewError("; ".join(problems))
    findings = check(written, gate_context(session, digest))
    if findings:
        raise ReviewError(describe(findings))
    digest.content = DigestContent.model_validate(updated).model_dump(mode="json")


def gate_context(session: Session, digest: Digest) -> GateContext:
    """The quality gate's view of a stored digest: the day's items as they were written
    from (the same stories, outlets and titles the build gave it)."""
    topic = digest.topic
    request = WriteRequest(
        topic.name,
        digest.date,
        digest.language,
        cluster_stories(items_in_window(session, topic, digest.date)),
        primary=primary_digest(session, topic, digest.date, digest.language),
        keywords=tuple(topic.keywords or ()),
    )
    return context_for(request)


def same_day(session: Session, digest: Digest) -> list[Digest]:
    """The digest's other languages: the same topic and date."""
    return list(
        session.scalars(
            select(Digest)
            .where(
                Digest.topic_id == digest.topic_id,
                Digest.date == digest.date,
                Digest.id != digest.id,
            )
            .order_by(Digest.language)
        )
    )
