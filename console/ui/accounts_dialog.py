"""The Accounts dialog: see, add, reconnect and remove the business's accounts.

Every network step (the browser sign-in, verifying a token, revoking on removal) runs as a task on the qasync loop:
the dialog stays responsive, shows what it is waiting for, and Cancel really stops the wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFormLayout,
    QHeaderView,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.connectors.errors import ConnectorError
from console.connectors.mastodon_auth import server_host
from console.domain import Account
from console.services.accounts import AccountError, AccountService, Removal, network_name
from console.store import InboxError
from console.ui.bluesky_form import BlueskyForm
from console.ui.browser import open_in_browser
from console.ui.icons import network_icon
from console.ui.x_form import XForm

log = logging.getLogger(__name__)

COL_ACCOUNT, COL_SERVER, COL_STATE = range(3)
AccountIdRole = Qt.ItemDataRole.UserRole
PAGE_LIST, PAGE_ADD, PAGE_BLUESKY, PAGE_X = range(4)
RECONNECTABLE = ("mastodon", "bluesky", "x")


def _readable(error: BaseException) -> str:
    if isinstance(error, (AccountError, ConnectorError, InboxError)):
        return str(error)
    log.error("account operation failed", exc_info=error)
    return "Something went wrong inside Tend; nothing was changed. Details are in the log."


class AccountsDialog(QDialog):
    """Lists the accounts; adding happens on a second page of the same dialog (no nested modal loops)."""

    accountsChanged = Signal()

    def __init__(
        self,
        service: AccountService,
        *,
        open_url: Callable[[str], object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("accountsDialog")
        self.setWindowTitle("Accounts")
        self.resize(720, 380)
        self._service = service
        self._open_url = open_url
        self._accounts: dict[str, Account] = {}
        self._states: dict[str, str] = {}
        self._task: asyncio.Future[Any] | None = None
        self._reloading: asyncio.Future[Any] | None = None
        self._cancellable = True
        self.remove_question: QMessageBox | None = None
        self.feed_prompt: QInputDialog | None = None

        self.pages = QStackedWidget()
        self.pages.addWidget(self._make_list_page())
        self.pages.addWidget(self._make_add_page())
        self.bluesky_form = BlueskyForm()
        self.bluesky_form.submitted.connect(self.connect_bluesky)
        self.bluesky_form.backRequested.connect(self.show_list_page)
        self.pages.addWidget(self.bluesky_form)
        self.x_form = XForm()
        self.x_form.submitted.connect(self.connect_x)
        self.x_form.backRequested.connect(self.show_list_page)
        self.pages.addWidget(self.x_form)

        self.status_label = QLabel()
        self.status_label.setObjectName("accountsStatus")
        self.status_label.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addLayout(bottom)
        self.reload()

    # -- construction ----------------------------------------------------------------------------------------------

    def _make_list_page(self) -> QWidget:
        page = QWidget()
        self.account_list = QTreeWidget()
        self.account_list.setObjectName("accountList")
        self.account_list.setHeaderLabels(["Account", "Server", "State"])
        self.account_list.setRootIsDecorated(False)
        self.account_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.account_list.header()
        header.setSectionResizeMode(COL_ACCOUNT, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_SERVER, QHeaderView.ResizeMode.ResizeToContents)
        self.account_list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.add_button = QPushButton("Add Mastodon account…")
        self.add_button.setObjectName("addMastodonButton")
        self.add_button.clicked.connect(self.show_add_page)
        self.add_bluesky_button = QPushButton("Add Bluesky account…")
        self.add_bluesky_button.setObjectName("addBlueskyButton")
        self.add_bluesky_button.clicked.connect(lambda: self.show_bluesky_page())
        self.add_x_button = QPushButton("Add X account…")
        self.add_x_button.setObjectName("addXButton")
        self.add_x_button.clicked.connect(self.show_x_page)
        self.add_feed_button = QPushButton("Add feed…")
        self.add_feed_button.setObjectName("addFeedButton")
        self.add_feed_button.setToolTip("Watch a review site or blog through its RSS or Atom feed (read only)")
        self.add_feed_button.clicked.connect(self.ask_feed_url)
        self.reconnect_button = QPushButton("Reconnect")
        self.reconnect_button.setObjectName("reconnectButton")
        self.reconnect_button.setToolTip("Sign in again in the browser, for an account whose access was withdrawn")
        self.reconnect_button.clicked.connect(self.reconnect_selected)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setObjectName("removeButton")
        self.remove_button.clicked.connect(self.ask_remove_selected)
        buttons = QVBoxLayout()
        for button in (self.add_button, self.add_bluesky_button, self.add_x_button, self.add_feed_button,
                       self.reconnect_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QHBoxLayout(page)
        layout.addWidget(self.account_list, 1)
        layout.addLayout(buttons)
        return page

    def _make_add_page(self) -> QWidget:
        page = QWidget()
        intro = QLabel(
            "Tend opens your Mastodon server's sign-in page in your browser. Once you approve, Tend can read your "
            "notifications and conversations and post your replies; it never sees your password."
        )
        intro.setWordWrap(True)
        self.server_field = QLineEdit()
        self.server_field.setObjectName("serverField")
        self.server_field.setPlaceholderText("mastodon.social")
        self.server_field.returnPressed.connect(self.connect_in_browser)
        self.connect_button = QPushButton("Connect in browser")
        self.connect_button.setObjectName("connectButton")
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self.connect_in_browser)
        self.token_toggle = QCheckBox("I have an access token")
        self.token_toggle.setObjectName("tokenToggle")
        self.token_toggle.setToolTip("Created on your server under Preferences › Development")
        self.token_field = QLineEdit()
        self.token_field.setObjectName("tokenField")
        self.token_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_field.setPlaceholderText("access token")
        self.token_button = QPushButton("Connect with token")
        self.token_button.setObjectName("tokenButton")
        self.token_button.clicked.connect(self.connect_with_token)
        self.token_toggle.toggled.connect(self._show_token_row)
        self.back_button = QPushButton("Back")
        self.back_button.clicked.connect(self.show_list_page)

        form = QFormLayout()
        form.addRow("Server:", self.server_field)
        token_row = QHBoxLayout()
        token_row.addWidget(self.token_field, 1)
        token_row.addWidget(self.token_button)
        self._token_row = QWidget()
        self._token_row.setLayout(token_row)
        self._show_token_row(False)
        actions = QHBoxLayout()
        actions.addWidget(self.back_button)
        actions.addStretch(1)
        actions.addWidget(self.connect_button)
        layout = QVBoxLayout(page)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addLayout(actions)
        layout.addWidget(self.token_toggle)
        layout.addWidget(self._token_row)
        layout.addStretch(1)
        return page

    def _show_token_row(self, shown: bool) -> None:
        self._token_row.setVisible(shown)
        self.connect_button.setEnabled(not shown and not self.busy)
        if not shown:
            self.token_field.clear()

    # -- list ------------------------------------------------------------------------------------------------------

    def reload(self) -> asyncio.Future[Any]:
        """Read the accounts and their states again. A reload still in flight is cancelled first: it may have read
        the states before whatever prompted this one, and finishing last it would show them stale."""
        if self._reloading is not None and not self._reloading.done():
            self._reloading.cancel()
        self._reloading = self._start(self._load(), busy=False)
        return self._reloading

    async def _load(self) -> None:
        accounts = await self._service.list_accounts()
        states = {a.id: await self._service.state_of(a) for a in accounts}
        self._accounts = {a.id: a for a in accounts}
        self._states = states
        selected = self.selected_account_id()
        self.account_list.clear()
        for account in accounts:
            state = states[account.id]
            item = QTreeWidgetItem([account.handle, server_host(account.server_url), state.split(" (")[0]])
            item.setToolTip(COL_STATE, state)
            item.setIcon(COL_ACCOUNT, network_icon(account.network))
            item.setToolTip(COL_ACCOUNT, f"{account.display_name or account.handle} on "
                                         f"{network_name(account.network)}\n{account.id}")
            item.setData(COL_ACCOUNT, AccountIdRole, account.id)  # Qt.UserRole
            self.account_list.addTopLevelItem(item)
            if account.id == selected:
                self.account_list.setCurrentItem(item)
        if self.account_list.currentItem() is None and self.account_list.topLevelItemCount():
            self.account_list.setCurrentItem(self.account_list.topLevelItem(0))
        if not accounts and not self.status_label.text():  # never hide what the last action said
            self.status_label.setText("No accounts yet: add your Mastodon, Bluesky or X account to start.")
        self._update_buttons()

    def account_ids(self) -> list[str]:
        return [self.account_list.topLevelItem(i).data(COL_ACCOUNT, AccountIdRole)
                for i in range(self.account_list.topLevelItemCount())]

    def selected_account_id(self) -> str | None:
        item = self.account_list.currentItem()
        return item.data(COL_ACCOUNT, AccountIdRole) if item is not None else None

    def select_account(self, account_id: str) -> None:
        for i in range(self.account_list.topLevelItemCount()):
            item = self.account_list.topLevelItem(i)
            if item.data(COL_ACCOUNT, AccountIdRole) == account_id:
                self.account_list.setCurrentItem(item)

    def _update_buttons(self) -> None:
        account = self._accounts.get(self.selected_account_id() or "")
        idle = not self.busy
        self.add_button.setEnabled(idle)
        self.add_bluesky_button.setEnabled(idle)
        self.add_x_button.setEnabled(idle)
        self.add_feed_button.setEnabled(idle)
        self.remove_button.setEnabled(idle and account is not None)
        needs = account is not None and account.network in RECONNECTABLE and \
            self._states.get(account.id, "").startswith("needs reconnecting")
        self.reconnect_button.setEnabled(idle and needs)

    def show_add_page(self) -> None:
        self.pages.setCurrentIndex(PAGE_ADD)
        self.status_label.clear()
        self.server_field.setFocus()

    def show_bluesky_page(self, handle: str = "") -> None:
        self.pages.setCurrentIndex(PAGE_BLUESKY)
        self.status_label.clear()
        self.bluesky_form.prepare(handle)

    def show_x_page(self) -> None:
        self.pages.setCurrentIndex(PAGE_X)
        self.status_label.clear()
        self.x_form.prepare()

    def show_list_page(self) -> None:
        self.pages.setCurrentIndex(PAGE_LIST)
        self.bluesky_form.clear()  # an app password is never left lying in a hidden widget
        self.x_form.clear()

    # -- adding ----------------------------------------------------------------------------------------------------

    def connect_in_browser(self) -> None:
        if self.busy or self.token_toggle.isChecked():
            return
        self.status_label.setText("Starting…")
        self._start(
            self._service.add_mastodon_oauth(self.server_field.text(), self._browser, on_status=self._status),
            on_done=self._added,
        )

    def connect_with_token(self) -> None:
        if self.busy:
            return
        token = self.token_field.text()
        self.status_label.setText("Checking the token…")
        self._start(self._service.add_mastodon_with_token(self.server_field.text(), token), on_done=self._added)

    def connect_bluesky(self) -> None:
        if self.busy:
            return
        handle, password, service, plc = self.bluesky_form.values()
        self.status_label.setText("Signing in to Bluesky…")
        self._start(self._service.add_bluesky(handle, password, service=service, plc_url=plc), on_done=self._added)

    def connect_x(self) -> asyncio.Future[Any] | None:
        if self.busy:
            return None
        problem = self.x_form.problem()
        if problem:
            self.status_label.setText(problem)
            self.x_form.client_id_field.setFocus()
            return None
        client_id, cap = self.x_form.values()
        self.status_label.setText("Starting…")
        return self._start(
            self._service.add_x(client_id, self._browser, on_status=self._status, monthly_read_cap=cap),
            on_done=self._added,
        )

    def ask_feed_url(self) -> QInputDialog | None:
        """Ask for the feed's address; window-modal but without a nested event loop, like the remove question."""
        if self.busy:
            return None
        prompt = QInputDialog(self)
        prompt.setObjectName("feedPrompt")
        prompt.setWindowTitle("Add feed")
        prompt.setLabelText("The address of an RSS or Atom feed, or of a page that names one (most review sites "
                            "and blogs do).\nIts new items arrive as read-only conversations: you answer on the site.")
        prompt.setTextValue("https://")
        prompt.setOkButtonText("Watch feed")

        def chosen(url: str) -> None:
            self.feed_prompt = None
            self.add_feed(url)

        prompt.textValueSelected.connect(chosen)
        prompt.rejected.connect(lambda: setattr(self, "feed_prompt", None))
        self.feed_prompt = prompt
        prompt.open()
        return prompt

    def add_feed(self, url: str) -> asyncio.Future[Any] | None:
        if self.busy:
            return None
        self.status_label.setText("Reading the feed…")
        return self._start(self._service.add_feed(url), on_done=self._added)

    def reconnect_selected(self) -> None:
        account_id = self.selected_account_id()
        if self.busy or account_id is None:
            return
        account = self._accounts.get(account_id)
        if account is not None and account.network == "bluesky":  # a new sign-in with an app password
            self.show_bluesky_page(account.handle)
            return
        if account is not None and account.network == "x" and "client id" in self._states.get(account_id, ""):
            self.show_x_page()  # the client id is gone from the keyring: the owner gives it again
            self.x_form.cap_field.setValue(self._service.x_cap(account_id) or 0)  # and keeps the cap set before
            self.status_label.setText(f"Give the client id of your X app again to reconnect {account.handle}.")
            return
        self._start(self._service.reconnect(account_id, self._browser, on_status=self._status), on_done=self._added)

    def _added(self, account: Account) -> None:
        self.token_field.clear()
        self.token_toggle.setChecked(False)
        self.server_field.clear()
        self.show_list_page()
        warning = getattr(self._service, "last_warning", "") if account.network in ("bluesky", "x") else ""
        done = f"Watching {account.handle}. Tend is fetching its items." if account.network == "feed" else \
            f"Connected {account.handle}. Tend is fetching its messages."
        self.status_label.setText(done + (f"\n{warning}" if warning else ""))
        self.accountsChanged.emit()
        self._reload_then_select(account.id)

    def _browser(self, url: str) -> object:
        opener = self._open_url or open_in_browser
        opened = opener(url)
        if opened is False:
            self.status_label.setText(f"Tend could not open your browser. Open this address to continue:\n{url}")
        return opened

    def _status(self, text: str) -> None:
        self.status_label.setText(text)

    # -- removing --------------------------------------------------------------------------------------------------

    def ask_remove_selected(self) -> QMessageBox | None:
        account = self._accounts.get(self.selected_account_id() or "")
        if self.busy or account is None:
            return None
        box = QMessageBox(self)
        box.setObjectName("removeQuestion")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Remove account")
        box.setText(f"Remove {account.handle} from Tend?")
        what = "Tend will stop watching this feed." if account.network == "feed" else \
            "Tend will stop syncing it, withdraw its access on the server and forget the token."
        box.setInformativeText(f"{what}\n\nKeep this account's conversations in your inbox?")
        keep = box.addButton("Keep conversations", QMessageBox.ButtonRole.AcceptRole)
        delete = box.addButton("Delete conversations", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)

        def answered(button: object) -> None:
            self.remove_question = None
            if button is keep:
                self.remove(account.id, keep_history=True)
            elif button is delete:
                self.remove(account.id, keep_history=False)

        box.buttonClicked.connect(answered)
        self.remove_question = box
        box.open()  # window-modal, but no nested event loop: the async work keeps running
        return box

    def remove(self, account_id: str, *, keep_history: bool) -> asyncio.Future[Any]:
        self.status_label.setText("Removing…")
        # Not cancellable: stopping half way would leave a revoked token on a listed account.
        return self._start(self._service.remove_account(account_id, keep_history=keep_history),
                           on_done=self._removed, cancellable=False)

    def _removed(self, removal: Removal) -> None:
        where = "Its conversations stay in your inbox." if removal.kept_history else "Its conversations were deleted."
        text = f"Removed {removal.account.handle}. {where}"
        if removal.warning:
            text += f"\n{removal.warning}"
        self.status_label.setText(text)
        self.accountsChanged.emit()
        self.reload()

    # -- running ---------------------------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def cancel(self) -> None:
        if self.busy and self._cancellable and self._task is not None:
            self._task.cancel()

    def _reload_then_select(self, account_id: str) -> None:
        task = self.reload()
        task.add_done_callback(lambda _t: self.select_account(account_id))

    def _start(
        self,
        coro: Coroutine[Any, Any, Any],
        *,
        on_done: Callable[[Any], None] | None = None,
        busy: bool = True,
        cancellable: bool = True,
    ) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(coro)
        if busy:
            self._task = task
            self._cancellable = cancellable
            self._set_busy(True)

        def finished(done: asyncio.Future[Any]) -> None:
            if busy:
                self._set_busy(False)
            if done.cancelled():
                if busy:
                    self.status_label.setText("Cancelled. Nothing was changed.")
                return
            error = done.exception()
            if error is not None:
                self.status_label.setText(_readable(error))
            elif on_done is not None:
                on_done(done.result())

        task.add_done_callback(finished)
        return task

    def _set_busy(self, busy: bool) -> None:
        self.cancel_button.setVisible(busy and self._cancellable)
        for widget in (self.server_field, self.token_field, self.token_button, self.token_toggle, self.back_button):
            widget.setEnabled(not busy)
        self.connect_button.setEnabled(not busy and not self.token_toggle.isChecked())
        self.bluesky_form.set_busy(busy)
        self.x_form.set_busy(busy)
        self._update_buttons()

    def reject(self) -> None:  # Close, Escape or the title bar: a sign-in in progress stops too
        self.cancel()
        super().reject()
