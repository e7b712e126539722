"""The main window: views on the left, the thread list in the middle, the selected conversation on the right.

The window builds and wires its parts and turns the owner's commands (menus, keys, buttons) into actions. The parts
live in their own modules: moving between views and conversations (``main_window_navigation``), the status bar
(``status_bar``), the dialogs it keeps (``main_window_dialogs``), the charts, the menus, the saved layout and the widget
set-up. The window keeps the names callers and tests already use, and forwards them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QSettings, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QInputDialog, QMainWindow, QWidget

from console.domain import Account, utc_now
from console.domain.spread import DEFAULT_THRESHOLD
from console.services.actions import InboxActions
from console.store import ChangeSet, Inbox, Order, View
from console.store.spread import Escalation
from console.sync import AccountStatus
from console.ui import export_actions
from console.ui import main_window_layout as layout
from console.ui.charts_dialog import ChartDialog
from console.ui.composer import Composer
from console.ui.escalation_notice import DesktopNotifier, EscalationBanner
from console.ui.icons import app_icon
from console.ui.main_window_charts import ChartWindows, ThreadChart
from console.ui.main_window_dialogs import KeptDialogs
from console.ui.main_window_menus import add_menus, popup_thread_menu
from console.ui.main_window_navigation import ThreadNavigator
from console.ui.main_window_settings import WindowSettings
from console.ui.sidebar import Sidebar
from console.ui.sidebar_counts import BackgroundCounts
from console.ui.status_bar import StatusBarReporter
from console.ui.tasks import run_task
from console.ui.thread_list_model import ThreadListModel
from console.ui.thread_view import ThreadView

if TYPE_CHECKING:
    from PySide6.QtWidgets import QLabel

    from console.services.accounts import AccountService
    from console.services.outbox import OutboxService
    from console.services.people import PeopleService
    from console.services.watches import WatchService
    from console.store.outbox import OutboxItem
    from console.ui.accounts_dialog import AccountsDialog
    from console.ui.author_panel import AuthorPanel
    from console.ui.composer_attention import AttentionDialog
    from console.ui.composer_canned import CannedStore
    from console.ui.watches_dialog import WatchesDialog

REFRESH_DELAY_MS = 150
AGE_TICK_MS = 30_000


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
        self._settings = WindowSettings(settings)
        self._clock = clock
        self._pending: set[str] = set()
        self.setWindowTitle(f"Tend{title_suffix}")
        self.setWindowIcon(app_icon())
        self.setObjectName("mainWindow")

        # Badge counts cost tens of milliseconds at a million posts: counted off the Qt thread when the inbox is a file.
        self._counts = BackgroundCounts(Path(reader.path), parent=self) if reader.path else None
        self.sidebar = Sidebar(reader.db, counts=self._counts)
        self.model = ThreadListModel(reader.db, clock=clock, parent=self)
        self.thread_list = layout.make_thread_list(self.model)
        self.thread_list.customContextMenuRequested.connect(self._thread_list_menu)
        self.thread_view = ThreadView(reader.db, clock=clock)
        self.search_box = layout.make_search_box()
        self.status_reporter = StatusBarReporter(self.statusBar())
        self.message_label = self.status_reporter.message_label
        self.order_box = layout.make_order_box()
        self._navigator = ThreadNavigator(
            self, reader.db, sidebar=self.sidebar, search_box=self.search_box, order_box=self.order_box,
            model=self.model, thread_list=self.thread_list, thread_view=self.thread_view,
            remember_order=self._settings.remember_order,
        )
        self.escalation_threshold = DEFAULT_THRESHOLD

        layout.add_search_toolbar(self, self.search_box, self.order_box)
        can_reply = outbox is not None and canned is not None
        menu = add_menus(self, has_accounts=accounts is not None, has_watches=watches is not None, has_replies=can_reply)
        self.accounts_action = menu.accounts
        self.watches_action = menu.watches
        if watches is not None:
            watches.on_changes.append(self.apply_changes)

        self.banner = EscalationBanner()
        self.banner.openRequested.connect(self.open_thread)
        self.notifier = DesktopNotifier(app_icon(), self)
        self.notifier.openRequested.connect(self.open_thread)
        self.composer: Composer | None = None
        conversation: QWidget = self.thread_view
        if outbox is not None and canned is not None:
            self.composer = Composer(reader, outbox, canned, clock=clock)
            self.composer.messageRequested.connect(self.show_message)
            self.thread_view.threadShown.connect(self.composer.set_thread)
            self.thread_view.postSelected.connect(self.composer.set_reply_target)
            conversation = self.conversation = layout.make_conversation(self.thread_view, self.composer)
        list_pane = layout.make_list_pane(self.banner, self.thread_list)
        self.splitter = layout.make_main_splitter(self.sidebar, list_pane, conversation)
        self.setCentralWidget(self.splitter)
        self._charts = ChartWindows(self, reader.db, self.thread_view, clock)
        self._dialogs = KeptDialogs(
            self, reader, clock=clock, accounts=accounts, watches=watches, people=people, composer=self.composer,
            on_accounts_changed=self.reload_accounts, on_message=self.show_message,
            on_open_thread=self.open_thread_anywhere,
        )

        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self._refresh)
        self._age_timer = QTimer(self, interval=AGE_TICK_MS)
        self._age_timer.timeout.connect(self._refresh)
        self._age_timer.start()

        self.thread_view.doneRequested.connect(self.mark_done)
        self.thread_view.reopenRequested.connect(self.reopen)
        self.thread_view.snoozeRequested.connect(self.snooze)
        self.thread_view.chartRequested.connect(self.show_thread_chart)
        self.thread_view.authorRequested.connect(self.show_author)
        self.thread_view.author_button.setVisible(people is not None)
        if people is not None:
            people.on_changes.append(self.apply_changes)
        actions.on_changes.append(self.apply_changes)
        self._install_shortcuts()
        self._restore_settings()
        self._navigator.apply_view()

    def _install_shortcuts(self) -> None:
        bindings: list[tuple[str, Callable[[], None]]] = [
            ("J", lambda: self.move_selection(1)),
            ("K", lambda: self.move_selection(-1)),
            ("/", self.focus_search),
            ("E", self.mark_current_done),
            ("Escape", self._navigator.escape),
        ]
        for key, slot in bindings:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(slot)

    # -- parts kept in collaborators, under the names tests and callers already use ---------------------------------

    @property
    def author_panel(self) -> AuthorPanel | None:
        return self._dialogs.author_panel

    @property
    def attention_dialog(self) -> AttentionDialog | None:
        return self._dialogs.attention_dialog

    @property
    def _status_labels(self) -> dict[str, QLabel]:
        return self.status_reporter.labels

    @property
    def _thread_chart(self) -> ThreadChart | None:
        return self._charts.thread_chart

    # -- accounts and dialogs --------------------------------------------------------------------------------------

    def set_accounts(self, accounts: list[Account]) -> None:
        """Show exactly these accounts in the sidebar and the status bar (added and removed ones included)."""
        self.sidebar.set_accounts(accounts)
        self.status_reporter.set_accounts(accounts)

    def show_accounts(self) -> AccountsDialog | None:
        """The Accounts dialog (one, kept): adding or removing there updates the sidebar and the list at once."""
        return self._dialogs.show_accounts()

    def show_watches_dialog(self) -> WatchesDialog | None:
        """File ▸ Brand watch…: the words to search the networks for (one dialog, kept, showing what is stored)."""
        return self._dialogs.show_watches()

    def reload_accounts(self) -> None:
        self.set_accounts(self._reader.accounts())
        self.apply_changes(ChangeSet())  # a removed account's conversations may have gone

    # -- views and selection ---------------------------------------------------------------------------------------

    def current_view(self) -> View:
        return self._navigator.current_view()

    def current_order(self) -> Order:
        return self._navigator.current_order()

    def selected_thread_id(self) -> str | None:
        return self._navigator.selected_thread_id()

    def move_selection(self, step: int) -> None:
        self._navigator.move_selection(step)

    def focus_thread(self) -> None:
        self._navigator.focus_thread()

    def focus_search(self) -> None:
        self._navigator.focus_search()

    def open_thread(self, thread_id: str) -> None:
        """Bring a conversation to the front (a notification was clicked): in the list if it is there, else in the
        Escalating view, and shown in the thread view either way."""
        self.showNormal()
        self.raise_()
        self.activateWindow()
        self._navigator.open_thread(thread_id)

    # -- people ----------------------------------------------------------------------------------------------------

    def show_author(self, author_id: str) -> AuthorPanel | None:
        """The author panel (one, kept and moved from person to person)."""
        return self._dialogs.show_author(author_id)

    def open_thread_anywhere(self, thread_id: str) -> None:
        """A past conversation from the author panel may be done or snoozed: show it in All open/Done as needed."""
        self._navigator.list_view_holding(thread_id)
        self.open_thread(thread_id)

    def _thread_list_menu(self, position: QPoint) -> None:
        index = self.thread_list.indexAt(position)
        thread = self.model.thread_at(index.row()) if index.isValid() else None
        if thread is not None:
            at = self.thread_list.viewport().mapToGlobal(position)
            about_customer = self._dialogs.knows_people and bool(thread.author_id)
            popup_thread_menu(self, self._reader, thread, at, about_customer=about_customer)

    # -- charts and export -----------------------------------------------------------------------------------------

    def show_thread_chart(self, thread_id: str) -> ChartDialog:
        """A conversation's reshares over time; while open it follows new counts as they arrive."""
        return self._charts.show_thread_chart(thread_id)

    def show_activity_chart(self) -> ChartDialog:
        """Messages received and answered per day, and the median time to a first reply, over two weeks."""
        return self._charts.show_activity_chart()

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
        self._settings.remember_threshold(value)
        self.thresholdChanged.emit(value)

    # -- live updates ----------------------------------------------------------------------------------------------

    def apply_changes(self, changes: ChangeSet) -> None:
        """Coalesce change notifications; many sync pages in a burst cost one refresh."""
        self._pending |= changes.thread_ids
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _refresh(self) -> None:
        changed, self._pending = self._pending, set()
        self._navigator.refresh(changed)
        self._dialogs.follow_changes(changed)
        self._charts.follow_changes(changed)

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
        self.status_reporter.show_status(status)

    def show_message(self, text: str) -> None:
        self.status_reporter.show_message(text)

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
        self._dialogs.show_outbox_attention()

    # -- settings --------------------------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        self._settings.restore_layout(self, self.splitter, self.thread_list.header())
        order = self._settings.order()
        if order is not None:
            self.order_box.setCurrentIndex(self.order_box.findData(order.value))
        threshold = self._settings.threshold()
        if threshold is not None:
            self.escalation_threshold = threshold
        kind = self._settings.view_kind()
        if kind is not None:
            self.sidebar.select_view(View(kind))

    def save_settings(self) -> None:
        self._settings.save_layout(self, self.splitter, self.thread_list.header())
        self._settings.remember_order(self.current_order())
        self._settings.remember_view_kind(self.sidebar.current_view().kind)
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        if self.composer is not None:
            self.composer.shutdown()
        self._dialogs.save_before_close()
        for timer in (self._age_timer, self._refresh_timer):
            timer.stop()  # nothing to refresh once closed (and the reader may be closing too)
        self._navigator.stop()
        if self._counts is not None:
            self._counts.close()
        event.accept()
        self.closed.emit()
