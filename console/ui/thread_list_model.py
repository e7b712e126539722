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

from console.domain import parse_iso, utc_now
from console.domain.priority import PriorityReason
from console.domain.spread import reshares_text
from console.store import Order, ThreadRow, View
from console.store.queries import keyset_of, list_threads
from console.ui.formatting import age, compact_number
from console.ui.icons import network_icon

ThreadIdRole = Qt.ItemDataRole.UserRole + 1

COLUMNS = ("Customer", "Influence", "Latest from customer", "Reshares", "Heat", "Waiting", "Status")
COL_AUTHOR, COL_INFLUENCE, COL_TEXT, COL_RESHARES, COL_HEAT, COL_WAITING, COL_STATUS = range(len(COLUMNS))


@functools.cache
def _font(bold: bool, italic: bool) -> QFont:
    font = QFont()
    font.setBold(bold)
    font.setItalic(italic)
    return font


UNMENTIONED_TEXT = "Found by a brand watch (not tagged): they are talking about you, not to you."

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


def heat_colour(row: ThreadRow) -> QColor | None:
    """Only threads that are actually spreading get a colour; escalating ones the hottest."""
    if row.escalating_since is not None:
        return QColor("#f08c78")
    if row.heat >= 30:
        return QColor("#f7d9a8")
    return None


def priority_reason(row: ThreadRow, now: datetime) -> PriorityReason:
    waited = now - parse_iso(row.waiting_since) if row.needs_reply and row.waiting_since else None
    return PriorityReason(
        followers=row.author_followers,
        reshares_last_hour=row.reshares_last_hour,
        waited=waited,
        heat=row.heat,
        vip=row.author_vip,
        escalating=row.escalating_since is not None,
    )


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
        self._order = Order.PRIORITY
        self._rows: list[ThreadRow] = []
        self._exhausted = True

    # -- loading ---------------------------------------------------------------------------------------------------

    @property
    def view(self) -> View:
        return self._view

    @property
    def order(self) -> Order:
        return self._order

    def set_view(self, view: View, order: Order | None = None) -> None:
        self.beginResetModel()
        self._view = view
        if order is not None:
            self._order = order
        self._rows = list_threads(self._db, view, self._page_size, order=self._order)
        self._exhausted = len(self._rows) < self._page_size
        self.endResetModel()

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or not self._rows:
            return
        last = self._rows[-1]
        after = keyset_of(last, self._view, self._order)
        page = list_threads(self._db, self._view, self._page_size, after=after, order=self._order)
        self._exhausted = len(page) < self._page_size
        if page:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()

    def refresh(self) -> None:
        """Re-read the loaded rows in place, keeping persistent indexes (selection, current row) on their threads."""
        wanted = max(len(self._rows), self._page_size)
        fresh = list_threads(self._db, self._view, wanted, order=self._order)
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
        if role == Qt.ItemDataRole.BackgroundRole and column == COL_HEAT:
            return heat_colour(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (COL_INFLUENCE, COL_RESHARES, COL_HEAT, COL_WAITING):
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.FontRole and column == COL_AUTHOR and (row.needs_reply or row.unmentioned):
            return _font(row.needs_reply, row.unmentioned)  # italic: found by a brand watch, not a mention
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
        if column == COL_HEAT:
            return str(row.heat) if row.heat else ""
        if column == COL_WAITING:
            return age(row.waiting_since, self._clock()) if row.needs_reply else ""
        if column == COL_STATUS:
            return _STATUS_LABELS.get(row.status, row.status)
        return ""

    def _tooltip(self, row: ThreadRow, column: int) -> str | None:
        """Every cell starts with why the thread sits where it does, then what the cell itself is about."""
        reason = priority_reason(row, self._clock()).text()
        if column in (COL_AUTHOR, COL_INFLUENCE):
            detail = (
                f"{row.author_name} ({row.author_handle}) on {row.network}\n"
                f"{compact_number(row.author_followers)} follower{'' if row.author_followers == 1 else 's'} · "
                f"influence {row.author_influence} of 100"
            ) + (f"\n{UNMENTIONED_TEXT}" if row.unmentioned and column == COL_AUTHOR else "")
        elif column == COL_TEXT:
            detail = row.latest_text[:1000]
        elif column == COL_RESHARES:
            detail = f"{row.reshare_total} reshares and quotes across {row.post_count} posts"
        elif column == COL_HEAT:
            detail = (
                f"Heat {row.heat} of 100: {reshares_text(row.reshares_last_hour)} in the last hour, "
                f"up to {row.reach:,} people reached" + (" · escalating" if row.escalating_since else "")
            )
        elif column == COL_STATUS and row.unmentioned:
            detail = UNMENTIONED_TEXT
        else:
            return reason
        return f"{reason}\n\n{detail}"
