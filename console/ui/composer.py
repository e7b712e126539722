"""The composer under the thread view: answer the selected post on its own network, kindly and safely.

Every rule lives in ``console.replies`` (length, canned replies, cool-off, guard); this widget only shows their
verdicts and refuses Send while any of them says no. Writes go through ``OutboxService`` on the asyncio loop; reads
(the thread, its draft, its outbox) come from the UI's own reader connection, like the thread view's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from html import escape
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.domain import Visibility, iso_utc, parse_iso, utc_now
from console.replies import canned as canned_rules
from console.replies.cooloff import CoolOffPolicy, CoolOffState, DraftCoolOff, thread_advice
from console.replies.guard import Finding, describe, exposure_banner, exposure_in_incoming, scan
from console.replies.length import LengthRule
from console.replies.repeat import already_sent
from console.services.outbox import OutboxService
from console.store import Inbox, PostRow, ThreadRow
from console.store import outbox as outbox_store
from console.store.outbox import AccountSettings, OutboxItem, is_pending_post
from console.store.queries import get_thread, thread_posts
from console.ui.composer_canned import CannedStore
from console.ui.composer_editor import ComposerEdit
from console.ui.composer_outbox import OutboxPanel, countdown
from console.ui.reply_settings_dialog import ReplySettingsDialog, hours_of
from console.ui.tasks import run_task

TICK_MS = 1000
DRAFT_DELAY_MS = 600
READ_ONLY_NETWORKS = frozenset({"feed"})  # items watched on a site: there is no reply to send from here
READ_ONLY_REASON = "This came from a feed: answer on the site."


def open_in_browser(url: str) -> bool:
    """The system browser; tests replace ``Composer.open_link`` with a simulated one."""
    return QDesktopServices.openUrl(QUrl(url))


def _banner(object_name: str, colour: str) -> tuple[QWidget, QLabel, QPushButton]:
    box = QWidget()
    box.setObjectName(object_name)
    box.setStyleSheet(f"#{object_name} {{ background: {colour}; border-radius: 4px; }}")
    label = QLabel()
    label.setWordWrap(True)
    button = QPushButton()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(6, 4, 6, 4)
    layout.addWidget(label, 1)
    layout.addWidget(button)
    box.setVisible(False)
    return box, label, button


class Composer(QWidget):
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

        self.advice_banner, self.advice_label, self.advice_button = _banner("adviceBanner", "#fdf1dc")
        self.advice_button.clicked.connect(self._insert_advised)
        self.exposure_banner, self.exposure_label, self.exposure_button = _banner("exposureBanner", "#fde2e2")
        self.exposure_button.setText("Insert “please delete it”")
        self.exposure_button.clicked.connect(lambda: self.insert_shortcut("delete-post"))
        self.guard_banner, self.guard_label, self.dm_instead_button = _banner("guardBanner", "#fde2e2")
        self.dm_instead_button.setText("Send as DM instead")
        self.dm_instead_button.setObjectName("dmInstead")
        self.dm_instead_button.clicked.connect(self.switch_to_direct)
        self.repeat_label = QLabel()
        self.repeat_label.setObjectName("repeatWarning")
        self.repeat_label.setWordWrap(True)
        self.repeat_label.setStyleSheet("color: #8a5a00;")
        self.repeat_label.setVisible(False)
        self.cooloff_label = QLabel()
        self.cooloff_label.setObjectName("cooloffReasons")
        self.cooloff_label.setWordWrap(True)
        self.cooloff_label.setStyleSheet("color: #8a5a00;")
        self.cooloff_label.setVisible(False)
        self.read_only_label = QLabel()
        self.read_only_label.setObjectName("readOnlyNotice")
        self.read_only_label.setWordWrap(True)
        self.read_only_label.setTextFormat(Qt.TextFormat.RichText)
        self.read_only_label.linkActivated.connect(lambda url: self.open_link(url))
        self.read_only_label.setVisible(False)
        self.open_link: Callable[[str], object] = open_in_browser

        self.editor = ComposerEdit()
        self.editor.setPlaceholderText("Write a reply…  (/ for canned replies, Ctrl+K to search them)")
        self.editor.setMaximumHeight(160)
        self.editor.textChanged.connect(self._text_changed)
        self.editor.shortcutChosen.connect(self.insert_shortcut)

        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.send_anyway_button = QPushButton("Send anyway…")
        self.send_anyway_button.setObjectName("sendAnyway")
        self.send_anyway_button.setVisible(False)
        self.send_anyway_button.clicked.connect(self.send_anyway)
        self.send_now_button = QPushButton("Send now anyway")
        self.send_now_button.setObjectName("sendNowAnyway")
        self.send_now_button.setToolTip("Send after the undo window, without waiting for opening time")
        self.send_now_button.setVisible(False)
        self.send_now_button.clicked.connect(self.send_now)
        # The last reply sent stays undoable here even when its conversation leaves the list (it no longer
        # needs a reply, so the list moves on): Undo must not depend on finding the thread again.
        self.undo_bar = QWidget()
        self.undo_bar.setObjectName("undoBar")
        self.undo_label = QLabel()
        self.undo_label.setObjectName("undoLabel")
        self.undo_send_button = QPushButton("Undo")
        self.undo_send_button.setObjectName("undoSend")
        self.undo_send_button.clicked.connect(self.undo_last)
        undo_layout = QHBoxLayout(self.undo_bar)
        undo_layout.setContentsMargins(0, 0, 0, 0)
        undo_layout.addWidget(self.undo_label, 1)
        undo_layout.addWidget(self.undo_send_button)
        self.undo_bar.setVisible(False)
        self._last_item: OutboxItem | None = None
        self._last_who = ""
        self._last_opening = ""
        self.outbox_panel = OutboxPanel(clock)
        self.outbox_panel.undoRequested.connect(self.undo)
        self.outbox_panel.retryRequested.connect(self.retry)
        self.outbox_panel.releaseRequested.connect(self.release)

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
        for widget in (self.advice_banner, self.exposure_banner, self.guard_banner, self.repeat_label,
                       self.cooloff_label, self.read_only_label):
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
        self._settings = outbox_store.account_settings(self._reader, self._thread.account_id)
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

    # -- text, variables and drafts --------------------------------------------------------------------------------

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

    def variables(self) -> dict[str, str]:
        thread = self._thread
        if thread is None:
            return {}
        name = (self._target.author_name if self._target and self._target.direction == "in" else "") or (
            thread.author_name or thread.author_handle)
        handle = (self._target.author_handle if self._target and self._target.direction == "in" else "") or (
            thread.author_handle)
        return {"customer_name": name, "customer_handle": handle,
                "my_name": self._settings.signature_name or "", "business": self._business}

    # -- canned replies --------------------------------------------------------------------------------------------

    def _library_changed(self) -> None:
        self.editor.set_shortcuts([r.shortcut for r in self._canned.library])

    def insert_shortcut(self, shortcut: str) -> bool:
        reply = self._canned.library.by_shortcut(shortcut)
        if reply is None:
            self.messageRequested.emit(f"There is no canned reply /{shortcut}.")
            return False
        self.insert_canned([reply])
        return True

    def insert_canned(self, replies: Sequence[canned_rules.CannedReply]) -> None:
        """Insert one or several canned replies (combined) at the cursor, replacing a typed ``/shortcut``."""
        if not replies or self._thread is None:
            return
        context = self.variables()
        rendered = canned_rules.join([canned_rules.render(r.body, context) for r in replies])
        cursor = self.editor.textCursor()
        before = cursor.block().text()[: cursor.positionInBlock()]
        # A second snippet typed after the first becomes its own paragraph.
        separate = self.editor.slash_token() is None and before.strip() != ""
        self.editor.replace_token(("\n\n" if separate else "") + rendered.text)
        self._inserted += [r.id for r in replies]
        self._show_repeat(replies)
        self._evaluate()
        self.editor.setFocus()
        if rendered.slots:
            self.editor.select_next_slot()

    def _show_repeat(self, replies: Sequence[canned_rules.CannedReply]) -> None:
        thread = self._thread
        if thread is None:
            return
        history = self._canned.history()
        for reply in replies:
            warning = already_sent(reply.id, thread.author_id or "", thread.id, history)
            if warning is not None:
                self.repeat_label.setText(f"“{reply.title}”: {warning.message}")
                self.repeat_label.setVisible(True)
                return

    def open_palette(self) -> None:
        if self._thread is None:
            return
        from console.ui.canned_palette import CannedPalette

        palette = CannedPalette(self._canned.library, parent=self)
        palette.chosen.connect(self.insert_canned)
        palette.open()
        self.palette = palette

    def open_canned_dialog(self) -> None:
        from console.ui.canned_dialog import CannedDialog

        dialog = CannedDialog(self._canned, parent=self)
        dialog.open()
        self.canned_dialog = dialog

    # -- signature -------------------------------------------------------------------------------------------------

    def ask_signature(self) -> None:
        if self._thread is None:
            return
        name, ok = QInputDialog.getText(
            self, "Signature", "Your first name, added to public replies as “— Sam”:",
            text=self._settings.signature_name or "")
        if ok:
            self.set_signature_name(name)

    def set_signature_name(self, name: str) -> None:
        if self._thread is None:
            return
        self._settings = replace(self._settings, account_id=self._thread.account_id,
                                 signature_name=" ".join(name.split()) or None)
        run_task(self._outbox.save_account_settings(self._settings), on_error=self.messageRequested.emit)
        self._evaluate()

    def open_reply_settings(self) -> None:
        """The selected thread's account: signature, cool-off, undo window and business hours."""
        if self._thread is None:
            return
        dialog = ReplySettingsDialog(replace(self._settings, account_id=self._thread.account_id),
                                     self._business or self._thread.account_id, parent=self)
        dialog.saved.connect(self.apply_settings)
        dialog.open()
        self.settings_dialog = dialog

    def apply_settings(self, settings: AccountSettings) -> None:
        """Save an account's settings and use them at once (cool-off, signature, business hours)."""
        run_task(self._outbox.save_account_settings(settings), on_error=self.messageRequested.emit)
        if self._thread is not None and settings.account_id == self._thread.account_id:
            self._settings = settings
        self._evaluate()

    # -- the verdicts ----------------------------------------------------------------------------------------------

    def _cooloff(self) -> DraftCoolOff | None:
        if self._thread is None:
            return None
        # The policy is read from the account's settings every time, so a change in Reply settings applies at once.
        policy = CoolOffPolicy()
        if self._settings.cooloff_public_s is not None or self._settings.cooloff_direct_s is not None:
            policy = CoolOffPolicy(
                timedelta(seconds=self._settings.cooloff_public_s) if self._settings.cooloff_public_s is not None
                else policy.public_delay,
                timedelta(seconds=self._settings.cooloff_direct_s) if self._settings.cooloff_direct_s is not None
                else policy.direct_delay)
        cool = self._cooloffs.get(self._thread.id)
        if cool is None:
            cool = self._cooloffs[self._thread.id] = DraftCoolOff(policy, self._clock)
        cool.policy = policy
        return cool

    def _next_opening(self) -> datetime | None:
        """When the account's business opens next, if it is closed now; ``None`` when open or without hours."""
        hours = hours_of(self._settings) if self._thread is not None else None
        if hours is None:
            return None
        now = self._clock()
        opening = hours.next_opening(now)
        return opening if opening is not None and opening > now else None

    def _opening_text(self) -> str:
        opening = self._opening
        hours = hours_of(self._settings)
        if opening is None or hours is None:
            return ""
        local = opening.astimezone(hours.tz)
        return f"{local:%a} {local.hour}:{local.minute:02d}"

    def _evaluate(self, rejudge: bool = True) -> None:
        text = self.text()
        final = self.final_text()
        public = self.visibility is not Visibility.DIRECT
        remaining = self._rule.remaining(final)
        self.counter.setText(f"{remaining} left")
        self.counter.setToolTip(f"{self._rule.count(final)} of {self._rule.max_length} characters, "
                                f"counted the way {self._thread.network if self._thread else 'the network'} counts")
        self.counter.setStyleSheet("color: #c00; font-weight: bold;" if remaining < 0 else "color: #666;")
        slots = canned_rules.unfilled_slots(text)
        self._findings = scan(text) if public else []
        self.editor.set_marks(slots, [(f.start, f.end) for f in self._findings])
        cool = self._cooloff()
        if cool is not None:
            self._cool_state = cool.update(text, self.visibility) if rejudge else cool.state()
        else:
            self._cool_state = CoolOffState(held=False, remaining=timedelta(0))

        if self._findings:
            self.guard_label.setText(
                f"This public reply contains {describe(self._findings)}. "
                + " ".join(dict.fromkeys(f.explanation for f in self._findings)))
        self.guard_banner.setVisible(bool(self._findings))
        heated = self._cool_state.held or self._cool_state.heated
        if heated and self._cool_state.reasons:
            self.cooloff_label.setText("This reads as heated: " + "; ".join(self._cool_state.reasons) + ". "
                                       "Take a breath; you can keep editing, and a calmer wording clears the wait.")
        self.cooloff_label.setVisible(bool(heated and self._cool_state.reasons and text.strip()))

        reason = ""
        label = "Send" if public else "Send DM"
        if self._thread is None or self._target is None:
            reason = "Choose a conversation to reply to."
        elif self.read_only:
            reason = READ_ONLY_REASON
        elif self._busy:
            reason = "Sending…"
        elif not text.strip():
            reason = "Write a reply first."
        elif remaining < 0:
            reason = f"The reply is {-remaining} characters too long for {self._thread.network}."
        elif slots:
            names = ", ".join(dict.fromkeys(f"{{{s.name}}}" for s in slots))
            reason = f"Fill in {names} before sending (Tab jumps to the next one)."
        elif self._findings:
            reason = f"A public reply must not contain {describe(self._findings)}; send it as a DM instead."
        elif self._cool_state.held:
            reason = (f"This reply reads as heated; it can be sent in {countdown(self._cool_state.remaining.total_seconds())}"
                      " unless you rewrite it more calmly.")
            label = f"Send in {countdown(self._cool_state.remaining.total_seconds())}"
        self._opening = self._next_opening()
        if self._opening is not None and not self._cool_state.held:
            label = f"Send at opening ({self._opening_text()})"
        self._block_reason = reason
        self.send_button.setText(label)
        self.send_button.setEnabled(not reason)
        self.send_button.setToolTip(reason or (
            f"You are closed now: the reply waits until opening time ({self._opening_text()}), and you can undo it "
            "until then" if self._opening is not None else "Send (you can undo it for a few seconds)"))
        self.send_anyway_button.setVisible(self._cool_state.held and not self._busy and bool(text.strip()))
        self.send_now_button.setVisible(self._opening is not None and not reason)

    @property
    def block_reason(self) -> str:
        return self._block_reason

    def tick(self) -> None:
        """Once a second: the cool-off countdown and the outbox's "sending in" countdowns."""
        self._evaluate(rejudge=False)
        self.outbox_panel.tick()
        self._show_undo_bar()

    def _show_undo_bar(self) -> None:
        item = self._last_item
        left = (parse_iso(item.send_after) - self._clock()).total_seconds() if item else 0
        if item is None or left <= 0:
            self._last_item = None
            self.undo_bar.setVisible(False)
            return
        when = f"waits for opening ({self._last_opening})" if self._last_opening else f"sending in {countdown(left)}"
        self.undo_label.setText(f"Reply to {self._last_who} {when}")
        self.undo_bar.setVisible(True)

    def undo_last(self) -> None:
        """Take back the reply just sent (the Undo beside Send), wherever the thread list has moved on to."""
        item, self._last_item = self._last_item, None
        self.undo_bar.setVisible(False)
        if item is not None:
            self.undo(item.id)

    # -- read-only threads (feeds) ---------------------------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        """A watched feed's item: nothing can be sent from Tend, the answer belongs on the site."""
        return self._thread is not None and self._thread.network in READ_ONLY_NETWORKS

    def _show_read_only(self) -> bool:
        """Say where to answer instead of offering to; True when the thread is read-only (no other banner then)."""
        url = next((p.url for p in reversed(self._posts) if p.url.startswith(("https://", "http://"))), "")
        if self.read_only:
            link = f' <a href="{escape(url, quote=True)}">Open it on {escape(urlsplit(url).hostname or "the site")}' \
                   "</a>" if url else ""
            self.read_only_label.setText(f"{escape(READ_ONLY_REASON)}{link}")
            self.read_only_label.setToolTip(url)
            for banner in (self.advice_banner, self.exposure_banner, self.guard_banner):
                banner.setVisible(False)
        self.read_only_label.setVisible(self.read_only)
        self.counter.setVisible(not self.read_only)
        return self.read_only

    def _show_banners(self) -> None:
        if self._show_read_only():
            self._advice = None
            return
        advice = thread_advice(self._posts, clock=self._clock) if self._posts else None
        self._advice = advice
        if advice is not None:
            self.advice_label.setText(advice.message)
            self.advice_button.setText(f"Insert /{advice.suggested_shortcut}")
            self.advice_button.setVisible(self._canned.library.by_shortcut(advice.suggested_shortcut) is not None)
        self.advice_banner.setVisible(advice is not None)
        message = None
        for post in reversed(self._posts):
            if post.direction == "in" and post.visibility != Visibility.DIRECT.value and not post.deleted_at:
                message = exposure_banner(exposure_in_incoming(post.text))
                if message:
                    break
        if message:
            self.exposure_label.setText(message)
            self.exposure_button.setVisible(self._canned.library.by_shortcut("delete-post") is not None)
        self.exposure_banner.setVisible(bool(message))

    def _insert_advised(self) -> None:
        if self._advice is not None:
            self.insert_shortcut(self._advice.suggested_shortcut)

    def switch_to_direct(self) -> None:
        self.direct_button.setChecked(True)

    # -- sending ---------------------------------------------------------------------------------------------------

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def send(self) -> None:
        """Send (at the next opening time, when the business is closed now)."""
        self._send(wait_for_opening=True)

    def send_now(self) -> None:
        """Send after the undo window even though the business is closed."""
        self._send(wait_for_opening=False)

    def _send(self, wait_for_opening: bool) -> None:
        self._evaluate()
        if self._block_reason or self._thread is None or self._target is None:
            return
        thread, target = self._thread, self._target
        opening = self._opening if wait_for_opening else None
        opening_text = self._opening_text() if opening is not None else ""
        text, visibility, used = self.final_text(), self.visibility, list(self._inserted)
        raw = self.text()
        self._draft_timer.stop()
        self._busy = True
        self._inserted = []
        self._set_text("")
        self.repeat_label.setVisible(False)

        async def queue() -> None:
            try:
                item = await self._outbox.queue(target.id, text, visibility, not_before=opening)
            except BaseException:
                if self.thread_id == thread.id and not self.text():
                    self._set_text(raw)
                    self._inserted = used
                raise
            finally:
                self._busy = False
                self._evaluate()
            self._canned.record_sent(used, thread.author_id or "", thread.id, self._clock())
            if self.thread_id == thread.id:
                self.refresh_outbox()
            seconds = max(0, int((parse_iso(item.send_after) - self._clock()).total_seconds()))
            when = f"at opening ({opening_text})" if opening_text else f"in {seconds} s"
            self.messageRequested.emit(f"Reply queued: it goes out {when}; Undo takes it back.")
            self._last_item = item
            self._last_who = thread.author_name or thread.author_handle
            self._last_opening = opening_text
            self._show_undo_bar()
            self.queued.emit(item)

        run_task(queue(), on_error=self.messageRequested.emit)

    def send_anyway(self) -> None:
        cool = self._cooloff()
        if cool is None or self._thread is None or not self._cool_state.held:
            return
        reasons = "; ".join(self._cool_state.reasons) or "its tone"
        if not self.confirm("Send a heated reply?",
                            f"This reply reads as heated ({reasons}).\n\nA public reply is read by everyone and may be "
                            "screenshotted. Send it now anyway? This will be noted on the conversation."):
            return
        override = cool.override()
        detail = {"at": iso_utc(override.at), "text_digest": override.text_digest, "reasons": list(override.reasons),
                  "visibility": str(self.visibility), "remaining_s": int(self._cool_state.remaining.total_seconds())}
        run_task(self._outbox.record_cooloff_override(self._thread.id, detail), on_error=self.messageRequested.emit)
        self.send()

    # -- the outbox ------------------------------------------------------------------------------------------------

    def refresh_outbox(self) -> None:
        items = outbox_store.items_for_thread(self._reader, self._thread.id) if self._thread else []
        self.outbox_panel.set_items(items)

    def _act(self, action: Callable[[str], object], outbox_id: str, done: str) -> None:
        thread_id = self.thread_id

        async def run() -> None:
            item: OutboxItem = await action(outbox_id)  # type: ignore[misc]
            if self.thread_id == thread_id == item.thread_id:
                self.refresh_outbox()
                if action == self._outbox.undo and not self.text().strip():
                    draft = outbox_store.load_draft(self._reader, item.thread_id)
                    if draft is not None:
                        self._set_text(draft.text)
                        self._loading = True
                        (self.direct_button if draft.visibility is Visibility.DIRECT else self.public_button).setChecked(True)
                        self._loading = False
                        self._evaluate()
            self.messageRequested.emit(done)

        run_task(run(), on_error=self.messageRequested.emit)

    def undo(self, outbox_id: str) -> None:
        self._act(self._outbox.undo, outbox_id, "Reply taken back; its words are in the draft again.")

    def retry(self, outbox_id: str) -> None:
        self._act(self._outbox.retry, outbox_id, "Trying to send the reply again.")

    def release(self, outbox_id: str) -> None:
        self._act(self._outbox.release, outbox_id, "Sending the held reply now.")

    def shutdown(self) -> None:
        """Save what is typed and stop the timers (the window is closing)."""
        self.flush_draft()
        self._tick_timer.stop()
        if self._library_changed in self._canned.on_changed:
            self._canned.on_changed.remove(self._library_changed)
