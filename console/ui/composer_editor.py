"""The composer's text box: ``/shortcut`` completion for canned replies and highlighted slots and findings."""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QCompleter, QPlainTextEdit, QTextEdit, QWidget

from console.replies.canned import Slot

_SLASH_TOKEN = re.compile(r"(?:^|(?<=\s))/([a-z0-9-]{0,32})$")

SLOT_COLOUR = QColor("#fff2a8")
FINDING_COLOUR = QColor("#f7c6c6")


def _utf16(text: str, index: int) -> int:
    """Qt counts positions in UTF-16 units; Python in code points (they differ after an emoji)."""
    return len(text[:index].encode("utf-16-le")) // 2


class ComposerEdit(QPlainTextEdit):
    """Plain text (a reply is plain text on every network) with completion over canned-reply shortcuts.

    ``shortcutChosen`` carries the shortcut; the composer renders the reply and calls ``replace_token``.
    """

    shortcutChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composerEdit")
        self.setTabChangesFocus(False)
        self._shortcuts = QStringListModel(self)
        self.completer = QCompleter(self._shortcuts, self)
        self.completer.setWidget(self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.activated.connect(self.shortcutChosen.emit)
        self.textChanged.connect(self._offer_completion)
        self._slots: tuple[Slot, ...] = ()
        self._findings: list[tuple[int, int]] = []

    def set_shortcuts(self, shortcuts: Sequence[str]) -> None:
        self._shortcuts.setStringList(list(shortcuts))

    # -- completion ------------------------------------------------------------------------------------------------

    def slash_token(self) -> str | None:
        """The ``/word`` just before the cursor (without the slash), or ``None``."""
        cursor = self.textCursor()
        block = cursor.block().text()[: cursor.positionInBlock()]
        match = _SLASH_TOKEN.search(block)
        return match.group(1) if match else None

    def _offer_completion(self) -> None:
        token = self.slash_token()
        popup = self.completer.popup()
        if token is None:
            popup.hide()
            return
        self.completer.setCompletionPrefix(token)
        if self.completer.completionCount() == 0:
            popup.hide()
            return
        rect = self.cursorRect()
        rect.setWidth(260)
        self.completer.complete(rect)

    def replace_token(self, text: str) -> int:
        """Put ``text`` in place of the ``/token`` before the cursor; returns where ``text`` starts."""
        cursor = self.textCursor()
        token = self.slash_token()
        if token is not None:
            cursor.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, len(token) + 1)
        start = cursor.selectionStart()
        cursor.insertText(text)
        self.setTextCursor(cursor)
        self.completer.popup().hide()
        return start

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        popup = self.completer.popup()
        key = event.key()
        if popup.isVisible() and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
            index = popup.currentIndex()
            choice = index.data() if index.isValid() else self.completer.currentCompletion()
            popup.hide()
            if choice:
                self.shortcutChosen.emit(choice)
            return
        if popup.isVisible() and key == Qt.Key.Key_Escape:
            popup.hide()
            return
        if key == Qt.Key.Key_Tab and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            token = self.slash_token()
            if token:
                self.shortcutChosen.emit(token)
                return
            if self.select_next_slot():
                return
        super().keyPressEvent(event)

    # -- slots and findings ----------------------------------------------------------------------------------------

    def set_marks(self, slots: Sequence[Slot], findings: Sequence[tuple[int, int]]) -> None:
        """Highlight unfilled slots (yellow) and private details in a public reply (red)."""
        text = self.toPlainText()
        self._slots = tuple(Slot(s.name, _utf16(text, s.start), _utf16(text, s.end)) for s in slots)
        self._findings = [(_utf16(text, a), _utf16(text, b)) for a, b in findings]
        slots, findings = self._slots, self._findings
        selections = []
        for start, end, colour in [(s.start, s.end, SLOT_COLOUR) for s in slots] + [
            (a, b, FINDING_COLOUR) for a, b in findings
        ]:
            selection = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setBackground(colour)
            selection.format = fmt
            cursor = QTextCursor(self.document())
            cursor.setPosition(min(start, self.document().characterCount() - 1))
            cursor.setPosition(min(end, self.document().characterCount() - 1), QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            selections.append(selection)
        self.setExtraSelections(selections)

    def slot_marks(self) -> tuple[Slot, ...]:
        return self._slots

    def select_next_slot(self) -> bool:
        """Select the next unfilled ``{slot}`` after the cursor (wrapping), so typing replaces it."""
        if not self._slots:
            return False
        position = self.textCursor().selectionEnd()
        slot = next((s for s in self._slots if s.start >= position), self._slots[0])
        cursor = self.textCursor()
        cursor.setPosition(slot.start)
        cursor.setPosition(slot.end, QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)
        return True
