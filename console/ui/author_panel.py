"""The author panel: who this person is, how far their words travel, every conversation with them across the
business's accounts, and the owner's private notes and VIP flag.

Non-modal, so the owner can keep it open beside the thread they are answering. Reads go through the read-only
connection; writes go through ``PeopleService`` (the writer thread). Notes save themselves once typing pauses and
when the panel closes or moves to another person, so there is no Save button to forget.
"""

from __future__ import annotations

from html import escape

import shiboken6
import sqlite_utils
from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.services.people import PeopleService
from console.services.watches import WatchService
from console.store import ChangeSet
from console.store.people import AuthorProfile, AuthorThread, author_profile, author_threads
from console.store.watches import author_muted
from console.ui.formatting import compact_number, count_of, local_time
from console.ui.icons import network_icon
from console.ui.tasks import run_task

NOTE_DEBOUNCE_MS = 800
THREAD_LIMIT = 200

THREAD_COLUMNS = ("When", "Account", "Status", "Their words", "Reshares / heat", "Took part")
COL_WHEN, COL_ACCOUNT, COL_STATUS, COL_WORDS, COL_SPREAD, COL_PART = range(len(THREAD_COLUMNS))
ThreadIdRole = Qt.ItemDataRole.UserRole + 1

_ERROR_STYLE = "color: #b3261e"


def one_line(text: str) -> str:
    """A post squeezed onto one row; the tooltip keeps the full text."""
    return " ".join(text.split())


def thread_words(thread: AuthorThread) -> str:
    if thread.posted:
        return one_line(thread.text)
    return f"Reshared: “{one_line(thread.reshared_text)}”"


def history_line(profile: AuthorProfile) -> str:
    """How much of this person the inbox has seen, in one sentence."""
    if not profile.post_count:
        seen = "No posts of theirs in your inbox"
    elif profile.first_seen == profile.last_seen or not profile.first_seen or not profile.last_seen:
        seen = f"{count_of(profile.post_count, 'post')} in your inbox, {local_time(profile.last_seen or '')}"
    else:
        seen = (
            f"{count_of(profile.post_count, 'post')} in your inbox, "
            f"{local_time(profile.first_seen)} – {local_time(profile.last_seen)}"
        )
    if profile.resharer_count:
        seen += f"; reshared by {count_of(profile.resharer_count, 'person', 'people')}"
    return seen + "."


