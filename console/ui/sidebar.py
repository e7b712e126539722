"""The views on the left: Needs reply, Escalating, Unmentioned, All open, Snoozed, Done, and one entry per account,
with counts."""

from __future__ import annotations

import sqlite_utils
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from console.domain import Account
from console.store import View, ViewKind
from console.ui.icons import network_icon
from console.ui.sidebar_counts import BackgroundCounts, Counts, count

ViewRole = Qt.ItemDataRole.UserRole + 10

_VIEW_TIPS = {
    ViewKind.UNMENTIONED: "Open conversations found by a brand watch (File ▸ Brand watch…):\n"
    "people talking about the business without tagging it.",
}

_VIEW_LABELS = {
    ViewKind.NEEDS_REPLY: "Needs reply",
    ViewKind.ESCALATING: "Escalating",
    ViewKind.UNMENTIONED: "Unmentioned",
    ViewKind.OPEN: "All open",
    ViewKind.SNOOZED: "Snoozed",
    ViewKind.DONE: "Done",
}


class Sidebar(QTreeWidget):
    viewSelected = Signal(object)  # View

    def __init__(
        self, db: sqlite_utils.Database, parent: QWidget | None = None, *, counts: BackgroundCounts | None = None
    ) -> None:
        """``counts`` counts the badges off the Qt thread; without it they are counted here, on the Qt thread."""
        super().__init__(parent)
        self._db = db
        self._counts = counts
        if counts is not None:
            counts.ready.connect(self._show_counts)
        self.setObjectName("sidebar")
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self._view_items: dict[ViewKind, QTreeWidgetItem] = {}
        for kind, label in _VIEW_LABELS.items():
            item = QTreeWidgetItem([label])
            item.setData(0, ViewRole, View(kind))
            if kind in _VIEW_TIPS:
                item.setToolTip(0, _VIEW_TIPS[kind])
            self.addTopLevelItem(item)
            self._view_items[kind] = item
        self._accounts_header = QTreeWidgetItem(["Accounts"])
        self._accounts_header.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.addTopLevelItem(self._accounts_header)
        self._account_items: dict[str, QTreeWidgetItem] = {}
        self.currentItemChanged.connect(self._current_changed)
        self.setCurrentItem(self._view_items[ViewKind.NEEDS_REPLY])

    def set_accounts(self, accounts: list[Account]) -> None:
        """Show exactly these accounts: new ones are added, ones no longer listed (removed) disappear."""
        current = {a.id for a in accounts}
        for account_id in [i for i in self._account_items if i not in current]:
            item = self._account_items.pop(account_id)
            if self.currentItem() is item:
                self.setCurrentItem(self._view_items[ViewKind.NEEDS_REPLY])
            self._accounts_header.removeChild(item)
        for account in accounts:
            if account.id in self._account_items:
                continue
            item = QTreeWidgetItem([account.handle])
            item.setIcon(0, network_icon(account.network))
            item.setData(0, ViewRole, View(ViewKind.ACCOUNT, account_id=account.id))
            item.setToolTip(0, f"{account.display_name or account.handle} on {account.network} ({account.server_url})")
            self._accounts_header.addChild(item)
            self._account_items[account.id] = item
        self._accounts_header.setExpanded(True)
        self.refresh_counts()

    def refresh_counts(self) -> None:
        """Bring the badge numbers up to date: now, or when the background count is in."""
        if self._counts is not None:
            self._counts.request()
        else:
            self._show_counts(count(self._db))

    def _show_counts(self, counts: Counts) -> None:
        for kind, item in self._view_items.items():
            item.setText(0, f"{_VIEW_LABELS[kind]}  ({counts.views.get(kind, 0):,})")
        escalating = self._view_items[ViewKind.ESCALATING]
        escalating.setForeground(0, QBrush(QColor("#b3261e")) if counts.views.get(ViewKind.ESCALATING) else QBrush())
        for item in self._account_items.values():
            view: View = item.data(0, ViewRole)
            handle = item.text(0).split("  (")[0]
            item.setText(0, f"{handle}  ({counts.accounts.get(view.account_id or '', 0):,})")

    def current_view(self) -> View:
        item = self.currentItem()
        view = item.data(0, ViewRole) if item else None
        return view if isinstance(view, View) else View()

    def select_view(self, view: View) -> None:
        for item in [*self._view_items.values(), *self._account_items.values()]:
            if item.data(0, ViewRole) == view:
                self.setCurrentItem(item)
                return

    def _current_changed(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        view = current.data(0, ViewRole) if current else None
        if isinstance(view, View):
            self.viewSelected.emit(view)
