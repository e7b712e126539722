"""Ctrl+K: find canned replies by words ("say sorry", "order late") and insert one or several at once."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.replies.canned import CannedLibrary, CannedReply

ReplyIdRole = Qt.ItemDataRole.UserRole + 1


class CannedPalette(QDialog):
    """A search box over the library; Enter inserts the selected replies (Ctrl/Shift-click picks several)."""

    chosen = Signal(list)  # list[CannedReply], in the order shown

    def __init__(self, library: CannedLibrary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cannedPalette")
        self.setWindowTitle("Insert a canned reply")
        self.resize(520, 380)
        self._library = library
        self.search_box = QLineEdit()
        self.search_box.setObjectName("paletteSearch")
        self.search_box.setPlaceholderText("Search by words: sorry, order, call, thanks…")
        self.search_box.textChanged.connect(self._search)
        self.search_box.installEventFilter(self)
        self.results = QListWidget()
        self.results.setObjectName("paletteResults")
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.results.itemActivated.connect(lambda _item: self.accept())
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        self.preview.setStyleSheet("color: #555;")
        self.results.currentItemChanged.connect(self._show_preview)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Insert")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search_box)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.preview)
        layout.addWidget(QLabel("Ctrl-click to combine several replies in one answer."))
        layout.addWidget(buttons)
        self._search("")

    def _search(self, query: str) -> None:
        self.results.clear()
        for reply in self._library.search(query):
            label = f"{reply.title}   /{reply.shortcut}" + (f"   · {reply.category}" if reply.category else "")
            item = QListWidgetItem(label)
            item.setData(ReplyIdRole, reply.id)
            item.setToolTip(reply.body)
            self.results.addItem(item)
        if self.results.count():
            self.results.setCurrentRow(0)

    def _show_preview(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None = None) -> None:
        self.preview.setText(self._library.get(item.data(ReplyIdRole)).body if item is not None else "")

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        """Up and Down in the search box move through the results, so the keyboard never leaves the box."""
        if watched is self.search_box and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                step = -1 if event.key() == Qt.Key.Key_Up else 1
                row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
                self.results.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)

    def selected_replies(self) -> list[CannedReply]:
        items = self.results.selectedItems() or ([self.results.currentItem()] if self.results.currentItem() else [])
        items.sort(key=self.results.row)
        return [self._library.get(item.data(ReplyIdRole)) for item in items]

    def accept(self) -> None:
        chosen = self.selected_replies()
        super().accept()
        if chosen:
            self.chosen.emit(chosen)
