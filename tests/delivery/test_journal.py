"""The acknowledgement journal: every acceptance is replayed, a dead process's file deleted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from newsletter.delivery.journal import AckJournal, replay

DIE_AFTER_ACKS = """
import os, signal, sys
from pathlib import Path
import pytest

from newsletter.delivery.journal import AckJournal
journal = AckJournal(Path(sys.argv[1]))
for delivery_id in (11, 12, 13):
    journal.accepted(delivery_id)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_sigkilled_process_journal_is_replayed_once(tmp_path: Path) -> None:
    process = subprocess.run([sys.executable, "-c", DIE_AFTER_ACKS, str(tmp_path)], check=False)
    assert process.returncode == -9
    seen: list[list[int]] = []

    assert replay(tmp_path, seen.append) == 3
    assert seen == [[11, 12, 13]]
    assert replay(tmp_path, seen.append) == 0  # deleted once recorded
    assert list(tmp_path.iterdir()) == []


def test_a_live_process_journal_is_recorded_but_left_to_its_owner(tmp_path: Path) -> None:
    """A live process whose recording failed: its acceptances are recorded by the sweep
    (before the sweep takes back their lease), its file stays until it clears it."""
    journal = AckJournal(tmp_path)
    journal.accepted(5)
    seen: list[list[int]] = []
    assert replay(tmp_path, seen.append) == 1
    assert seen == [[5]]
    assert journal.path.exists()
    journal.accepted(6)
    assert journal.entries() == [5, 6]
    journal.clear()
    assert journal.path.read_bytes() == b""
    assert replay(tmp_path, seen.append) == 0
    journal.close()
    assert not journal.path.exists()


def test_a_line_being_written_is_not_read(tmp_path: Path) -> None:
    journal = AckJournal(tmp_path)
    journal.accepted(41)
    with open(journal.path, "ab") as half_written:
        half_written.write(b"42")
    assert journal.entries() == [41]
    journal.close()


def test_a_failing_recorder_keeps_the_journal_for_the_next_sweep(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-c", DIE_AFTER_ACKS, str(tmp_path)], check=False)

    def broken(ids: list[int]) -> None:
        raise ConnectionError("database down")

    with pytest.raises(ConnectionError):
        replay(tmp_path, broken)
    seen: list[list[int]] = []
    assert replay(tmp_path, seen.append) == 3


def test_closing_keeps_unrecorded_entries_for_replay(tmp_path: Path) -> None:
    journal = AckJournal(tmp_path)
    journal.accepted(8)
    journal.close()
    seen: list[list[int]] = []
    assert replay(tmp_path, seen.append) == 1
    assert seen == [[8]]
