"""Two Tend processes on one inbox: the second is told where the inbox is open and changes nothing.

Real processes throughout: the window (offscreen, syncing the demo network), ``tend sync --once``, ``tend export``
and a plain syncing child. The lock is the operating system's, so a killed process releases it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.store import Inbox
from console.store.errors import InboxLocked
from console.store.lock import acquire_inbox_lock, lock_path
from tests.faults.conftest import REPO, integrity, tend_child
from tests.faults.ingest_child import ACCOUNT, PAGES, STREAM, expected_ids

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and POSIX signals")

HOLDER = """
import sys, time
from console.store import Inbox
inbox = Inbox.open(sys.argv[1])
print("HOLDING", flush=True)
time.sleep(60)
"""


def run_tend(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "console", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def wait_for_lock_of(path: Path, pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if lock_path(path).read_text().split() == [str(pid)]:
                return
        except (OSError, IndexError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"process {pid} never took the inbox lock")


def test_a_second_process_is_refused_with_the_pid_and_the_file_is_untouched(children, tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    holder = tend_child(children, "-c", HOLDER, str(path))
    holder.read_until("HOLDING")
    before = path.read_bytes()

    with pytest.raises(InboxLocked) as refused:
        Inbox.open(path)
    assert refused.value.pid == holder.proc.pid
    assert str(refused.value).startswith(f"This inbox is already open in another Tend window (pid {holder.proc.pid})")

    result = run_tend("--db", str(path), "sync", "--once")
    assert result.returncode == 2
    assert f"already open in another Tend window (pid {holder.proc.pid})" in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == before

    holder.kill()  # SIGKILL: the operating system drops the lock with the process
    Inbox.open(path).close()
    assert run_tend("--db", str(path), "sync", "--once").returncode == 0


def test_only_one_of_two_processes_starting_together_gets_the_inbox(children, tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    first = tend_child(children, "-m", "tests.faults.ingest_child", "sync", str(path))
    second = tend_child(children, "-m", "tests.faults.ingest_child", "sync", str(path))
    outcomes = []
    for child in (first, second):
        out, err = child.proc.communicate(timeout=60)
        outcomes.append((child.proc.returncode, out, err))
    winners = [o for o in outcomes if o[0] == 0 and "DONE" in o[1]]
    losers = [o for o in outcomes if o[0] != 0]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert "InboxLocked" in losers[0][2] and "already open in another Tend window" in losers[0][2]
    assert "COMMITTED" not in losers[0][1]

    assert integrity(path) == "ok"
    conn = sqlite3.connect(path)
    try:
        ids = [row[0] for row in conn.execute("SELECT id FROM posts")]
        cursor = conn.execute("SELECT cursor FROM sync_cursors WHERE account_id = ? AND stream = ?",
                              (ACCOUNT.id, STREAM)).fetchone()[0]
    finally:
        conn.close()
    assert len(ids) == len(set(ids)) and set(ids) == expected_ids(PAGES - 1) and cursor == str(PAGES - 1)


def test_the_lock_is_shared_within_one_process_and_released_with_the_last_user(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    first = Inbox.open(path)
    second = Inbox.open(path)  # the same process (tests, a dialog's own writer): not "another window"
    first.close()
    assert lock_path(path).exists()
    second.close()
    assert not lock_path(path).exists()  # nothing left behind
    acquire_inbox_lock(path).release()


@pytest.mark.slow
def test_sync_while_the_window_runs_gets_the_clear_message_and_export_still_works(children, tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    window = tend_child(children, "-m", "console", "--demo", "--db", str(path), env={"QT_QPA_PLATFORM": "offscreen"})
    wait_for_lock_of(path, window.proc.pid)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # let the window's sync write something first
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            if conn.execute("SELECT count(*) FROM posts").fetchone()[0] > 0:
                conn.close()
                break
            conn.close()
        except sqlite3.Error:
            pass
        time.sleep(0.2)

    result = run_tend("--db", str(path), "sync", "--once")
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"Tend: This inbox is already open in another Tend window (pid {window.proc.pid})")

    out = tmp_path / "all.csv"
    exported = run_tend("export", "--db", str(path), "--view", "all", str(out))  # readers never take the lock
    assert exported.returncode == 0, exported.stderr
    assert len(out.read_text().splitlines()) > 1

    window.proc.send_signal(signal.SIGTERM)
    assert window.proc.wait(timeout=15) == 0
    assert integrity(path) == "ok"
    assert not lock_path(path).exists()
    result = run_tend("--demo", "--db", str(path), "sync", "--once")
    assert result.returncode == 0, result.stderr
