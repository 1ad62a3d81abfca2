"""The Message Batches API for a build that runs well before the send time: half price.

A batch may take minutes (up to a day, in the worst case), so it is offered only when a
build starts at least ``NEWSLETTER_ANTHROPIC_BATCH_LEAD_MINUTES`` before the topic's send
time. The writer submits its one request as a batch, polls until the batch ends, and
takes the message from its results. If the batch has not ended by the deadline (a margin
before the send time) it is cancelled and the request is sent directly, so a slow batch
costs full price but never a late digest; a batch whose request errored is sent
directly too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anthropic
from anthropic.types import Message

MAX_MARGIN = timedelta(minutes=30)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchPolicy:
    """Batch while ``now() < deadline``, asking every ``poll_seconds``."""

    deadline: datetime
    poll_seconds: float = 30.0
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sleep: Callable[[float], None] = time.sleep

    def run(self, client: anthropic.Anthropic, params: dict[str, Any]) -> Message | None:
        """The message the batch answered, or None: send the request directly."""
        if self.now() >= self.deadline:
            return None
        batch = client.messages.batches.create(requests=[{"custom_id": "digest", "params": params}])
        while batch.processing_status != "ended":
            if self.now() >= self.deadline:
                log.warning(
                    "batch %s not done by %s: cancelled, sent directly", batch.id, self.deadline
                )
                client.messages.batches.cancel(batch.id)
                return None
            self.sleep(self.poll_seconds)
            batch = client.messages.batches.retrieve(batch.id)
        for entry in client.messages.batches.results(batch.id):
            if entry.custom_id == "digest" and entry.result.type == "succeeded":
                return entry.result.message
            log.warning("batch %s answered %s: sent directly", batch.id, entry.result.type)
        return None


def batch_policy(lead_minutes: int, send_at: datetime, now: datetime) -> BatchPolicy | None:
    """A policy for a build starting ``now`` for a send at ``send_at``, or None when
    batches are off (``lead_minutes`` 0) or the send is closer than ``lead_minutes``.

    The batch must end a margin before the send (half the lead, at most 30 minutes), which
    leaves the time to send the request directly if it does not.
    """
    lead = timedelta(minutes=lead_minutes)
    if not lead_minutes or send_at - now < lead:
        return None
    return BatchPolicy(deadline=send_at - min(lead / 2, MAX_MARGIN))
