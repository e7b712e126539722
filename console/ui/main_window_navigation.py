"""Which conversations the thread list shows, which one is open, and how the owner moves between them.

The sidebar, the search box and the order box together choose the list; the list's current row chooses what the
thread view shows. Keeping that in one place is what lets a live refresh, a search or a clicked notification move
the list without losing the owner's place.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import sqlite_utils
from PySide6.QtCore import QItemSelectionModel, QModelIndex, QObject, QTimer
from PySide6.QtWidgets import QComboBox, QLineEdit, QTreeView

from console.store import Order, View, ViewKind
from console.store.queries import get_thread
from console.ui.sidebar import Sidebar
from console.ui.thread_list_model import ThreadListModel
from console.ui.thread_view import ThreadView

SEARCH_DELAY_MS = 250  # typing pauses this long before the list is searched, so each keystroke is not a query
VIEW_FOR_STATUS = {"done": ViewKind.DONE, "snoozed": ViewKind.SNOOZED}  # any other status is in All open


class ThreadNavigator:
    """Drives the list and the thread view from the owner's choices; the window only forwards its public methods.

    ``remember_order`` is called as soon as the owner picks another order, so it is kept even if Tend is killed.
    """

    def __init__(
        self,
        timer_parent: QObject,
        db: sqlite_utils.Database,
        *,
        sidebar: Sidebar,
        search_box: QLineEdit,
        order_box: QComboBox,
        model: ThreadListModel,
        thread_list: QTreeView,
        thread_view: ThreadView,
        remember_order: Callable[[Order], None],
    ) -> None:
        self._db = db
        self._sidebar = sidebar
        self._search_box = search_box
        self._order_box = order_box
        self._model = model
        self._thread_list = thread_list
        self._thread_view = thread_view
        self._remember_order = remember_order
        self._search_timer = QTimer(timer_parent, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_view)
        thread_list.selectionModel().currentRowChanged.connect(self._current_row_changed)
        thread_list.activated.connect(lambda _index: self.focus_thread())  # Enter or double-click: read it
        sidebar.viewSelected.connect(lambda _view: self.apply_view())
        search_box.textChanged.connect(lambda _text: self._search_timer.start())
        search_box.returnPressed.connect(self.apply_view)
        order_box.currentIndexChanged.connect(self._order_changed)

    def stop(self) -> None:
        self._search_timer.stop()

    # -- the list ---------------------------------------------------------------------------------------------------

    def current_view(self) -> View:
        """A search looks through everything; without one, the sidebar's view."""
        text = self._search_box.text().strip()
        if text:
            return View(ViewKind.ALL, search=text)
        return self._sidebar.current_view()

    def current_order(self) -> Order:
        return Order(self._order_box.currentData())

    def _order_changed(self, _index: int) -> None:
        self._remember_order(self.current_order())  # remembered at once, not only on close
        self.apply_view()

    def apply_view(self) -> None:
        """List the current view; the selected conversation stays selected if it is still listed."""
        self._search_timer.stop()
        selected = self.selected_thread_id()
        self._model.set_view(self.current_view(), self.current_order())
        row = self._model.row_of(selected) if selected else None
        self.select_row(row if row is not None else 0)

    def refresh(self, changed: Collection[str]) -> None:
        """Re-read the list after live changes, keeping the scroll position and the selection where they were."""
        current_row = self._thread_list.currentIndex().row()
        shown = self._thread_view.thread_id
        scroll = self._thread_list.verticalScrollBar().value()
        self._model.refresh()
        self._sidebar.refresh_counts()
        self._thread_list.verticalScrollBar().setValue(scroll)
        if not self._thread_list.currentIndex().isValid():
            self.select_row(current_row if current_row >= 0 else 0)
        elif shown is not None and shown in changed:
            self._thread_view.show_thread(shown)

    # -- the selection ----------------------------------------------------------------------------------------------

    def selected_thread_id(self) -> str | None:
        index = self._thread_list.currentIndex()
        thread = self._model.thread_at(index.row()) if index.isValid() else None
        return thread.id if thread else None

    def select_row(self, row: int) -> None:
        """Select ``row``, clamped to the list; an empty list empties the thread view."""
        if self._model.rowCount() == 0:
            self._thread_view.show_thread(None)
            return
        row = max(0, min(row, self._model.rowCount() - 1))
        index = self._model.index(row, 0)
        self._thread_list.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self._thread_list.scrollTo(index)

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        thread = self._model.thread_at(current.row()) if current.isValid() else None
        self._thread_view.show_thread(thread.id if thread else None)

    def move_selection(self, step: int) -> None:
        """J and K: stepping past the last loaded row loads the next page first, so J never stops at a page end."""
        current = self._thread_list.currentIndex()
        row = current.row() + step if current.isValid() else 0
        if row >= self._model.rowCount() and self._model.canFetchMore(QModelIndex()):
            self._model.fetchMore(QModelIndex())
        self.select_row(row)
        self._thread_list.setFocus()

    # -- focus ------------------------------------------------------------------------------------------------------

    def focus_thread(self) -> None:
        tree = self._thread_view.tree
        tree.setFocus()
        if tree.currentItem() is None and tree.topLevelItemCount():
            tree.setCurrentItem(tree.topLevelItem(0))

    def focus_search(self) -> None:
        self._search_box.setFocus()
        self._search_box.selectAll()

    def escape(self) -> None:
        """Escape leaves a search (back to the sidebar's view) and returns to the list."""
        if self._search_box.hasFocus() or self._search_box.text():
            self._search_box.clear()
            self.apply_view()
            self._thread_list.setFocus()

    # -- opening a given conversation -------------------------------------------------------------------------------

    def open_thread(self, thread_id: str) -> None:
        """Select it in the list if it is there, else in the Escalating view, and show it in the thread view either
        way (a notification's conversation may have cooled off since)."""
        if self._search_box.text():
            self._search_box.clear()
            self.apply_view()
        row = self._model.row_of(thread_id)
        if row is None:
            self._sidebar.select_view(View(ViewKind.ESCALATING))
            row = self._model.row_of(thread_id)
        if row is not None:
            self.select_row(row)
        else:
            self._thread_view.show_thread(thread_id)

    def list_view_holding(self, thread_id: str) -> None:
        """Switch to the view a conversation is in by its status (Done, Snoozed or All open) unless it is listed."""
        if self._model.row_of(thread_id) is None:
            thread = get_thread(self._db, thread_id)
            kind = VIEW_FOR_STATUS.get(thread.status if thread else "", ViewKind.OPEN)
            self._search_box.clear()
            self._sidebar.select_view(View(kind))
