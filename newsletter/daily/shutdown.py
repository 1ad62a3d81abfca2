"""A stop request (SIGTERM, SIGINT) noted instead of acted on, for the long-running
processes: installed first thing in ``newsletter worker`` and ``cron`` (before their
modules are even imported), so a signal while they start stops them gracefully, once
they have finished the step in hand. Standard library only: it must be cheap to import.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Shutdown:
    """A stop request noted by a SIGTERM/SIGINT handler instead of dying on the spot."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def install(self) -> Shutdown:
        """(Re)install the handlers: rq replaces them with its own while it runs."""
        for signum in SIGNALS:
            previous = signal.signal(signum, self._handle)
            self._previous.setdefault(signum, previous)
        return self

    def restore(self) -> None:
        """Put back the handlers there were before the first ``install``."""
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        self.requested = True

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake within a fifth of a second of a stop request."""
        end = time.monotonic() + seconds
        while not self.requested and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.2))


STOP = Shutdown()  # this process's: signal handlers are process-wide
