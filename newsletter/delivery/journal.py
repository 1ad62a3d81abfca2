"""A per-process journal of accepted messages: the SMTP acknowledgement window in microseconds.

Database updates are batched for speed, so between the relay's ``250`` and the commit of
the batch a SIGKILL would forget that a message went out, and the sweeper would send it
again. The acceptances of each transport call (one SMTP message, or an API batch) are
therefore appended to a small file with one ``write`` call before the next call is made;
the kernel keeps the bytes when the process dies. The file is held under an exclusive
``flock`` while its process lives: a lock that can be taken means its owner is gone, so
``replay`` marks its deliveries sent and deletes it. A live process's entries are marked
sent too (the relay accepted them, whatever became of the database since) but the file
is left to its owner: so a batch whose recording failed (the database dropped the
connection) is recorded by the next sweep before that sweep takes back its lease.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Callable
from pathlib import Path


class AckJournal:
    """Append-only list of delivery ids whose message the relay accepted."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{os.getpid()}-{uuid.uuid4().hex}"
        # created and locked under a name ``replay`` ignores, then given its own: a
        # replay can never take an unlocked new journal for a dead one and delete it
        starting = folder / f"{name}.new"
        self._fd = os.open(starting, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.path = folder / f"{name}.acks"
        starting.rename(self.path)

    def accepted(self, *delivery_ids: int) -> None:
        """Note acceptances; a transport batch's go in one ``write`` call."""
        if delivery_ids:
            os.write(self._fd, b"%d\n" * len(delivery_ids) % delivery_ids)

    def entries(self) -> list[int]:
        """What is written and not yet cleared: left over if recording a batch failed."""
        return _ids(self.path.read_bytes())

    def clear(self) -> None:
        """Forget the entries: call once they are committed to the database."""
        os.ftruncate(self._fd, 0)

    def close(self) -> None:
        """Release the journal; one with unrecorded entries stays for ``replay``."""
        if self._fd >= 0:
            unrecorded = bool(self.entries())
            os.close(self._fd)
            self._fd = -1
            if not unrecorded:
                self.path.unlink(missing_ok=True)


def replay(folder: Path, mark_sent: Callable[[list[int]], None]) -> int:
    """Hand the ids in every journal to ``mark_sent``; delete those of dead processes.

    ``mark_sent`` must be idempotent: a live process's entries may be recorded already
    (it clears them just after its commit).
    """
    replayed = 0
    if not folder.is_dir():
        return 0
    for path in sorted(folder.glob("*.acks")):
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                alive = False
            except BlockingIOError:
                alive = True  # its process is running: record its entries, keep its file
            ids = _ids(path.read_bytes())
            if ids:
                mark_sent(ids)
            replayed += len(ids)
            if not alive:
                path.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return replayed


def _ids(data: bytes) -> list[int]:
    """The ids of the complete lines (a live writer may be half way through one)."""
    complete = data[: data.rfind(b"\n") + 1]
    return [int(line) for line in complete.split() if line.isdigit()]