def _thread_item(thread: AuthorThread) -> QTreeWidgetItem:
    spread = f"{compact_number(thread.reshare_total)} / {thread.heat}"
    item = QTreeWidgetItem(
        [
            local_time(thread.last_activity_at),
            thread.account_handle or thread.account_id,
            thread.status.capitalize(),
            thread_words(thread),
            spread,
            thread.participation,
        ]
    )
    item.setData(COL_WHEN, ThreadIdRole, thread.thread_id)
    item.setToolTip(COL_WHEN, f"Latest activity in the conversation; theirs: {local_time(thread.their_last_at)}")
    item.setToolTip(COL_WORDS, thread.text if thread.posted else thread.reshared_text)
    item.setToolTip(COL_SPREAD, f"{thread.reshare_total:,} reshares and quotes · heat {thread.heat}"
                                f" · up to {thread.reach:,} people reached")
    item.setTextAlignment(COL_SPREAD, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class AuthorPanel(QDialog):
    """One person at a time; ``show_author`` moves it to another. ``threadRequested`` asks the window to open a
    conversation (double-click or Enter on a row)."""

    threadRequested = Signal(str)

    def __init__(
        self,
        db: sqlite_utils.Database,
        people: PeopleService,
        parent: QWidget | None = None,
        *,
        watches: WatchService | None = None,
    ) -> None:
        super().__init__(parent)
        self.setModal(False)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self._db = db
        self._people = people
        self._author_id: str | None = None
        self._profile: AuthorProfile | None = None
        self._saved_note: str | None = None  # what the inbox holds (None: unknown, so the next save always writes)
        self._loading = False

        self.icon_label = QLabel()
        self.name_label = QLabel()
        self.name_label.setTextFormat(Qt.TextFormat.RichText)
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.vip_box = QCheckBox("VIP")
        self.vip_box.setToolTip("A VIP's conversations move up “Needs reply”.")
        self.vip_box.toggled.connect(self._vip_toggled)
        self._watches = watches
        self.mute_box = QCheckBox("Mute in brand watches")
        self.mute_box.setToolTip("Their posts no longer come in through brand watches (File ▸ Brand watch…).\n"
                                 "Posts that tag you still do; conversations already here stay.")
        self.mute_box.setVisible(watches is not None)
        self.mute_box.toggled.connect(self._mute_toggled)
        header = QHBoxLayout()
        header.addWidget(self.icon_label)
        header.addWidget(self.name_label, 1)
        header.addWidget(self.vip_box)
        header.addWidget(self.mute_box)

        self.figures_label = QLabel()
        self.figures_label.setTextFormat(Qt.TextFormat.RichText)
        self.figures_label.setOpenExternalLinks(True)
        self.history_label = QLabel()
        self.history_label.setWordWrap(True)

        self.influence_label = QLabel()
        self.influence_label.setTextFormat(Qt.TextFormat.PlainText)
        self.influence_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.influence_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.influence_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        influence_box = QGroupBox("Influence")
        QVBoxLayout(influence_box).addWidget(self.influence_label)

        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Private notes on this person. Only you see them; they stay in this inbox.")
        self.notes.setTabChangesFocus(True)
        self.notes.textChanged.connect(self._note_edited)
        self.note_status = QLabel("")
        self._note_timer = QTimer(self)
        self._note_timer.setSingleShot(True)
        self._note_timer.setInterval(NOTE_DEBOUNCE_MS)
        self._note_timer.timeout.connect(self.save_note)
        notes_box = QGroupBox("Notes")
        notes_layout = QVBoxLayout(notes_box)
        notes_layout.addWidget(self.notes)
        notes_layout.addWidget(self.note_status)

        self.threads = QTreeWidget()
        self.threads.setHeaderLabels(list(THREAD_COLUMNS))
        self.threads.setRootIsDecorated(False)
        self.threads.setUniformRowHeights(True)
        self.threads.setAlternatingRowColors(True)
        self.threads.header().setSectionResizeMode(COL_WORDS, QHeaderView.ResizeMode.Stretch)
        self.threads.header().setStretchLastSection(False)
        self.threads.itemActivated.connect(self._thread_activated)
        threads_box = QGroupBox("Conversations")
        QVBoxLayout(threads_box).addWidget(self.threads)

        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(_ERROR_STYLE)
        self.error_label.hide()

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(influence_box)
        top.addWidget(notes_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.figures_label)
        layout.addWidget(self.history_label)
        layout.addLayout(top)
        layout.addWidget(threads_box, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.resize(820, 600)

    # -- which person ----------------------------------------------------------------------------------------------

    @property
    def author_id(self) -> str | None:
        return self._author_id

    def show_author(self, author_id: str) -> None:
        """Show another person (the current one's unsaved note is saved first) and bring the panel forward."""
        if author_id != self._author_id:
            self.save_note()
            self._author_id = author_id
            self._saved_note = None
            self.show_error("")
            self.note_status.setText("")
            self.reload(replace_note=True)
        self.show()
        self.raise_()
        self.activateWindow()

    def reload(self, *, replace_note: bool = False) -> None:
        """Read the person again (after sync or another window's change). A note the owner is still typing is left
        alone unless ``replace_note``."""
        if self._author_id is None:
            return
        profile = author_profile(self._db, self._author_id)
        self._profile = profile
        self._loading = True
        try:
            self._show_profile(profile)
            self._show_threads(author_threads(self._db, self._author_id, THREAD_LIMIT))
            editing = self._note_timer.isActive() or self.notes.toPlainText() != (self._saved_note or "")
            note = profile.note if profile else ""
            if (replace_note or not editing) and note != self.notes.toPlainText():
                self.notes.setPlainText(note)  # only when it differs: setting text moves the cursor to the start
            if replace_note or not editing:
                self._saved_note = profile.note if profile else None
        finally:
            self._loading = False

    def _show_profile(self, profile: AuthorProfile | None) -> None:
        self.vip_box.setEnabled(profile is not None)
        self.mute_box.setEnabled(profile is not None)
        with QSignalBlocker(self.mute_box):
            self.mute_box.setChecked(profile is not None and author_muted(self._db, profile.id))
        self.notes.setReadOnly(profile is None)
        if profile is None:
            self.setWindowTitle("Unknown person")
            self.icon_label.clear()
            self.name_label.setText("<b>This person is not in your inbox.</b>")
            for label in (self.figures_label, self.history_label, self.influence_label):
                label.setText("")
            with QSignalBlocker(self.vip_box):
                self.vip_box.setChecked(False)
            return
        name = profile.display_name or profile.handle
        self.setWindowTitle(f"{name} — Tend")
        self.icon_label.setPixmap(network_icon(profile.network).pixmap(20, 20))
        self.icon_label.setToolTip(profile.network.capitalize())
        self.name_label.setText(
            f"<span style='font-size:large'><b>{escape(name)}</b></span> "
            f"<span style='color:#555'>{escape(profile.handle)} · {escape(profile.network.capitalize())}</span>"
        )
        figures = (
            f"{escape(count_of(profile.followers, 'follower'))} · follows {profile.following:,} · "
            f"{escape(count_of(profile.posts, 'post'))}"
        )
        if profile.url:
            figures += f" · <a href=\"{escape(profile.url, quote=True)}\">Open profile</a>"
        self.figures_label.setText(figures)
        self.history_label.setText(history_line(profile))
        self.influence_label.setText(profile.influence_breakdown().explain())
        with QSignalBlocker(self.vip_box):
            self.vip_box.setChecked(profile.vip)

    def apply_changes(self, changes: ChangeSet) -> None:
        """Sync or an owner action changed threads: read this person again while the panel is open (cheap: one
        profile and at most ``THREAD_LIMIT`` rows)."""
        if changes.thread_ids and self.isVisible():
            self.reload()

    def _show_threads(self, threads: list[AuthorThread]) -> None:
        current = self.threads.currentItem()
        keep = current.data(COL_WHEN, ThreadIdRole) if current is not None else None
        self.threads.clear()
        items = [_thread_item(thread) for thread in threads]
        self.threads.addTopLevelItems(items)
        for item in items:
            if keep is not None and item.data(COL_WHEN, ThreadIdRole) == keep:
                self.threads.setCurrentItem(item)
        for column in (COL_WHEN, COL_ACCOUNT, COL_STATUS, COL_SPREAD, COL_PART):
            self.threads.resizeColumnToContents(column)

    def thread_ids(self) -> list[str]:
        """The listed conversations, top to bottom."""
        count = self.threads.topLevelItemCount()
        return [self.threads.topLevelItem(i).data(COL_WHEN, ThreadIdRole) for i in range(count)]

    def _thread_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        thread_id = item.data(COL_WHEN, ThreadIdRole)
        if thread_id:
            self.threadRequested.emit(thread_id)

    # -- VIP -------------------------------------------------------------------------------------------------------

    def _vip_toggled(self, checked: bool) -> None:
        if self._loading or self._author_id is None:
            return
        author_id = self._author_id
        self.show_error("")
        run_task(
            self._people.set_vip(author_id, checked),
            on_error=lambda message: self._vip_failed(author_id, message),
        )

    def _vip_failed(self, author_id: str, message: str) -> None:
        if not shiboken6.isValid(self):
            return
        self.show_error(f"The VIP flag was not changed. {message}")
        if author_id == self._author_id:
            profile = author_profile(self._db, author_id)
            with QSignalBlocker(self.vip_box):
                self.vip_box.setChecked(bool(profile and profile.vip))

    # -- brand-watch mute ------------------------------------------------------------------------------------------

    def _mute_toggled(self, checked: bool) -> None:
        if self._loading or self._author_id is None or self._watches is None:
            return
        author_id = self._author_id
        self.show_error("")
        run_task(
            self._watches.set_muted(author_id, checked),
            on_error=lambda message: self._mute_failed(author_id, message),
        )

    def _mute_failed(self, author_id: str, message: str) -> None:
        if not shiboken6.isValid(self):
            return
        self.show_error(f"Muting was not changed. {message}")
        if author_id == self._author_id:
            with QSignalBlocker(self.mute_box):
                self.mute_box.setChecked(author_muted(self._db, author_id))

    # -- notes -----------------------------------------------------------------------------------------------------

    def _note_edited(self) -> None:
        if self._loading or self._author_id is None:
            return
        self.note_status.setText("")
        self._note_timer.start()

    def save_note(self) -> None:
        """Write the note now if it differs from what the inbox holds (typing paused, panel closing, person changed)."""
        self._note_timer.stop()
        if self._author_id is None or self._profile is None:
            return
        text = self.notes.toPlainText()
        if text == self._saved_note:
            return
        author_id = self._author_id
        self._saved_note = text
        self.note_status.setText("Saving…")
        run_task(
            self._people.set_note(author_id, text),
            on_error=lambda message: self._note_failed(author_id, message),
            on_done=lambda: self._note_saved(author_id, text),
        )

    def _note_saved(self, author_id: str, text: str) -> None:
        if shiboken6.isValid(self) and author_id == self._author_id and text == self.notes.toPlainText():
            self.note_status.setText("Saved")

    def _note_failed(self, author_id: str, message: str) -> None:
        if not shiboken6.isValid(self):
            return
        if author_id == self._author_id:
            self._saved_note = None  # unknown now: the next pause or closing tries again
            self.note_status.setText("Not saved")
        self.show_error(f"The note was not saved. {message}")

    # -- errors and closing ----------------------------------------------------------------------------------------

    def show_error(self, message: str) -> None:
        """Tell the owner in plain words inside the panel (a message box over a side panel is one window too many)."""
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def done(self, result: int) -> None:
        """Closing (Close, Escape, the window's X) saves a note still waiting for its pause."""
        self.save_note()
        super().done(result)
