"""The sweeper: the database is the truth, so it can always rebuild the queue.

It records what the journals on this host say was accepted (a dead process's, and a live
one's whose recording failed), then hands back deliveries whose lease ran out (a worker
died or hung), lists digests whose fan-out never finished, and returns the ranges of
due pending deliveries that need a send job: those handed back, those whose retry time
has come, and those no job picked up within a lease (Redis lost its queue).

Journals live on the host of their worker, so each host's workers replay them (on
start, and in every sweep they run); a sweep on another host sees only expired leases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery import rows
from newsletter.delivery.journal import replay
from newsletter.delivery.rows import SendRange


@dataclass
class SweepReport:
    replayed: int = 0
    released: int = 0
    expired: int = 0
    fan_outs: list[int] = field(default_factory=list)
    ranges: list[SendRange] = field(default_factory=list)


def recover(db: Database, settings: Settings, report: SweepReport) -> None:
    """Record what this host's journals say was sent, then take back expired leases: in
    this order, so that a row whose acceptance sits in a journal is never handed out."""
    assert settings.journal_dir is not None

    def record(ids: list[int]) -> None:
        rows.mark_sent(db, settings, ids)
        report.replayed += len(ids)

    replay(settings.journal_dir, record)
    report.released, report.expired = rows.release_expired(db, settings)


def sweep(db: Database, settings: Settings) -> SweepReport:
    """Recover, then list unfinished fan-outs and what needs a send job."""
    report = SweepReport()
    recover(db, settings, report)
    report.fan_outs = rows.unfinished_fan_outs(db, settings)
    report.ranges = rows.due_ranges(db, settings)
    return report
