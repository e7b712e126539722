"""The main window: views on the left, the thread list in the middle, the selected conversation on the right."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QSplitter,
    QToolBar,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from console.domain import Account, utc_now
from console.services.actions import InboxActions
from console.domain.spread import DEFAULT_THRESHOLD
from console.store import ChangeSet, Inbox, Order, View, ViewKind
from console.store.spread import Escalation
from console.sync import NETWORK_NAMES, AccountStatus, SyncState
from console.store.queries import get_thread
from console.store.stats import daily_activity, thread_reshare_series
from console.ui.charts import InboxActivityChart, ThreadReshareChart
from console.ui.charts_dialog import ChartDialog
from console.ui.composer import Composer
from console.ui import export_actions
from console.ui.escalation_notice import DesktopNotifier, EscalationBanner
from console.ui.icons import app_icon
from console.ui.sidebar import Sidebar
from console.ui.sidebar_counts import BackgroundCounts
from console.ui.tasks import run_task
from console.ui.thread_list_model import (
    COL_AUTHOR,
    COL_HEAT,
    COL_INFLUENCE,
    COL_RESHARES,
    COL_STATUS,
    COL_TEXT,
    COL_WAITING,
    ThreadListModel,
)
from console.ui.thread_view import ThreadView

if TYPE_CHECKING:
    from console.services.accounts import AccountService
    from console.services.outbox import OutboxService
    from console.services.people import PeopleService
    from console.services.watches import WatchService
    from console.ui.watches_dialog import WatchesDialog
    from console.ui.author_panel import AuthorPanel
    from console.store.outbox import OutboxItem
    from console.ui.composer_canned import CannedStore
    from console.ui.accounts_dialog import AccountsDialog

REFRESH_DELAY_MS = 150
SEARCH_DELAY_MS = 250
AGE_TICK_MS = 30_000
COLUMN_WIDTHS = {COL_AUTHOR: 170, COL_INFLUENCE: 70, COL_RESHARES: 70, COL_HEAT: 50, COL_WAITING: 70, COL_STATUS: 64}
HEADER_KEY = "window/threadListHeader2"  # 2: the Heat column was added
ORDER_LABELS = {Order.PRIORITY: "Most urgent first", Order.LATEST: "Latest first"}

_STATE_TEXT = {
    SyncState.IDLE: "waiting",
    SyncState.SYNCING: "syncing…",
    SyncState.OK: "up to date",
    SyncState.ERROR: "problem",
    SyncState.NEEDS_RECONNECT: "needs reconnecting",
}


class MainWindow(QMainWindow):
    closed = Signal()
    thresholdChanged = Signal(int)  # the owner tuned the escalation threshold

    def __init__(
        self,
        reader: Inbox,
        actions: InboxActions,
        *,
        settings: QSettings,
        clock: Callable[[], datetime] = utc_now,
        title_suffix: str = "",
        accounts: AccountService | None = None,
        outbox: OutboxService | None = None,
        canned: CannedStore | None = None,
        people: PeopleService | None = None,
        watches: WatchService | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._reader = reader
        self._actions = actions
        self._account_service = accounts
        self._accounts_dialog: AccountsDialog | None = None
        self._settings = settings
        self._clock = clock
        self._pending: set[str] = set()
        self._status_labels: dict[str, QLabel] = {}
        self._last_status: dict[str, AccountStatus] = {}
        self.setWindowTitle(f"Tend{title_suffix}")
        self.setWindowIcon(app_icon())
        self.setObjectName("mainWindow")

        # Badge counts cost tens of milliseconds at a million posts: counted off the Qt thread when the inbox is a file.
        self._counts = BackgroundCounts(Path(reader.path), parent=self) if reader.path else None
        self.sidebar = Sidebar(reader.db, counts=self._counts)
        self.model = ThreadListModel(reader.db, clock=clock, parent=self)
        self.thread_list = self._make_thread_list()
        self.thread_view = ThreadView(reader.db, clock=clock)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText("Search messages and people   ( / )")
        self.search_box.setClearButtonEnabled(True)
        self.message_label = QLabel()
        self.message_label.setObjectName("messageLabel")

        self.order_box = QComboBox()
        self.order_box.setObjectName("orderBox")
        self.order_box.setToolTip(
            "Most urgent first: escalating conversations, then heat, the customer's influence, VIP and how long\n"
            "they have waited (from your opening time if they wrote while you were closed) decide the order of\n"
            "Needs reply; Escalating is hottest first. Latest first: newest activity on top."
        )
        for order, label in ORDER_LABELS.items():
            self.order_box.addItem(label, order.value)
        self.escalation_threshold = DEFAULT_THRESHOLD

        toolbar = QToolBar("Search")
        toolbar.setObjectName("searchToolbar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.search_box)
        toolbar.addWidget(self.order_box)
        self.addToolBar(toolbar)
        self.accounts_action = QAction("&Accounts…", self)
        self.accounts_action.setObjectName("accountsAction")
        self.accounts_action.setEnabled(accounts is not None)
        self.accounts_action.triggered.connect(self.show_accounts)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.accounts_action)
        self._watches = watches
        self._watches_dialog: WatchesDialog | None = None
        self.watches_action = QAction("&Brand watch…", self)
        self.watches_action.setObjectName("watchesAction")
        self.watches_action.setToolTip("Find posts that talk about the business without tagging it")
        self.watches_action.setEnabled(watches is not None)
        self.watches_action.triggered.connect(self.show_watches_dialog)
        file_menu.addAction(self.watches_action)
        if watches is not None:
            watches.on_changes.append(self.apply_changes)
        file_menu.addSeparator()
        file_menu.addAction("Export this view…", self.export_current_view)
        file_menu.addAction("Export this conversation…", self.export_current_thread)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction("Inbox activity chart…", self.show_activity_chart)
        view_menu.addAction("Escalation threshold…", self.ask_escalation_threshold)
        if outbox is not None and canned is not None:
            replies_menu = self.menuBar().addMenu("&Replies")
            replies_menu.addAction("Held and failed replies…", self.show_outbox_attention)
            replies_menu.addAction("Canned replies…", lambda: self.composer and self.composer.open_canned_dialog())
            replies_menu.addAction("Reply settings…", lambda: self.composer and self.composer.open_reply_settings())

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.sidebar)
        self.banner = EscalationBanner()
        self.banner.openRequested.connect(self.open_thread)
        self.notifier = DesktopNotifier(app_icon(), self)
        self.notifier.openRequested.connect(self.open_thread)
        list_pane = QWidget()
        list_layout = QVBoxLayout(list_pane)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(self.banner)
        list_layout.addWidget(self.thread_list)
        self.splitter.addWidget(list_pane)
        self.composer: Composer | None = None
        self._outbox = outbox
        if outbox is not None and canned is not None:
            self.composer = Composer(reader, outbox, canned, clock=clock)
            self.composer.messageRequested.connect(self.show_message)
            self.thread_view.threadShown.connect(self.composer.set_thread)
            self.thread_view.postSelected.connect(self.composer.set_reply_target)
            self.conversation = QSplitter(Qt.Orientation.Vertical)
            self.conversation.setObjectName("conversationSplitter")
            self.conversation.addWidget(self.thread_view)
            self.conversation.addWidget(self.composer)
            self.conversation.setStretchFactor(0, 3)
            self.conversation.setStretchFactor(1, 1)
            self.splitter.addWidget(self.conversation)
        else:
            self.splitter.addWidget(self.thread_view)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 4)
        self.splitter.setSizes([190, 560, 650])
        self.setCentralWidget(self.splitter)
        self.statusBar().addWidget(self.message_label, 1)

        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self._refresh)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_view)
        self._age_timer = QTimer(self, interval=AGE_TICK_MS)
        self._age_timer.timeout.connect(self._refresh)
        self._age_timer.start()

        self.sidebar.viewSelected.connect(lambda _view: self._apply_view())
        self.search_box.textChanged.connect(lambda _text: self._search_timer.start())
        self.search_box.returnPressed.connect(self._apply_view)
        self.order_box.currentIndexChanged.connect(self._order_changed)
        self.thread_view.doneRequested.connect(self.mark_done)
        self.thread_view.reopenRequested.connect(self.reopen)
        self.thread_view.snoozeRequested.connect(self.snooze)
        self.thread_view.chartRequested.connect(self.show_thread_chart)
        self._thread_chart: tuple[str, ThreadReshareChart, ChartDialog] | None = None
        self._people = people
        self.author_panel: AuthorPanel | None = None
        self.thread_view.authorRequested.connect(self.show_author)
        self.thread_view.author_button.setVisible(people is not None)
        if people is not None:
            people.on_changes.append(self.apply_changes)
        actions.on_changes.append(self.apply_changes)
        self._install_shortcuts()
        self._restore_settings()
        self._apply_view()

    # -- construction ----------------------------------------------------------------------------------------------

    def _make_thread_list(self) -> QTreeView:
        view = QTreeView()
        view.setObjectName("threadList")
        view.setModel(self.model)
        view.setRootIsDecorated(False)
        view.setUniformRowHeights(True)
        view.setAllColumnsShowFocus(True)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = view.header()
        header.setStretchLastSection(False)
        for column, width in COLUMN_WIDTHS.items():
            header.resizeSection(column, width)
        header.setSectionResizeMode(COL_TEXT, QHeaderView.ResizeMode.Stretch)
        view.selectionModel().currentRowChanged.connect(self._current_row_changed)
        view.activated.connect(lambda _index: self.focus_thread())
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._thread_list_menu)
        return view

    def _install_shortcuts(self) -> None:
        bindings: list[tuple[str, Callable[[], None]]] = [
            ("J", lambda: self.move_selection(1)),
            ("K", lambda: self.move_selection(-1)),
            ("/", self.focus_search),
            ("E", self.mark_current_done),
            ("Escape", self._escape),
        ]
        for key, slot in bindings:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(slot)

    def set_accounts(self, accounts: list[Account]) -> None:
        """Show exactly these accounts in the sidebar and the status bar (added and removed ones included)."""
        self.sidebar.set_accounts(accounts)
        current = {a.id for a in accounts}
        for account_id in [i for i in self._status_labels if i not in current]:
            label = self._status_labels.pop(account_id)
            self.statusBar().removeWidget(label)
            label.deleteLater()
        for account in accounts:
            if account.id not in self._status_labels:
                label = QLabel()
                label.setObjectName(f"status-{account.id}")
                name = f"{NETWORK_NAMES.get(account.network, account.network)} {account.handle}"
                label.setProperty("accountName", name)
                label.setToolTip(name)
                label.setText(f"{name}: waiting")
                self._status_labels[account.id] = label
                self.statusBar().addPermanentWidget(label)
                if account.id in self._last_status:  # a sync that reported before its label existed
                    self.show_status(self._last_status[account.id])

    def show_accounts(self) -> AccountsDialog | None:
        """The Accounts dialog (one, kept): adding or removing there updates the sidebar and the list at once."""
        if self._account_service is None:
            return None
        if self._accounts_dialog is None:
            from console.ui.accounts_dialog import AccountsDialog

            self._accounts_dialog = AccountsDialog(self._account_service, parent=self)
            self._accounts_dialog.accountsChanged.connect(self.reload_accounts)
        elif self._accounts_dialog.isVisible():
            self._accounts_dialog.raise_()  # already open behind the window: bring it forward
            self._accounts_dialog.activateWindow()
            return self._accounts_dialog
        else:
            self._accounts_dialog.reload()
        self._accounts_dialog.show()
        return self._accounts_dialog

    def show_watches_dialog(self) -> WatchesDialog | None:
        """File ▸ Brand watch…: the words to search the networks for (one dialog, kept, showing what is stored)."""
        if self._watches is None:
            return None
        if self._watches_dialog is None:
            from console.ui.watches_dialog import WatchesDialog

            self._watches_dialog = WatchesDialog(self._reader.db, self._watches, parent=self)
            self._watches_dialog.saved.connect(
                lambda watch: self.show_message(
                    f"Brand watch saved: {len(watch.terms)} word{'' if len(watch.terms) == 1 else 's'} to look for."
                    if watch.active else "Brand watch off: no words to look for."))
        elif not self._watches_dialog.isVisible():
            self._watches_dialog.reload()
        self._watches_dialog.show()
        self._watches_dialog.raise_()
        self._watches_dialog.activateWindow()
        return self._watches_dialog

    def reload_accounts(self) -> None:
        self.set_accounts(self._reader.accounts())
        self.apply_changes(ChangeSet())  # a removed account's conversations may have gone

    # -- views and selection ---------------------------------------------------------------------------------------

    def current_view(self) -> View:
        text = self.search_box.text().strip()
        if text:
            return View(ViewKind.ALL, search=text)
        return self.sidebar.current_view()

    def _order_changed(self, _index: int) -> None:
        self._settings.setValue("window/order", self.current_order().value)  # remembered at once, not only on close
        self._apply_view()

    def current_order(self) -> Order:
        return Order(self.order_box.currentData())

    def _apply_view(self) -> None:
        self._search_timer.stop()
        selected = self.selected_thread_id()
        self.model.set_view(self.current_view(), self.current_order())
        row = self.model.row_of(selected) if selected else None
        self._select_row(row if row is not None else 0)

    def selected_thread_id(self) -> str | None:
        index = self.thread_list.currentIndex()
        thread = self.model.thread_at(index.row()) if index.isValid() else None
        return thread.id if thread else None

    def _select_row(self, row: int) -> None:
        if self.model.rowCount() == 0:
            self.thread_view.show_thread(None)
            return
        row = max(0, min(row, self.model.rowCount() - 1))
        index = self.model.index(row, 0)
        self.thread_list.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self.thread_list.scrollTo(index)

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        thread = self.model.thread_at(current.row()) if current.isValid() else None
        self.thread_view.show_thread(thread.id if thread else None)

    def move_selection(self, step: int) -> None:
        current = self.thread_list.currentIndex()
        row = current.row() + step if current.isValid() else 0
        if row >= self.model.rowCount() and self.model.canFetchMore(QModelIndex()):
            self.model.fetchMore(QModelIndex())
        self._select_row(row)
        self.thread_list.setFocus()

    def focus_thread(self) -> None:
        self.thread_view.tree.setFocus()
        if self.thread_view.tree.currentItem() is None and self.thread_view.tree.topLevelItemCount():
            self.thread_view.tree.setCurrentItem(self.thread_view.tree.topLevelItem(0))

    def focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    def _escape(self) -> None:
        if self.search_box.hasFocus() or self.search_box.text():
            self.search_box.clear()
            self._apply_view()
            self.thread_list.setFocus()

    def open_thread(self, thread_id: str) -> None:
        """Bring a conversation to the front (a notification was clicked): in the list if it is there, else in the
        Escalating view, and shown in the thread view either way."""
        self.showNormal()
        self.raise_()
        self.activateWindow()
        if self.search_box.text():
            self.search_box.clear()
            self._apply_view()
        row = self.model.row_of(thread_id)
        if row is None:
            self.sidebar.select_view(View(ViewKind.ESCALATING))
            row = self.model.row_of(thread_id)
        if row is not None:
            self._select_row(row)
        else:
            self.thread_view.show_thread(thread_id)

    # -- people ----------------------------------------------------------------------------------------------------

    def show_author(self, author_id: str) -> AuthorPanel | None:
        """The author panel (one, kept and moved from person to person)."""
        if self._people is None:
            return None
        if self.author_panel is None:
            from console.ui.author_panel import AuthorPanel

            self.author_panel = AuthorPanel(self._reader.db, self._people, watches=self._watches, parent=self)
            self.author_panel.threadRequested.connect(self.open_thread_anywhere)
        self.author_panel.show_author(author_id)
        return self.author_panel

    def open_thread_anywhere(self, thread_id: str) -> None:
        """A past conversation from the author panel may be done or snoozed: show it in All open/Done as needed."""
        if self.model.row_of(thread_id) is None:
            thread = get_thread(self._reader.db, thread_id)
            kind = {"done": ViewKind.DONE, "snoozed": ViewKind.SNOOZED}.get(thread.status if thread else "", ViewKind.OPEN)
            self.search_box.clear()
            self.sidebar.select_view(View(kind))
        self.open_thread(thread_id)

    def _thread_list_menu(self, position: QPoint) -> None:
        index = self.thread_list.indexAt(position)
        thread = self.model.thread_at(index.row()) if index.isValid() else None
        if thread is None:
            return
        menu = QMenu(self)
        if self._people is not None and thread.author_id:
            menu.addAction("About this customer…", lambda: self.show_author(thread.author_id or ""))
        menu.addAction("Reshares chart…", lambda: self.show_thread_chart(thread.id))
        menu.addAction("Export this conversation…", lambda: export_actions.export_thread(
            self, self._reader, thread.id, on_done=self.show_message))
        menu.popup(self.thread_list.viewport().mapToGlobal(position))

    # -- charts and export -----------------------------------------------------------------------------------------

    def show_thread_chart(self, thread_id: str) -> ChartDialog:
        """A conversation's reshares over time; while open it follows new counts as they arrive."""
        if self._thread_chart is not None:
            self._thread_chart[2].close()
        chart = ThreadReshareChart()
        chart.set_series(thread_reshare_series(self._reader.db, thread_id))
        thread = self.thread_view.shown_thread
        who = (thread.author_name or thread.author_handle) if thread and thread.id == thread_id else "conversation"
        dialog = ChartDialog(f"Reshares over time: {who}", chart, parent=self)
        dialog.setObjectName("threadChartDialog")
        self._thread_chart = (thread_id, chart, dialog)
        dialog.show()
        return dialog

    def show_activity_chart(self) -> ChartDialog:
        """Messages received and answered per day, and the median time to a first reply, over two weeks."""
        chart = InboxActivityChart()
        chart.set_days(daily_activity(self._reader.db, 14, self._clock()))
        dialog = ChartDialog("Inbox activity, last 14 days", chart, parent=self)
        dialog.setObjectName("activityChartDialog")
        dialog.show()
        return dialog

    def export_current_view(self) -> None:
        export_actions.export_view(
            self, self._reader, self.current_view(), on_done=self.show_message, order=self.current_order()
        )

    def export_current_thread(self) -> None:
        thread_id = self.thread_view.thread_id
        if thread_id is None:
            self.show_message("Select a conversation to export first.")
            return
        export_actions.export_thread(self, self._reader, thread_id, on_done=self.show_message)

    # -- escalations -----------------------------------------------------------------------------------------------

    def notify_escalation(self, escalation: Escalation) -> None:
        """A radar listener: one banner and one desktop notification per escalation."""
        self.banner.show_escalation(escalation)
        self.notifier.notify(escalation)
        self.apply_changes(ChangeSet(frozenset({escalation.thread_id})))

    def ask_escalation_threshold(self) -> None:
        value, accepted = QInputDialog.getInt(
            self,
            "Escalation threshold",
            "Warn me when a conversation's heat reaches (0-100; lower warns earlier):",
            self.escalation_threshold,
            5,
            100,
        )
        if accepted:
            self.set_escalation_threshold(value)

    def set_escalation_threshold(self, value: int) -> None:
        self.escalation_threshold = value
        self._settings.setValue("radar/threshold", value)
        self.thresholdChanged.emit(value)

    # -- live updates ----------------------------------------------------------------------------------------------

    def apply_changes(self, changes: ChangeSet) -> None:
        """Coalesce change notifications; many sync pages in a burst cost one refresh."""
        self._pending |= changes.thread_ids
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _refresh(self) -> None:
        changed, self._pending = self._pending, set()
        current_row = self.thread_list.currentIndex().row()
        shown = self.thread_view.thread_id
        scroll = self.thread_list.verticalScrollBar().value()
        self.model.refresh()
        self.sidebar.refresh_counts()
        self.thread_list.verticalScrollBar().setValue(scroll)
        if not self.thread_list.currentIndex().isValid():
            self._select_row(current_row if current_row >= 0 else 0)
        elif shown is not None and shown in changed:
            self.thread_view.show_thread(shown)
        if self.author_panel is not None:
            self.author_panel.apply_changes(ChangeSet(frozenset(changed)))
        if self._thread_chart is not None and self._thread_chart[2].isVisible() and self._thread_chart[0] in changed:
            self._thread_chart[1].set_series(thread_reshare_series(self._reader.db, self._thread_chart[0]))
        dialog = getattr(self, "attention_dialog", None)
        if dialog is not None and dialog.isVisible():
            dialog.reload()

    # -- owner actions ---------------------------------------------------------------------------------------------

    def mark_current_done(self) -> None:
        thread_id = self.thread_view.thread_id
        if thread_id is not None:
            self.mark_done(thread_id)

    def mark_done(self, thread_id: str) -> None:
        run_task(self._actions.mark_done(thread_id), on_error=self.show_message)

    def reopen(self, thread_id: str) -> None:
        run_task(self._actions.reopen(thread_id), on_error=self.show_message)

    def snooze(self, thread_id: str, until: datetime) -> None:
        until_text = until.astimezone().strftime("%a %H:%M")
        run_task(
            self._actions.snooze(thread_id, until),
            on_error=self.show_message,
            on_done=lambda: self.show_message(f"Snoozed until {until_text}."),
        )

    # -- status ----------------------------------------------------------------------------------------------------

    def show_status(self, status: AccountStatus) -> None:
        self._last_status[status.account_id] = status
        label = self._status_labels.get(status.account_id)
        if label is None:
            return
        name = label.property("accountName")
        label.setText(f"{name}: {_STATE_TEXT[status.state]}")
        label.setToolTip(f"{name}\n{status.message}")
        if status.state in (SyncState.ERROR, SyncState.NEEDS_RECONNECT):
            label.setStyleSheet("color: #a33;")
            self.show_message(f"{status.label}: {status.message}")
        else:
            label.setStyleSheet("")

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)

    def show_held(self, items: list[OutboxItem]) -> None:
        """After a restart: replies that were waiting in their undo window are held, never sent behind the owner's
        back. Say so; each shows with Send and Undo in its conversation's composer and in the held-replies list."""
        if not items:
            return
        count = len(items)
        self.show_message(
            f"{count} {'reply was' if count == 1 else 'replies were'} not sent before Tend closed and "
            f"{'is' if count == 1 else 'are'} held for you: open Replies ▸ Held and failed replies to send or undo."
        )
        self.show_outbox_attention()

    def show_outbox_attention(self) -> None:
        """Every held or failed reply, each with Send/Retry and Undo."""
        if self._outbox is None or self.composer is None:
            return
        from console.ui.composer_attention import AttentionDialog

        dialog = getattr(self, "attention_dialog", None)
        if dialog is None:
            dialog = self.attention_dialog = AttentionDialog(self._reader, self.composer, clock=self._clock, parent=self)
        dialog.reload()
        dialog.show()

    # -- settings --------------------------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        geometry = self._settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 820)
        state = self._settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        splitter = self._settings.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        header = self._settings.value(HEADER_KEY)
        if header is not None:
            self.thread_list.header().restoreState(header)
        order = self._settings.value("window/order")
        if order in {o.value for o in Order}:
            self.order_box.setCurrentIndex(self.order_box.findData(order))
        threshold = self._settings.value("radar/threshold")
        if threshold is not None and str(threshold).isdigit():
            self.escalation_threshold = int(threshold)
        kind = self._settings.value("window/view")
        if kind in {k.value for k in ViewKind if k is not ViewKind.ALL and k is not ViewKind.ACCOUNT}:
            self.sidebar.select_view(View(ViewKind(kind)))

    def save_settings(self) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue("window/state", self.saveState())
        self._settings.setValue("window/splitter", self.splitter.saveState())
        self._settings.setValue(HEADER_KEY, self.thread_list.header().saveState())
        self._settings.setValue("window/order", self.current_order().value)
        self._settings.setValue("window/view", self.sidebar.current_view().kind.value)
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        if self.composer is not None:
            self.composer.shutdown()
        if self.author_panel is not None:
            self.author_panel.save_note()  # a note typed just before quitting is kept
        for timer in (self._age_timer, self._refresh_timer, self._search_timer):
            timer.stop()  # nothing to refresh once closed (and the reader may be closing too)
        if self._counts is not None:
            self._counts.close()
        event.accept()
        self.closed.emit()
