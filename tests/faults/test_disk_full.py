"""A full disk and a read-only inbox in the middle of a sync: a plain message, nothing corrupted, and recovery.

The disk fills through ``PRAGMA max_page_count`` on the writer's connection (SQLite then fails exactly as on a full
disk, with SQLITE_FULL, and root cannot bypass it as it bypasses file permissions). A real write error from the
operating system is made with ``RLIMIT_FSIZE`` in a child process. The read-only cases use ``PRAGMA query_only`` on
the writer connection and a ``mode=ro`` connection: both make SQLite refuse every write, even for root.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from console.domain import Batch
from console.services.writer import StoreWriter
from console.store import Inbox, InboxError
from console.store.database import connect
from console.sync import AccountStatus, SyncEngine, SyncState
from tests.faults.conftest import integrity, tend_child
from tests.faults.ingest_child import ACCOUNT, PER_PAGE, STREAM, expected_ids, page_batch

PAGES = 12


class SmallNetwork:
    """``PAGES`` pages; ``fetched`` records where each pass started."""

    streams = (STREAM,)

    def __init__(self) -> None:
        self.account = ACCOUNT
        self.starts: list[int] = []

    async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
        first = 0 if cursor is None else int(cursor) + 1
        self.starts.append(first)
        for page in range(first, PAGES):
            yield page_batch(page)

    async def aclose(self) -> None:
        return None


def stored_ids(inbox: Inbox) -> list[str]:
    return [row[0] for row in inbox.db.execute("SELECT id FROM posts")]


def run_pass(inbox: Inbox, network: SmallNetwork) -> tuple[str | None, list[AccountStatus]]:
    """One sync pass through the real engine and writer thread; the writer keeps the connection open afterwards."""
    statuses: list[AccountStatus] = []

    async def once() -> str | None:
        engine = SyncEngine(writer, [network], refresh_per_pass=0)
        engine.on_status.append(statuses.append)
        return (await engine.sync_account(network)).error

    writer = StoreWriter(inbox)
    try:
        return asyncio.run(once()), statuses
    finally:
        writer._executor.shutdown(wait=True)  # keep the inbox open: the test goes on using it


@pytest.fixture
def inbox(tmp_path: Path):
    inbox = Inbox.open(tmp_path / "inbox.db")
    inbox.ensure_account(ACCOUNT)
    yield inbox
    inbox.close()


def fill_disk_after(inbox: Inbox, pages: int) -> None:
    """Store ``pages`` pages, then leave room for only a couple more database pages."""
    for page in range(pages):
        inbox.apply_batch(page_batch(page))
    used = inbox.db.execute("PRAGMA page_count").fetchone()[0]
    inbox.db.execute(f"PRAGMA max_page_count = {used + 2}")


def test_disk_full_during_sync_says_so_keeps_everything_and_recovers(inbox: Inbox) -> None:
    fill_disk_after(inbox, 3)
    network = SmallNetwork()

    error, statuses = run_pass(inbox, network)

    assert error is not None and error.startswith("The disk is full")
    assert "Nothing was lost" in error and "Traceback" not in error and "sqlite" not in error.lower()
    assert statuses[-1].state is SyncState.ERROR and statuses[-1].message == error  # what the status bar shows
    assert inbox.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert set(stored_ids(inbox)) == expected_ids(2)  # everything from before, and no half page
    assert inbox.cursor(ACCOUNT.id, STREAM) == "2"

    inbox.db.execute("PRAGMA max_page_count = 1073741823")  # space is back
    error, statuses = run_pass(inbox, network)

    assert error is None and statuses[-1].state is SyncState.OK
    assert network.starts == [3, 3]  # the failed page is fetched again, nothing skipped
    ids = stored_ids(inbox)
    assert len(ids) == len(set(ids)) == PAGES * PER_PAGE
    assert set(ids) == expected_ids(PAGES - 1)
    assert inbox.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_disk_full_while_changing_a_thread_is_an_inbox_error_too(inbox: Inbox) -> None:
    """Every write goes through the same translation, not only ingest."""
    fill_disk_after(inbox, 2)
    thread_id = inbox.db.execute("SELECT id FROM threads LIMIT 1").fetchone()[0]
    for _ in range(50):  # small writes fit at first; keep writing until the pages run out
        try:
            inbox.apply_batch(page_batch(2))
            inbox.set_thread_status(thread_id, "done")
            inbox.set_thread_status(thread_id, "open")
        except InboxError as error:
            assert str(error).startswith("The disk is full")
            break
    else:
        pytest.fail("the disk never filled")
    assert inbox.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not inbox.db.conn.in_transaction  # the failed transaction was rolled back, the connection is usable


def test_a_read_only_inbox_refuses_writes_in_plain_words(inbox: Inbox, tmp_path: Path) -> None:
    inbox.apply_batch(page_batch(0))
    inbox.db.execute("PRAGMA query_only = 1")
    network = SmallNetwork()

    error, statuses = run_pass(inbox, network)

    assert error is not None and error.startswith("Tend cannot write to the inbox at")
    assert "read-only" in error and statuses[-1].state is SyncState.ERROR
    assert set(stored_ids(inbox)) == expected_ids(0)

    inbox.db.execute("PRAGMA query_only = 0")
    assert run_pass(inbox, network)[0] is None
    assert set(stored_ids(inbox)) == expected_ids(PAGES - 1)
    assert integrity(tmp_path / "inbox.db") == "ok"


def test_an_inbox_opened_read_only_by_the_system_refuses_writes_in_plain_words(inbox: Inbox, tmp_path: Path) -> None:
    """The same path as a file the system will not let Tend write (SQLite opened it read-only)."""
    path = tmp_path / "inbox.db"
    inbox.apply_batch(page_batch(0))
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, isolation_level=None)
    import sqlite_utils

    read_only = Inbox(sqlite_utils.Database(conn), path)
    try:
        with pytest.raises(InboxError, match=r"^Tend cannot write to the inbox at .*read-only"):
            read_only.apply_batch(page_batch(1))
        assert {row[0] for row in read_only.db.execute("SELECT id FROM posts")} == expected_ids(0)
    finally:
        read_only.close()
    assert integrity(path) == "ok"


FILE_SIZE_CHILD = """
import resource, signal, sys
from pathlib import Path
from console.store import Inbox, InboxError
from tests.faults.ingest_child import ACCOUNT, page_batch
inbox = Inbox.open(Path(sys.argv[1]))
inbox.ensure_account(ACCOUNT)
for page in range(3):
    inbox.apply_batch(page_batch(page))
inbox.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (Path(sys.argv[1]).stat().st_size + 8192,) * 2)
try:
    for page in range(3, 40):
        inbox.apply_batch(page_batch(page))
except InboxError as error:
    print("INBOX_ERROR", error, flush=True)
else:
    print("NO_ERROR", flush=True)
inbox.close()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE")
def test_the_system_refusing_to_write_is_an_inbox_error_and_corrupts_nothing(children, tmp_path: Path) -> None:
    """A real failed write() (EFBIG, as close to a full disk as a test can get without root mounts)."""
    path = tmp_path / "inbox.db"
    child = tend_child(children, "-c", FILE_SIZE_CHILD, str(path))
    line = child.read_until("", timeout=60)
    child.proc.wait(timeout=30)
    assert line.startswith("INBOX_ERROR Tend could not write to the inbox at"), line
    assert "the disk reported an error" in line and "everything saved before is kept" in line
    assert integrity(path) == "ok"
    inbox = Inbox.open(path)
    try:
        assert set(stored_ids(inbox)) == expected_ids(int(inbox.cursor(ACCOUNT.id, STREAM)))
        inbox.apply_batch(page_batch(39))  # the limit is gone with the process: writing works again
    finally:
        inbox.close()
    db = connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
