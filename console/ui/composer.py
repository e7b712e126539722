"""The composer under the thread view: answer the selected post on its own network, kindly and safely.

Every rule lives in ``console.replies`` (length, canned replies, cool-off, guard); this widget only shows their
verdicts and refuses Send while any of them says no. Writes go through ``OutboxService`` on the asyncio loop; reads
(the thread, its draft, its outbox) come from the UI's own reader connection, like the thread view's.

This module holds which thread and which post are answered, and the draft; the rest of ``Composer`` is mixed in from
its neighbours, one concern each: ``composer_notices`` (the banners above the text box), ``composer_verdict``
(whether Send may go now), ``composer_sending`` (Send, Undo and the thread's outbox), ``composer_canned_insert``
(canned replies into the draft) and ``composer_settings`` (signature and Reply settings).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QMenu,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.domain import Visibility, parse_iso, utc_now
from console.replies import canned as canned_rules
from console.replies.cooloff import CoolOffState, DraftCoolOff
from console.replies.guard import Finding
from console.replies.length import LengthRule
from console.services.outbox import OutboxService
from console.store import Inbox, PostRow, ThreadRow
from console.store import outbox as outbox_store
from console.store.outbox import is_pending_post
from console.store.reply_settings import AccountSettings, account_settings
from console.store.queries import get_thread, thread_posts
from console.ui.composer_canned import CannedStore
from console.ui.composer_canned_insert import CannedInsertMixin
from console.ui.composer_editor import ComposerEdit
from console.ui.composer_notices import READ_ONLY_REASON, NoticesMixin
from console.ui.composer_sending import SendingMixin
from console.ui.composer_settings import SettingsMixin
from console.ui.composer_verdict import VerdictMixin
from console.ui.tasks import run_task

__all__ = ["Composer", "READ_ONLY_REASON"]  # READ_ONLY_REASON: the feed test compares the reason Send gives

TICK_MS = 1000
DRAFT_DELAY_MS = 600


class Composer(NoticesMixin, VerdictMixin, SendingMixin, CannedInsertMixin, SettingsMixin, QWidget):
    """Reply box for one thread at a time; ``set_thread`` and ``set_reply_target`` follow the thread view."""

    messageRequested = Signal(str)
    queued = Signal(object)  # OutboxItem

    def __init__(
        self,
        reader: Inbox,
        outbox: OutboxService,
        canned: CannedStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        tick_ms: int = TICK_MS,
        draft_delay_ms: int = DRAFT_DELAY_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self._reader = reader
        self._outbox = outbox
        self._canned = canned
        self._clock = clock
        self._thread: ThreadRow | None = None
        self._posts: list[PostRow] = []
        self._target: PostRow | None = None
        self._target_chosen = False
        self._settings = AccountSettings("")
        self._rule = LengthRule.for_account("mastodon")
        self._cooloffs: dict[str, DraftCoolOff] = {}
        self._cool_state = CoolOffState(held=False, remaining=timedelta(0))
        self._findings: list[Finding] = []
        self._loading = False
        self._busy = False
        self._inserted: list[str] = []  # canned reply ids used in this draft
        self._block_reason = ""
        self.confirm: Callable[[str, str], bool] = self._ask
        self._business = ""
        self._advice = None
        self._opening: datetime | None = None  # the next opening time, while the account's business is closed

        self.target_label = QLabel()
        self.target_label.setObjectName("composerTarget")
        self.target_label.setWordWrap(True)
        self.public_button = QRadioButton("Public reply")
        self.public_button.setObjectName("publicReply")
        self.direct_button = QRadioButton("Direct message")
        self.direct_button.setObjectName("directMessage")
        self.direct_button.setToolTip("Hand the conversation over to a private message")
        self._visibility_group = QButtonGroup(self)
        self._visibility_group.addButton(self.public_button)
        self._visibility_group.addButton(self.direct_button)
        self.public_button.setChecked(True)
        self.public_button.toggled.connect(self._visibility_changed)
        self.counter = QLabel()
        self.counter.setObjectName("lengthCounter")
        self.menu_button = QToolButton()
        self.menu_button.setText("⋯")
        self.menu_button.setToolTip("Signature and canned replies")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        self.signature_action = menu.addAction("Signature…", self.ask_signature)
        self.settings_action = menu.addAction("Reply settings…", self.open_reply_settings)
        menu.addAction("Find a canned reply…\tCtrl+K", self.open_palette)
        menu.addAction("Canned replies…", self.open_canned_dialog)
        self.menu_button.setMenu(menu)

        self._build_notices()

        self.editor = ComposerEdit()
        self.editor.setPlaceholderText("Write a reply…  (/ for canned replies, Ctrl+K to search them)")
        self.editor.setMaximumHeight(160)
        self.editor.textChanged.connect(self._text_changed)
        self.editor.shortcutChosen.connect(self.insert_shortcut)

        self._build_send_controls()

        header = QHBoxLayout()
        header.addWidget(self.target_label, 1)
        header.addWidget(self.public_button)
        header.addWidget(self.direct_button)
        header.addWidget(self.menu_button)
        footer = QHBoxLayout()
        footer.addWidget(self.counter)
        footer.addStretch(1)
        footer.addWidget(self.send_anyway_button)
        footer.addWidget(self.send_now_button)
        footer.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 4)
        layout.addLayout(header)
        for widget in self.notice_widgets():
            layout.addWidget(widget)
        layout.addWidget(self.editor)
        layout.addLayout(footer)
        layout.addWidget(self.undo_bar)
        layout.addWidget(self.outbox_panel)

        self._draft_timer = QTimer(self, singleShot=True, interval=draft_delay_ms)
        self._draft_timer.timeout.connect(self.save_draft)
        self._tick_timer = QTimer(self, interval=tick_ms)
        self._tick_timer.timeout.connect(self.tick)
        self._tick_timer.start()
        palette_shortcut = QShortcut(QKeySequence("Ctrl+K"), self)
        palette_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        palette_shortcut.activated.connect(self.open_palette)
        self._canned.on_changed.append(self._library_changed)
        self._library_changed()
        self.set_thread(None)

    # -- which thread, which post ----------------------------------------------------------------------------------

    @property
    def thread_id(self) -> str | None:
        return self._thread.id if self._thread else None

    @property
    def target_post_id(self) -> str | None:
        return self._target.id if self._target else None

    @property
    def visibility(self) -> Visibility:
        return Visibility.DIRECT if self.direct_button.isChecked() else Visibility.PUBLIC

    def set_thread(self, thread_id: str | None) -> None:
        """Show a thread's draft and outbox; the same thread again (a refresh) only re-reads its posts."""
        if thread_id is not None and thread_id == self.thread_id:
            self._reload_thread()
            return
        self.flush_draft()
        self._thread = get_thread(self._reader.db, thread_id) if thread_id else None
        self._inserted = []
        self.repeat_label.setVisible(False)
        for widget in (self.editor, self.public_button, self.direct_button, self.menu_button, self.send_button):
            widget.setEnabled(self._thread is not None and not self.read_only)  # the undo bar stays usable
        if self._thread is None:
            self._posts, self._target = [], None
            self._set_text("")
            self.target_label.setText("")
            self.outbox_panel.set_items([])
            self._show_banners()
            self._evaluate()
            return
        account = next((a for a in self._reader.accounts() if a.id == self._thread.account_id), None)
        self._rule = LengthRule.for_account(self._thread.network, account.char_limit if account else None)
        self._settings = account_settings(self._reader, self._thread.account_id)
        self._business = (account.display_name or account.handle) if account else ""
        self._reload_thread(choose_target=True)
        draft = outbox_store.load_draft(self._reader, self._thread.id)
        direct = draft.visibility is Visibility.DIRECT if draft else self._target_is_direct()
        self._loading = True
        (self.direct_button if direct else self.public_button).setChecked(True)
        self._loading = False
        cool = self._cooloff()
        if draft is not None and draft.held_since and cool is not None and cool.held_since is None:
            cool.restore(parse_iso(draft.held_since))  # a restart is no shortcut around the cool-off
        self._set_text(draft.text if draft else "")

    def _reload_thread(self, choose_target: bool = False) -> None:
        assert self._thread is not None
        self._thread = get_thread(self._reader.db, self._thread.id) or self._thread
        self._posts = thread_posts(self._reader.db, self._thread.id)
        current = self.target_post_id if self._target_chosen else None
        if choose_target:
            self._target_chosen = False
        # Unless the owner picked a post, answer the latest customer post (a newer one may just have arrived).
        if choose_target or current is None or not any(p.id == current for p in self._posts):
            self._target = self._default_target()
        else:
            self._target = next(p for p in self._posts if p.id == current)
        self._show_target()
        self.refresh_outbox()
        self._show_banners()

    def _default_target(self) -> PostRow | None:
        theirs = [p for p in self._posts if p.direction == "in" and not p.deleted_at]
        mine = [p for p in self._posts if not is_pending_post(p.id)]
        return (theirs or mine or [None])[-1]

    def set_reply_target(self, post_id: str | None) -> None:
        """The owner selected a post in the thread: answer that one (our own pending replies cannot be answered)."""
        post = next((p for p in self._posts if p.id == post_id), None)
        if post is None or is_pending_post(post.id):
            return
        self._target = post
        self._target_chosen = True
        self._show_target()
        self._evaluate()

    def _target_is_direct(self) -> bool:
        return self._target is not None and self._target.visibility == Visibility.DIRECT.value

    def _show_target(self) -> None:
        post = self._target
        if post is None:
            self.target_label.setText("Nothing to reply to yet")
            return
        who = "yourself" if post.direction == "out" else (post.author_name or post.author_handle)
        preview = " ".join(post.text.split())
        preview = preview if len(preview) <= 50 else preview[:49] + "…"
        verb = "From" if self.read_only else "Replying to"
        self.target_label.setText(f"{verb} {who} on {self._thread.network if self._thread else ''}: “{preview}”")

    def switch_to_direct(self) -> None:
        self.direct_button.setChecked(True)

    # -- text and drafts -------------------------------------------------------------------------------------------

    def text(self) -> str:
        return self.editor.toPlainText()

    def final_text(self) -> str:
        """What will be sent: public replies signed "— Sam" once."""
        return canned_rules.signature(self.text(), self._settings.signature_name or "", self.visibility)

    def _set_text(self, text: str) -> None:
        self._loading = True
        try:
            self.editor.setPlainText(text)
        finally:
            self._loading = False
        self._evaluate()

    def _text_changed(self) -> None:
        if not self._loading and self._thread is not None:
            self._draft_timer.start()
        self._evaluate()

    def _visibility_changed(self, _checked: bool) -> None:
        if not self._loading and self._thread is not None:
            self._draft_timer.start()
        self._evaluate()

    def flush_draft(self) -> None:
        if self._draft_timer.isActive():
            self._draft_timer.stop()
            self.save_draft()

    def save_draft(self) -> None:
        thread = self._thread
        if thread is None:
            return
        cool = self._cooloffs.get(thread.id)
        run_task(self._outbox.save_draft(thread.id, thread.account_id, self.text(), self.visibility,
                                         held_since=cool.held_since if cool is not None else None),
                 on_error=self.messageRequested.emit)

    # -- the clock and closing -------------------------------------------------------------------------------------

    def tick(self) -> None:
        """Once a second: the cool-off countdown and the outbox's "sending in" countdowns."""
        self._evaluate(rejudge=False)
        self.outbox_panel.tick()
        self._show_undo_bar()

    def shutdown(self) -> None:
        """Save what is typed and stop the timers (the window is closing)."""
        self.flush_draft()
        self._tick_timer.stop()
        if self._library_changed in self._canned.on_changed:
            self._canned.on_changed.remove(self._library_changed)
