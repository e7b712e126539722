"""The main window's secondary windows: Accounts, Brand watch, a customer's panel and the held-replies list.

Each is built on first use and then kept, so reopening one is instant and shows what the owner left there. Their
modules are imported on first use too, which keeps them off the start-up path.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from console.store import ChangeSet, Inbox

if TYPE_CHECKING:
    from console.domain.watches import BrandWatch
    from console.services.accounts import AccountService
    from console.services.people import PeopleService
    from console.services.watches import WatchService
    from console.ui.accounts_dialog import AccountsDialog
    from console.ui.author_panel import AuthorPanel
    from console.ui.composer import Composer
    from console.ui.composer_attention import AttentionDialog
    from console.ui.watches_dialog import WatchesDialog


def watch_saved_message(watch: BrandWatch) -> str:
    count = len(watch.terms)
    if not watch.active:
        return "Brand watch off: no words to look for."
    return f"Brand watch saved: {count} word{'' if count == 1 else 's'} to look for."


class KeptDialogs:
    """Shows the window's secondary dialogs; a service the window was not given means its dialog shows ``None``.

    What the dialogs ask of the window goes through the callbacks, so this class needs no window of its own beyond
    the ``parent`` the dialogs stay on top of.
    """

    def __init__(
        self,
        parent: QWidget,
        reader: Inbox,
        *,
        clock: Callable[[], datetime],
        accounts: AccountService | None,
        watches: WatchService | None,
        people: PeopleService | None,
        composer: Composer | None,
        on_accounts_changed: Callable[[], None],
        on_message: Callable[[str], None],
        on_open_thread: Callable[[str], None],
    ) -> None:
        self._parent = parent
        self._reader = reader
        self._clock = clock
        self._accounts = accounts
        self._watches = watches
        self._people = people
        self._composer = composer
        self._on_accounts_changed = on_accounts_changed
        self._on_message = on_message
        self._on_open_thread = on_open_thread
        self.accounts_dialog: AccountsDialog | None = None
        self.watches_dialog: WatchesDialog | None = None
        self.author_panel: AuthorPanel | None = None
        self.attention_dialog: AttentionDialog | None = None

    @property
    def knows_people(self) -> bool:
        """Whether there is a people service, so offering "About this customer…" leads somewhere."""
        return self._people is not None

    def show_accounts(self) -> AccountsDialog | None:
        """Adding or removing an account there updates the sidebar and the list at once (``on_accounts_changed``)."""
        if self._accounts is None:
            return None
        if self.accounts_dialog is None:
            from console.ui.accounts_dialog import AccountsDialog

            self.accounts_dialog = AccountsDialog(self._accounts, parent=self._parent)
            self.accounts_dialog.accountsChanged.connect(self._on_accounts_changed)
        elif self.accounts_dialog.isVisible():
            self.accounts_dialog.raise_()  # already open behind the window: bring it forward
            self.accounts_dialog.activateWindow()
            return self.accounts_dialog
        else:
            self.accounts_dialog.reload()
        self.accounts_dialog.show()
        return self.accounts_dialog

    def show_watches(self) -> WatchesDialog | None:
        """The words to search the networks for, showing what is stored (reloaded unless the owner is editing)."""
        if self._watches is None:
            return None
        if self.watches_dialog is None:
            from console.ui.watches_dialog import WatchesDialog

            self.watches_dialog = WatchesDialog(self._reader.db, self._watches, parent=self._parent)
            self.watches_dialog.saved.connect(lambda watch: self._on_message(watch_saved_message(watch)))
        elif not self.watches_dialog.isVisible():
            self.watches_dialog.reload()
        self.watches_dialog.show()
        self.watches_dialog.raise_()
        self.watches_dialog.activateWindow()
        return self.watches_dialog

    def show_author(self, author_id: str) -> AuthorPanel | None:
        """One panel, moved from person to person, so a note being typed is saved before it shows the next one."""
        if self._people is None:
            return None
        if self.author_panel is None:
            from console.ui.author_panel import AuthorPanel

            self.author_panel = AuthorPanel(self._reader.db, self._people, watches=self._watches, parent=self._parent)
            self.author_panel.threadRequested.connect(self._on_open_thread)
        self.author_panel.show_author(author_id)
        return self.author_panel

    def show_outbox_attention(self) -> AttentionDialog | None:
        """Every held or failed reply, each with Send/Retry and Undo; replies need the composer to act on them."""
        if self._composer is None:
            return None
        from console.ui.composer_attention import AttentionDialog

        if self.attention_dialog is None:
            self.attention_dialog = AttentionDialog(self._reader, self._composer, clock=self._clock, parent=self._parent)
        self.attention_dialog.reload()
        self.attention_dialog.show()
        return self.attention_dialog

    def follow_changes(self, changed: Collection[str]) -> None:
        """Keep what is on screen current; a hidden held-replies list reloads when it is next shown anyway."""
        if self.author_panel is not None:
            self.author_panel.apply_changes(ChangeSet(frozenset(changed)))
        if self.attention_dialog is not None and self.attention_dialog.isVisible():
            self.attention_dialog.reload()

    def save_before_close(self) -> None:
        if self.author_panel is not None:
            self.author_panel.save_note()  # a note typed just before quitting is kept
