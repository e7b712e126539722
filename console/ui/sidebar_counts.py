"""The sidebar's badge numbers, counted off the Qt thread.

At a million posts the counts take tens of milliseconds (open threads per account is a GROUP BY over every open
thread, "Done" counts 170,000 index entries), and the list refreshes after every burst of synced pages: counted on
the Qt thread they were the longest stalls of the event loop while syncing. Here a thread of its own, with its own
read-only connection (SQLite connections stay with the thread that made them), counts; the result reaches the Qt
thread through a queued signal. Requests that arrive while a count runs fold into one more count afterwards, so a
burst of refreshes costs at most two, and counts start at most once per ``min_interval`` (a second): badge numbers
a second old are fine, and the counting thread must not take a core from the Qt thread during a long sync.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from console.store import ViewKind
from console.store.database import connect
from console.store.queries import account_thread_counts, view_counts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counts:
    views: dict[ViewKind, int] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)  # open threads per account id


BACKGROUND_NICENESS = 10


def lower_this_threads_priority(niceness: int = BACKGROUND_NICENESS) -> bool:
    """Make the calling thread yield the CPU to the Qt thread (Linux: each thread has its own nice value).

    On a 2-core machine a count (tens of ms of CPU at a million posts) running beside the writer and the network
    took the Qt thread's core: the loop's longest stalls while syncing came while a count ran. Elsewhere (macOS,
    Windows) this is a no-op; the counts are rare and cheap enough there too. Returns whether it took effect.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except OSError:
        return False
    return True


def count(db: sqlite_utils.Database) -> Counts:
    return Counts(view_counts(db), account_thread_counts(db))


class BackgroundCounts(QObject):
    """Counts the inbox at ``path`` on request, on a worker thread; ``ready`` carries each result (Qt thread)."""

    ready = Signal(object)  # Counts
    _counted = Signal(object)  # Counts | None, emitted on the worker thread

    def __init__(self, path: Path, parent: QObject | None = None, *, min_interval: float = 1.0) -> None:
        super().__init__(parent)
        self._path = path
        self._min_interval = min_interval
        self._finished_at = float("-inf")
        self._later = QTimer(self, singleShot=True)
        self._later.timeout.connect(self._start)
        self._worker = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="tend-counts", initializer=lower_this_threads_priority
        )
        self._db: sqlite_utils.Database | None = None  # opened and used on the worker thread only
        self._busy = False
        self._again = False
        self._closed = False
        self._counted.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def request(self) -> None:
        if self._closed or self._later.isActive():
            return  # a count is already due
        if self._busy:
            self._again = True
            return
        wait = self._min_interval - (time.monotonic() - self._finished_at)
        if wait > 0:
            self._later.start(max(1, round(wait * 1000)))
        else:
            self._start()

    def _start(self) -> None:
        if self._closed:
            return
        self._busy = True
        self._worker.submit(self._count)

    def close(self) -> None:
        """Stop counting and close the connection (waits for a count in progress, tens of milliseconds at most)."""
        if self._closed:
            return
        self._closed = True
        self._later.stop()
        self._worker.submit(self._close_db)
        self._worker.shutdown(wait=True)

    # -- worker thread -----------------------------------------------------------------------------------------------

    def _count(self) -> None:
        result: Counts | None = None
        try:
            if self._db is None:
                self._db = connect(self._path)
                self._db.execute("PRAGMA query_only = 1")
            result = count(self._db)
        except Exception:  # a count is never worth a crash: the badges keep their last numbers
            log.exception("counting the views failed")
        self._counted.emit(result)

    def _close_db(self) -> None:
        if self._db is not None:
            self._db.conn.close()
            self._db = None

    # -- Qt thread ---------------------------------------------------------------------------------------------------

    def _deliver(self, result: Counts | None) -> None:
        self._busy = False
        self._finished_at = time.monotonic()
        if self._closed:
            return
        if result is not None:
            self.ready.emit(result)
        if self._again:
            self._again = False
            self.request()
