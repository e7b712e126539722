"""File ▸ Brand watch…: the words people use for the business when they do not tag it, and the words that rule a
post out, with a box to try a post against them before saving. Muted people are listed here with Unmute (muting
itself is done from the author panel, where the person is in front of the owner)."""

from __future__ import annotations

import shiboken6
import sqlite_utils
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.watches import BrandWatch
from console.services.watches import WatchService
from console.store.watches import brand_watch, muted_authors
from console.ui.tasks import run_task

AuthorIdRole = Qt.ItemDataRole.UserRole + 1

EXPLANATION = (
    "Tend searches each connected network for these words every few minutes and brings the posts that use them "
    "into your inbox, marked <i>Unmentioned</i>: people talking about you without tagging you.<br>"
    "A word matches as a whole word, in any case and with or without accents: <b>cafe</b> finds “Café” but not "
    "“cafeteria”. A phrase matches with spaces or hyphens between its words: <b>mill lane</b> finds "
    "“Mill-Lane”. "
    "Hashtags match only as hashtags: list <b>#crumbandco</b> as well as <b>crumbandco</b> if you want both. "
    "Posts by you, and by people you mute in their author panel, never come in this way."
)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class WatchesDialog(QDialog):
    """Edit the inbox's brand watch. ``saved`` carries the watch as stored."""

    saved = Signal(object)  # BrandWatch

    def __init__(self, db: sqlite_utils.Database, service: WatchService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("watchesDialog")
        self.setWindowTitle("Brand watch — Tend")
        self._db = db
        self._service = service

        explanation = QLabel(EXPLANATION)
        explanation.setWordWrap(True)
        explanation.setTextFormat(Qt.TextFormat.RichText)

        self.terms_edit = QPlainTextEdit()
        self.terms_edit.setObjectName("watchTerms")
        self.terms_edit.setPlaceholderText("Crumb & Co\ncrumbandco\n#crumbandco\nsourdough bun\nMill Lane")
        self.terms_edit.setTabChangesFocus(True)
        self.exclude_edit = QPlainTextEdit()
        self.exclude_edit.setObjectName("watchExclude")
        self.exclude_edit.setPlaceholderText("crumb rubber\ncake crumbs")
        self.exclude_edit.setTabChangesFocus(True)
        words = QGridLayout()
        words.addWidget(QLabel("<b>Words for your business</b>, one per line: name, misspellings, products, "
                               "hashtags, your street"), 0, 0)
        words.addWidget(QLabel("<b>Leave out posts containing</b>, one per line"), 0, 1)
        words.addWidget(self.terms_edit, 1, 0)
        words.addWidget(self.exclude_edit, 1, 1)
        words.setColumnStretch(0, 3)
        words.setColumnStretch(1, 2)

        self.try_edit = QLineEdit()
        self.try_edit.setObjectName("watchTry")
        self.try_edit.setPlaceholderText("Paste a post here to see whether the words above would find it")
        self.try_result = QLabel("")
        self.try_result.setObjectName("watchTryResult")
        try_box = QHBoxLayout()
        try_box.addWidget(self.try_edit, 1)
        try_box.addWidget(self.try_result)

        self.muted_list = QListWidget()
        self.muted_list.setObjectName("watchMuted")
        self.muted_list.setMaximumHeight(110)
        self.unmute_button = QPushButton("Unmute")
        self.unmute_button.setEnabled(False)
        self.unmute_button.clicked.connect(self.unmute_selected)
        self.muted_list.currentItemChanged.connect(
            lambda current, _previous: self.unmute_button.setEnabled(current is not None))
        muted_box = QGroupBox("Muted in brand watches")
        muted_layout = QHBoxLayout(muted_box)
        muted_layout.addWidget(self.muted_list, 1)
        muted_layout.addWidget(self.unmute_button, 0, Qt.AlignmentFlag.AlignTop)

        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b3261e")
        self.error_label.hide()

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addLayout(words, 1)
        layout.addLayout(try_box)
        layout.addWidget(muted_box)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

        self.terms_edit.textChanged.connect(self._update_try)
        self.exclude_edit.textChanged.connect(self._update_try)
        self.try_edit.textChanged.connect(self._update_try)
        self.resize(760, 560)
        self.reload()

    # -- reading ---------------------------------------------------------------------------------------------------

    def reload(self) -> None:
        """Show the watch as stored (discarding unsaved edits) and who is muted."""
        watch = brand_watch(self._db)
        self.terms_edit.setPlainText("\n".join(watch.terms))
        self.exclude_edit.setPlainText("\n".join(watch.exclude))
        self._reload_muted()
        self.show_error("")

    def _reload_muted(self) -> None:
        self.muted_list.clear()
        for person in muted_authors(self._db):
            label = f"{person.display_name} ({person.handle})" if person.display_name else person.handle
            item = QListWidgetItem(f"{label} · {person.network.capitalize()}" if person.network else label)
            item.setData(AuthorIdRole, person.id)
            self.muted_list.addItem(item)
        if not self.muted_list.count():
            placeholder = QListWidgetItem("Nobody. Mute someone from their author panel (Customer…).")
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.muted_list.addItem(placeholder)
        self.unmute_button.setEnabled(False)

    def edited_watch(self) -> BrandWatch:
        """The watch as the boxes say now (not yet saved)."""
        return BrandWatch(tuple(_lines(self.terms_edit.toPlainText())), tuple(_lines(self.exclude_edit.toPlainText())))

    def _update_try(self) -> None:
        text = self.try_edit.text().strip()
        if not text:
            self.try_result.setText("")
            return
        watch = self.edited_watch()
        if not watch.active:
            self.try_result.setText("Add a word first")
        elif watch.matches(text):
            self.try_result.setText("✔ Would be found")
        elif BrandWatch(watch.terms).matches(text):
            self.try_result.setText("✘ Left out by an excluded word")
        else:
            self.try_result.setText("✘ Not found")

    # -- writing ---------------------------------------------------------------------------------------------------

    def save(self) -> None:
        watch = self.edited_watch()
        self.show_error("")
        self.buttons.setEnabled(False)
        run_task(
            self._service.save(watch.terms, watch.exclude),
            on_error=self._save_failed,
            on_done=self._saved,
        )

    def _saved(self) -> None:
        if not shiboken6.isValid(self):
            return
        self.buttons.setEnabled(True)
        self.saved.emit(brand_watch(self._db))
        self.accept()

    def _save_failed(self, message: str) -> None:
        if not shiboken6.isValid(self):
            return
        self.buttons.setEnabled(True)
        self.show_error(f"The brand watch was not saved. {message}")

    def unmute_selected(self) -> None:
        item = self.muted_list.currentItem()
        author_id = item.data(AuthorIdRole) if item is not None else None
        if not author_id:
            return
        self.unmute_button.setEnabled(False)
        run_task(
            self._service.set_muted(author_id, False),
            on_error=lambda message: self.show_error(f"Not unmuted. {message}") if shiboken6.isValid(self) else None,
            on_done=lambda: self._reload_muted() if shiboken6.isValid(self) else None,
        )

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))
