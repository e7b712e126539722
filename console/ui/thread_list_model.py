"""A lazy table model over one view of the inbox.

Rows arrive a page at a time through ``fetchMore`` (keyset paging, so page 500 costs the same as page 1), and a
live refresh re-reads only the rows already loaded. Refreshes move rows with ``layoutChanged`` and persistent
indexes, so the selection and scroll position survive new activity.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable
from datetime import datetime

import sqlite_utils
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QColor, QFont

from console.domain import parse_iso, utc_now
from console.domain.priority import PriorityReason
from console.domain.spread import reshares_text
from console.store import Order, ThreadRow, View
from console.store.queries import keyset_of, list_thread_keys, list_threads, threads_by_id
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


def _keyset(key: tuple[str, object]) -> tuple[object, object]:
    """``list_thread_keys`` gives ``(id, sort value)``; paging wants ``(sort value, id)``."""
    return key[1], key[0]


def _runs(positions: list[int]) -> list[tuple[int, int]]:
    """Sorted positions as (first, last) runs of consecutive numbers: one removal per run, not per row."""
    runs: list[tuple[int, int]] = []
    for n in positions:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


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
    """The rows of one view: every loaded row's thread id, and whole rows only for the pages being looked at.

    A view can hold a couple of hundred thousand threads and the owner can scroll through all of them, so the model
    keeps two things apart:

    * the **order**: the ids of the rows loaded so far, in view order (``fetchMore`` extends it by keyset, reading
      ids alone from the view's index, in chunks that grow with the list so scrolling to the end of a long view
      costs a few dozen re-layouts, not thousands);
    * the **rows**: whole ``ThreadRow`` objects for at most ``cached_rows`` threads, read a page at a time by id
      when the view paints them and forgotten oldest first.

    A live ``refresh`` re-reads the order of the head, about the first ``HEAD_ROWS`` rows, where new activity
    lands: every row of the view down to the head's last row, so new arrivals push the others down rather than
    out. It forgets every cached row, so the visible ones are read again as they are painted. Rows further down
    keep the order they were read in until the view is loaded again (a thread with new activity leaves its old
    place for the top, and one that sinks below the head waits at the top of those rows); a row found to have left
    the view when its page is read is taken out of the list.
    Selection and current row follow their threads through every change (persistent indexes), and when nothing
    moved no re-layout happens at all, just a repaint.
    """

    HEAD_ROWS = 2000
    MAX_CHUNK = 5000

    def __init__(
        self,
        db: sqlite_utils.Database,
        *,
        page_size: int = 100,
        cached_rows: int = 3000,
        clock: Callable[[], datetime] = utc_now,
        parent: object = None,
    ) -> None:
        super().__init__(parent)
        self._db = db
        self._page_size = page_size
        self._cached_rows = cached_rows
        self._clock = clock
        self._view = View()
        self._order = Order.PRIORITY
        self._ids: list[str] = []
        self._cache: dict[str, ThreadRow] = {}  # the cache, oldest first
        self._missing: set[str] = set()  # ids whose page was read but who are no longer in the view
        self._tail_key: tuple[object, object] | None = None  # keyset of the last loaded row: fetchMore goes on after it
        # The head: the first ``_head_len`` rows, every row of the view down to the one whose keyset is ``_head_key``
        # (a refresh re-reads exactly that range, so rows pushed down by new arrivals stay in it).
        self._head_len = 0
        self._head_key: tuple[object, object] | None = None
        self._exhausted = True
        self.pages_read = 0  # pages of whole rows read from the store (for tests and benchmarks)

    # -- loading ---------------------------------------------------------------------------------------------------

    @property
    def view(self) -> View:
        return self._view

    @property
    def order(self) -> Order:
        return self._order

    @property
    def cached_row_count(self) -> int:
        """Whole rows held in memory right now (bounded by ``cached_rows``, whatever the list's length)."""
        return len(self._cache)

    def set_view(self, view: View, order: Order | None = None) -> None:
        self.beginResetModel()
        self._view = view
        if order is not None:
            self._order = order
        page = list_threads(self._db, view, self._page_size, order=self._order)
        self._cache.clear()
        self._missing.clear()
        self._ids = [row.id for row in page]
        self._remember(page)
        self._tail_key = keyset_of(page[-1], view, self._order) if page else None
        self._head_len, self._head_key = len(page), self._tail_key
        self._exhausted = len(page) < self._page_size
        self.endResetModel()

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted:
            return
        chunk = min(max(self._page_size, len(self._ids)), self.MAX_CHUNK)
        keys = list_thread_keys(self._db, self._view, chunk, after=self._tail_key, order=self._order)
        self._exhausted = len(keys) < chunk
        if not keys:
            return
        self._tail_key = _keyset(keys[-1])
        known = set(self._ids)
        fresh = [key for key in keys if key[0] not in known]  # not one that moved down since it was loaded
        if not fresh:
            return
        if self._head_len == len(self._ids) and self._head_len < self.HEAD_ROWS:
            grow = min(self.HEAD_ROWS - self._head_len, len(fresh))  # still short: the head takes them
            self._head_len += grow
            self._head_key = _keyset(fresh[grow - 1])
        start = len(self._ids)
        self.beginInsertRows(QModelIndex(), start, start + len(fresh) - 1)
        self._ids.extend(key[0] for key in fresh)
        self.endInsertRows()

    def refresh(self) -> None:
        """Re-read the head of the list (every row down to the head's last one, new arrivals included; the whole
        view when it is all loaded) and forget cached rows, keeping the selection on its threads."""
        old_ids, head = self._ids, self._head_len
        old_tail = old_ids[head:]
        cap = max(self.HEAD_ROWS, head) + self.HEAD_ROWS
        whole = self._head_key is None or (not old_tail and self._exhausted)  # all of it is loaded: read all again
        until = None if whole else self._head_key
        keys = list_thread_keys(self._db, self._view, cap, order=self._order, until=until)
        fresh = [key[0] for key in keys]
        overflow = len(keys) >= cap  # a flood of new threads: the list restarts from them, the rest by fetchMore
        tail: list[str] = [] if overflow else old_tail
        removed_from_tail: list[int] = []  # offsets in the tail of rows that moved up into the head
        moved_down: list[str] = []  # head rows now sorting below the head, still in the view
        if tail:
            in_fresh_set = set(fresh)
            arrived = in_fresh_set.difference(old_ids[:head])
            if arrived:
                removed_from_tail = [n for n, thread_id in enumerate(tail) if thread_id in arrived]
                gone = set(removed_from_tail)
                tail = [thread_id for n, thread_id in enumerate(tail) if n not in gone]
            left_head = [thread_id for thread_id in old_ids[:head] if thread_id not in in_fresh_set]
            if left_head:
                # Their place among the rows below is unknown (only ids are kept there): they go first, not away.
                still = threads_by_id(self._db, left_head, self._view)
                moved_down = [thread_id for thread_id in left_head if thread_id in still]
        new_ids = fresh + moved_down + tail
        if len(keys) > self.HEAD_ROWS:  # the head stays a bounded read; the rows after it join the tail
            self._head_len, self._head_key = self.HEAD_ROWS, _keyset(keys[self.HEAD_ROWS - 1])
        elif keys:
            self._head_len, self._head_key = len(keys), _keyset(keys[-1])
        else:
            self._head_len = 0  # the head's key (if any) still marks where it ended
        if not tail:
            self._tail_key = _keyset(keys[-1]) if keys else self._tail_key
        if whole:
            self._exhausted = not overflow
        elif self._exhausted and self._tail_key is not None:
            # A thread may have joined below the last loaded row (a low priority, an old thread reopened).
            beyond = list_thread_keys(self._db, self._view, 1, after=self._tail_key, order=self._order)
            self._exhausted = not beyond
        self._cache.clear()
        self._missing.clear()
        if new_ids != old_ids:
            placed = {thread_id: n for n, thread_id in enumerate(new_ids[: len(fresh) + len(moved_down)])}
            tail_start = len(fresh) + len(moved_down)

            def new_position(old_row: int) -> int | None:
                moved = placed.get(old_ids[old_row])
                if moved is not None or not tail or old_row < head:
                    return moved
                offset = old_row - head  # still in the tail, shifted up past the rows that moved to the head
                return tail_start + offset - bisect.bisect_left(removed_from_tail, offset)

            self._relayout(new_ids, new_position)
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, len(COLUMNS) - 1))

    def _relayout(self, new_ids: list[str], new_position: Callable[[int], int | None]) -> None:
        """Move to ``new_ids``: rows added at the end, one layout change carrying the persistent indexes
        (selection, current row) to their threads' new places (``new_position`` of their old row), rows dropped
        from the end. A layout change must keep the row count, hence the order."""
        old_count, new_count = len(self._ids), len(new_ids)
        if new_count > old_count:
            self.beginInsertRows(QModelIndex(), old_count, new_count - 1)
            self._ids = self._ids + new_ids[old_count:]  # in place only until the layout change below
            self.endInsertRows()
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        replacements = []
        for index in persistent:
            target = new_position(index.row()) if index.row() < old_count else None
            replacements.append(QModelIndex() if target is None else self.index(target, index.column()))
        # Departing rows wait at the end (so the count holds) and leave just after.
        self._ids = new_ids + ["" for _ in range(old_count - new_count)]
        self.changePersistentIndexList(persistent, replacements)
        self.layoutChanged.emit()
        if new_count < old_count:
            self.beginRemoveRows(QModelIndex(), new_count, old_count - 1)
            self._ids = new_ids
            self.endRemoveRows()

    # -- rows ------------------------------------------------------------------------------------------------------

    def _row(self, position: int) -> ThreadRow | None:
        thread_id = self._ids[position]
        row = self._cache.get(thread_id)
        if row is None and thread_id and thread_id not in self._missing:  # "" holds a departing row's place
            self._read_page(position)
            row = self._cache.get(thread_id)
        return row

    def _read_page(self, position: int) -> None:
        """Read the whole rows of the page around ``position``; ids no longer in the view are queued to leave."""
        start = position - position % self._page_size
        wanted = self._ids[start : start + self._page_size]
        found = threads_by_id(self._db, wanted, self._view)
        self.pages_read += 1
        self._remember(found.values())
        missing = [thread_id for thread_id in wanted if thread_id not in found]
        if missing:
            if not self._missing:
                QTimer.singleShot(0, self, self._drop_missing)  # not while the view is painting
            self._missing.update(missing)

    def _remember(self, rows: Iterable[ThreadRow]) -> None:
        cache = self._cache
        for row in rows:
            cache[row.id] = row
        while len(cache) > self._cached_rows:
            del cache[next(iter(cache))]

    def _drop_missing(self) -> None:
        """Take out rows found to have left the view (done, snoozed, removed with their account)."""
        missing, self._missing = self._missing, set()
        positions = [n for n, thread_id in enumerate(self._ids) if thread_id in missing]
        for first, last in reversed(_runs(positions)):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._ids[first : last + 1]
            self.endRemoveRows()

    # -- lookups ---------------------------------------------------------------------------------------------------

    def thread_at(self, row: int) -> ThreadRow | None:
        return self._row(row) if 0 <= row < len(self._ids) else None

    def row_of(self, thread_id: str) -> int | None:
        try:
            return self._ids.index(thread_id)
        except ValueError:
            return None

    # -- Qt model API ----------------------------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        # Never defer to super().headerData: see tests/ui/test_pyside_regression.py.
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.row() >= len(self._ids):
            return None
        if role == ThreadIdRole:
            return self._ids[index.row()]
        row = self._row(index.row())
        if row is None:
            return None
        column = index.column()
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
