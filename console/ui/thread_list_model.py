"""A lazy table model over one view of the inbox.

Rows arrive a page at a time through ``fetchMore`` (keyset paging, so page 500 costs the same as page 1), and a
live refresh re-reads only the rows already loaded. Refreshes move rows with ``layoutChanged`` and persistent
indexes, so the selection and scroll position survive new activity.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import datetime

import sqlite_utils
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from console.domain import utc_now
from console.store import ThreadRow, View
from console.store.queries import list_threads
from console.ui.formatting import age, compact_number
from console.ui.icons import network_icon

ThreadIdRole = Qt.ItemDataRole.UserRole + 1

COLUMNS = ("Customer", "Influence", "Latest from customer", "Reshares", "Waiting", "Status")
COL_AUTHOR, COL_INFLUENCE, COL_TEXT, COL_RESHARES, COL_WAITING, COL_STATUS = range(len(COLUMNS))


@functools.cache
def _bold() -> QFont:
    font = QFont()
    font.setBold(True)
    return font

_STATUS_LABELS = {"open": "Open", "snoozed": "Snoozed", "done": "Done"}


_LEADING_MENTIONS = re.compile(r"^(?:[@＠][\w.\-@]+[\s,:]*)+")


def preview(text: str) -> str:
    """One line of the customer's words: the @mentions that open most replies say nothing the row doesn't."""
    flat = " ".join(text.split())
    return (_LEADING_MENTIONS.sub("", flat) or flat)[:200]


def influence_colour(score: int) -> QColor:
    """Calm for small accounts, warm for large ones: the badge is read at a glance, not studied."""
    if score >= 70:
        return QColor("#f4b4a4")
    if score >= 45:
        return QColor("#f7d9a8")
    return QColor("#dfe9e2")


class ThreadListModel(QAbstractTableModel):
    def __init__(
        self,
        db: sqlite_utils.Database,
        *,
        page_size: int = 100,
        clock: Callable[[], datetime] = utc_now,
        parent: object = None,
    ) -> None:
        super().__init__(parent)
        self._db = db
        self._page_size = page_size
        self._clock = clock
        self._view = View()
        self._rows: list[ThreadRow] = []
        self._exhausted = True

    # -- loading ---------------------------------------------------------------------------------------------------

    @property
    def view(self) -> View:
        return self._view

    def set_view(self, view: View) -> None:
        self.beginResetModel()
        self._view = view
        self._rows = list_threads(self._db, view, self._page_size)
        self._exhausted = len(self._rows) < self._page_size
        self.endResetModel()

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or not self._rows:
            return
        last = self._rows[-1]
        page = list_threads(self._db, self._view, self._page_size, after=(last.last_activity_at, last.id))
        self._exhausted = len(page) < self._page_size
        if page:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()

    def refresh(self) -> None:
        """Re-read the loaded rows in place, keeping persistent indexes (selection, current row) on their threads."""
        wanted = max(len(self._rows), self._page_size)
        fresh = list_threads(self._db, self._view, wanted)
        old_count, new_count = len(self._rows), len(fresh)
        if new_count > old_count:
            # Grow with rows not shown yet, then reorder: a layout change must keep the row count.
            shown = {row.id for row in self._rows}
            self.beginInsertRows(QModelIndex(), old_count, new_count - 1)
            self._rows.extend([row for row in fresh if row.id not in shown][: new_count - old_count])
            self.endInsertRows()
            self._reorder(fresh)
        elif new_count < old_count:
            # Reorder with the departing rows parked at the end, then drop them.
            kept = {row.id for row in fresh}
            leaving = [row for row in self._rows if row.id not in kept]
            self._reorder(fresh + leaving[: old_count - new_count])
            self.beginRemoveRows(QModelIndex(), new_count, old_count - 1)
            del self._rows[new_count:]
            self.endRemoveRows()
        else:
            self._reorder(fresh)
        self._exhausted = new_count < wanted
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1))

    def _reorder(self, new_rows: list[ThreadRow]) -> None:
        self.layoutAboutToBeChanged.emit()
        old_ids = [row.id for row in self._rows]
        position = {row.id: n for n, row in enumerate(new_rows)}
        self._rows = new_rows
        persistent = self.persistentIndexList()
        replacements = []
        for index in persistent:
            new_row = position.get(old_ids[index.row()]) if index.row() < len(old_ids) else None
            replacements.append(QModelIndex() if new_row is None else self.index(new_row, index.column()))
        self.changePersistentIndexList(persistent, replacements)
        self.layoutChanged.emit()

    # -- lookups ---------------------------------------------------------------------------------------------------

    def thread_at(self, row: int) -> ThreadRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, thread_id: str) -> int | None:
        for n, row in enumerate(self._rows):
            if row.id == thread_id:
                return n
        return None

    # -- Qt model API ----------------------------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        # Never defer to super().headerData: see tests/ui/test_pyside_regression.py.
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == ThreadIdRole:
            return row.id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.DecorationRole and column == COL_AUTHOR:
            return network_icon(row.network)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.BackgroundRole and column == COL_INFLUENCE:
            return influence_colour(row.author_influence)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (COL_INFLUENCE, COL_RESHARES, COL_WAITING):
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.FontRole and row.needs_reply and column == COL_AUTHOR:
            return _bold()
        return None

    def _display(self, row: ThreadRow, column: int) -> str:
        if column == COL_AUTHOR:
            return row.author_name or row.author_handle or "(no customer post)"
        if column == COL_INFLUENCE:
            return str(row.author_influence)
        if column == COL_TEXT:
            return preview(row.latest_text)
        if column == COL_RESHARES:
            return compact_number(row.reshare_total)
        if column == COL_WAITING:
            return age(row.waiting_since, self._clock()) if row.needs_reply else ""
        if column == COL_STATUS:
            return _STATUS_LABELS.get(row.status, row.status)
        return ""

    def _tooltip(self, row: ThreadRow, column: int) -> str | None:
        if column in (COL_AUTHOR, COL_INFLUENCE):
            return (
                f"{row.author_name} ({row.author_handle}) on {row.network}\n"
                f"{compact_number(row.author_followers)} follower{'' if row.author_followers == 1 else 's'} · "
                f"influence {row.author_influence} of 100"
            )
        if column == COL_TEXT:
            return row.latest_text[:1000]
        if column == COL_RESHARES:
            return f"{row.reshare_total} reshares and quotes across {row.post_count} posts"
        return None
