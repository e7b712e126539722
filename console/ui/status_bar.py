"""The main window's status bar: one line of messages for the owner, and one label per account saying how its sync is."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from console.domain import Account
from console.sync import NETWORK_NAMES, AccountStatus, SyncState

STATE_TEXT = {
    SyncState.IDLE: "waiting",
    SyncState.SYNCING: "syncing…",
    SyncState.OK: "up to date",
    SyncState.ERROR: "problem",
    SyncState.NEEDS_RECONNECT: "needs reconnecting",
}
PROBLEM_STATES = frozenset({SyncState.ERROR, SyncState.NEEDS_RECONNECT})
PROBLEM_STYLE = "color: #a33;"


class StatusBarReporter:
    """Owns the widgets in ``status_bar`` so the window only says what to report, not how it is laid out.

    Statuses are remembered per account even before the account has a label: the sync engine may report before the
    window learns of an account it just added, and that first report must not be lost.
    """

    def __init__(self, status_bar: QStatusBar) -> None:
        self._status_bar = status_bar
        self.message_label = QLabel()
        self.message_label.setObjectName("messageLabel")
        status_bar.addWidget(self.message_label, 1)  # stretches, so the account labels stay packed at the right
        self.labels: dict[str, QLabel] = {}
        self._last_status: dict[str, AccountStatus] = {}

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)

    def set_accounts(self, accounts: list[Account]) -> None:
        """One label per account, exactly: labels of removed accounts go, new accounts get one."""
        current = {a.id for a in accounts}
        for account_id in [i for i in self.labels if i not in current]:
            label = self.labels.pop(account_id)
            self._status_bar.removeWidget(label)
            label.deleteLater()
        for account in accounts:
            if account.id not in self.labels:
                self.labels[account.id] = self._add_label(account)
                if account.id in self._last_status:  # a sync that reported before its label existed
                    self.show_status(self._last_status[account.id])

    def _add_label(self, account: Account) -> QLabel:
        label = QLabel()
        label.setObjectName(f"status-{account.id}")
        name = f"{NETWORK_NAMES.get(account.network, account.network)} {account.handle}"
        label.setProperty("accountName", name)
        label.setToolTip(name)
        label.setText(f"{name}: waiting")
        self._status_bar.addPermanentWidget(label)
        return label

    def show_status(self, status: AccountStatus) -> None:
        """Update the account's label; a problem is also spelled out on the message line, because a red label alone
        is easy to miss."""
        self._last_status[status.account_id] = status
        label = self.labels.get(status.account_id)
        if label is None:
            return
        name = label.property("accountName")
        label.setText(f"{name}: {STATE_TEXT[status.state]}")
        label.setToolTip(f"{name}\n{status.message}")
        if status.state in PROBLEM_STATES:
            label.setStyleSheet(PROBLEM_STYLE)
            self.show_message(f"{status.label}: {status.message}")
        else:
            label.setStyleSheet("")
