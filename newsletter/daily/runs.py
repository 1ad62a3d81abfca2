"""What each step of a topic's daily chain did, logged and kept in the ``runs`` table.

A day that sends nothing must not be silent: every step writes one line here (and to
the log) with its outcome and, when it skipped or failed, the reason. ``newsletter
runs`` reads them back; ``alerts`` emails the operators about a failed or empty day.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.db import Database
from newsletter.digest.build import BuildOutcome
from newsletter.models import DigestStatus, Run, RunOutcome
from newsletter.sources.ingest import SourceResult

log = logging.getLogger(__name__)
_LEVELS = {
    RunOutcome.OK: logging.INFO,
    RunOutcome.EMPTY: logging.WARNING,
    RunOutcome.SKIPPED: logging.WARNING,
    RunOutcome.FAILED: logging.ERROR,
}
DETAIL_MAX_CHARS = 2000


def record(
    db: Database,
    slug: str,
    day: date,
    step: str,
    outcome: RunOutcome,
    detail: str = "",
    digest_id: int | None = None,
) -> Run:
    """Log the step's outcome and store it; returns the stored row."""
    detail = detail[:DETAIL_MAX_CHARS]
    log.log(
        _LEVELS[outcome],
        "%s %s %s: %s%s",
        slug,
        day.isoformat(),
        step,
        outcome.value,
        f" ({detail})" if detail else "",
    )
    with db.session() as session:
        run = Run(
            topic_slug=slug,
            day=day,
            step=step,
            outcome=outcome,
            detail=detail,
            digest_id=digest_id,
        )
        session.add(run)
    return run


def recent_runs(session: Session, slug: str | None = None, limit: int = 50) -> list[Run]:
    """The newest steps first, of one topic or all."""
    query = select(Run).order_by(Run.created_at.desc(), Run.id.desc()).limit(limit)
    if slug is not None:
        query = query.where(Run.topic_slug == slug)
    return list(session.scalars(query))


def day_runs(session: Session, slug: str, day: date) -> list[Run]:
    """The steps of one topic's day, in the order they ran."""
    return list(
        session.scalars(select(Run).where(Run.topic_slug == slug, Run.day == day).order_by(Run.id))
    )


def seen_before(session: Session, run: Run) -> bool:
    """Whether an earlier step of the same day ended the same way (a retried job that
    fails again, a chain run twice): the operators hear of it once."""
    return (
        session.scalar(
            select(Run.id)
            .where(
                Run.topic_slug == run.topic_slug,
                Run.day == run.day,
                Run.step == run.step,
                Run.outcome == run.outcome,
                Run.id < run.id,
            )
            .limit(1)
        )
        is not None
    )


def line(run: Run) -> str:
    """One step as a line of text (the CLI and the operators' email)."""
    digest = f" #{run.digest_id}" if run.digest_id else ""
    detail = f": {run.detail}" if run.detail else ""
    return (
        f"{run.created_at:%Y-%m-%d %H:%M:%S} {run.topic_slug} {run.day} "
        f"{run.step}{digest} {run.outcome.value}{detail}"
    )


def fetch_outcome(results: list[SourceResult]) -> tuple[RunOutcome, str]:
    """How a fetch went: skipped without sources, failed when every source failed,
    otherwise ok with the new items and each failed source's reason."""
    if not results:
        return RunOutcome.SKIPPED, "no enabled sources"
    failed = [result for result in results if result.status == "failed"]
    new = sum(result.new_items for result in results)
    reasons = "; ".join(f"{result.source}: {result.error}" for result in failed)
    if len(failed) == len(results):
        return RunOutcome.FAILED, f"every source failed: {reasons}"
    detail = f"{new} new item(s) from {len(results)} source(s)"
    if failed:
        detail += f"; {len(failed)} failed: {reasons}"
    return RunOutcome.OK, detail


def record_build(db: Database, slug: str, day: date, outcomes: list[BuildOutcome]) -> list[Run]:
    """One step per digest built: ok with its writer, or failed with the writer's error."""
    recorded = []
    for outcome in outcomes:
        digest = outcome.digest
        if digest.status == DigestStatus.FAILED:
            recorded.append(
                record(db, slug, day, "build", RunOutcome.FAILED, digest.error or "", digest.id)
            )
        else:
            state = "built" if outcome.created else "already built"
            detail = f"{digest.language} {state} by {digest.writer}"
            recorded.append(record(db, slug, day, "build", RunOutcome.OK, detail, digest.id))
    return recorded
