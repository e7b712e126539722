"""File › Export: ask where, export on a worker thread, report "Exported 1,234 posts to …" or why not.

A large view takes seconds to write, so the export never runs on the Qt thread. The worker opens its own read-only
connection to the inbox file: a ``sqlite3`` connection must not be shared between threads, and WAL lets this one
read a consistent snapshot while the sync writer keeps writing.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from datetime import date
from os import PathLike
from pathlib import Path

import sqlite_utils
from PySide6.QtCore import QObject, QStandardPaths, Qt, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QWidget

from console.store import Inbox, InboxError, View
from console.store.database import connect
from console.store.errors import translate_sqlite_error
from console.store.export import ExportError, ExportFormat, ExportResult
from console.store.queries import Order
from console.store.export import export_thread as write_thread
from console.store.export import export_view as write_view
from console.ui.tasks import owner_message

log = logging.getLogger(__name__)

Report = Callable[[str], None]
Work = Callable[[sqlite_utils.Database], ExportResult]

CSV_FILTER = "CSV spreadsheet (*.csv)"
JSON_FILTER = "JSON (*.json)"
_SUFFIX_FOR_FILTER = {CSV_FILTER: ".csv", JSON_FILTER: ".json"}

# Jobs in flight, so a job (a QObject) outlives the call that started it until its result is delivered.
_RUNNING: set[ExportJob] = set()


def export_view(
    parent: QWidget | None, db: Inbox | PathLike[str] | str, view: View, *, on_done: Report,
    on_error: Report | None = None, order: Order = Order.LATEST,
) -> ExportJob | None:
    """Export every thread of ``view`` (in the list's ``order``); returns the running job, or ``None`` if the owner
    cancelled the dialog."""
    target = choose_export_file(parent, f"tend-{view.kind.value.replace('_', '-')}-{date.today():%Y-%m-%d}")
    if target is None:
        return None
    return start_export(_inbox_path(db), lambda conn: write_view(conn, view, target, order=order), on_done, on_error)


def export_thread(
    parent: QWidget | None, db: Inbox | PathLike[str] | str, thread_id: str, *, on_done: Report,
    on_error: Report | None = None,
) -> ExportJob | None:
    """Export one conversation; returns the running job, or ``None`` if the owner cancelled the dialog."""
    target = choose_export_file(parent, f"tend-conversation-{date.today():%Y-%m-%d}")
    if target is None:
        return None
    return start_export(_inbox_path(db), lambda conn: write_thread(conn, thread_id, target), on_done, on_error)


def choose_export_file(parent: QWidget | None, stem: str) -> Path | None:
    """Ask for a file; the format follows the name's suffix, or the chosen filter when the name has neither."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
    name, chosen = QFileDialog.getSaveFileName(
        parent, "Export conversations", str(Path(folder) / f"{stem}.csv"), f"{CSV_FILTER};;{JSON_FILTER}"
    )
    if not name:
        return None
    path = Path(name)
    if path.suffix.lower().lstrip(".") not in {f.value for f in ExportFormat}:
        path = path.with_name(path.name + _SUFFIX_FOR_FILTER.get(chosen, ".csv"))
    return path


def start_export(inbox_path: Path, work: Work, on_done: Report, on_error: Report | None = None) -> ExportJob:
    """Run ``work`` on a worker thread against its own connection; report on the Qt thread."""
    job = ExportJob(inbox_path, work, on_done, on_error or on_done)
    _RUNNING.add(job)
    job.start()
    return job


def done_message(result: ExportResult) -> str:
    noun = "post" if result.posts == 1 else "posts"
    return f"Exported {result.posts:,} {noun} to {result.path}"


class ExportJob(QObject):
    """One export in flight. Lives on the Qt thread; only ``_run`` executes on the worker."""

    finished = Signal(str, bool)  # the owner-facing message, and whether the export succeeded

    def __init__(self, inbox_path: Path, work: Work, on_done: Report, on_error: Report) -> None:
        super().__init__()
        self._inbox_path = inbox_path
        self._work = work
        self._on_done = on_done
        self._on_error = on_error
        self._thread = threading.Thread(target=self._run, name="tend-export", daemon=True)
        self.message: str | None = None
        self.ok: bool | None = None
        # Queued: the signal is emitted on the worker, the callbacks must run where the widgets live.
        self.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the worker (not for delivery, which needs the Qt loop); for tests and shutdown."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            message, ok = done_message(self._export()), True
        except Exception as error:  # noqa: BLE001 - every failure must reach the owner, not vanish with the thread
            if not isinstance(error, InboxError):
                log.error("export failed", exc_info=error)
            message, ok = owner_message(error), False
        self.finished.emit(message, ok)

    def _export(self) -> ExportResult:
        if not self._inbox_path.is_file():
            raise ExportError(f"There is no inbox at {self._inbox_path} to export from.")
        try:
            db = connect(self._inbox_path)
        except sqlite3.Error as error:
            translated = translate_sqlite_error(error, str(self._inbox_path))
            raise translated from error
        try:
            db.execute("PRAGMA query_only = 1")
            return self._work(db)
        finally:
            db.close()

    @Slot(str, bool)
    def _deliver(self, message: str, ok: bool) -> None:
        # The worker's last act was the emit; joining here means its references die on the worker first and the
        # last one (ours) on the Qt thread, which is where a QObject must be freed.
        self._thread.join()
        self.message, self.ok = message, ok
        _RUNNING.discard(self)
        (self._on_done if ok else self._on_error)(message)


def _inbox_path(db: Inbox | PathLike[str] | str) -> Path:
    return db.path if isinstance(db, Inbox) else Path(db)
