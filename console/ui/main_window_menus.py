"""The main window's menus: the menu bar (File, View and, when replies can be sent, Replies) and the thread list's
right-click menu.

Each entry calls a public method of the window, so a menu entry and a test or a shortcut do exactly the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from console.store import Inbox, ThreadRow
from console.ui import export_actions

if TYPE_CHECKING:
    from console.ui.main_window import MainWindow


@dataclass(frozen=True, slots=True)
class MenuActions:
    """The entries the window enables, disables or triggers later; the rest are fire-and-forget."""

    accounts: QAction
    watches: QAction


def add_menus(window: MainWindow, *, has_accounts: bool, has_watches: bool, has_replies: bool) -> MenuActions:
    """Entries for services the window was not given are disabled (File) or left out (Replies), never broken."""
    accounts = QAction("&Accounts…", window)
    accounts.setObjectName("accountsAction")
    accounts.setEnabled(has_accounts)
    accounts.triggered.connect(window.show_accounts)
    watches = QAction("&Brand watch…", window)
    watches.setObjectName("watchesAction")
    watches.setToolTip("Find posts that talk about the business without tagging it")
    watches.setEnabled(has_watches)
    watches.triggered.connect(window.show_watches_dialog)

    file_menu = window.menuBar().addMenu("&File")
    file_menu.addAction(accounts)
    file_menu.addAction(watches)
    file_menu.addSeparator()
    file_menu.addAction("Export this view…", window.export_current_view)
    file_menu.addAction("Export this conversation…", window.export_current_thread)
    view_menu = window.menuBar().addMenu("&View")
    view_menu.addAction("Inbox activity chart…", window.show_activity_chart)
    view_menu.addAction("Escalation threshold…", window.ask_escalation_threshold)
    if has_replies:
        replies_menu = window.menuBar().addMenu("&Replies")
        replies_menu.addAction("Held and failed replies…", window.show_outbox_attention)
        # Looked up when chosen: the composer is built after the menus.
        replies_menu.addAction("Canned replies…", lambda: window.composer and window.composer.open_canned_dialog())
        replies_menu.addAction("Reply settings…", lambda: window.composer and window.composer.open_reply_settings())
    return MenuActions(accounts=accounts, watches=watches)


def popup_thread_menu(
    window: MainWindow, reader: Inbox, thread: ThreadRow, at: QPoint, *, about_customer: bool
) -> QMenu:
    """What can be done with the conversation under the pointer, whether or not it is the one selected."""
    menu = QMenu(window)
    if about_customer:
        menu.addAction("About this customer…", lambda: window.show_author(thread.author_id or ""))
    menu.addAction("Reshares chart…", lambda: window.show_thread_chart(thread.id))
    menu.addAction("Export this conversation…", lambda: export_actions.export_thread(
        window, reader, thread.id, on_done=window.show_message))
    menu.popup(at)
    return menu
