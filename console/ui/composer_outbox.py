"""Replies in the outbox, each with what the owner can do about it: Undo while waiting, Retry when it failed,
Send or Undo when it was held after a restart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from console.domain import parse_iso
from console.store.outbox import OutboxItem, OutboxState


def _preview(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def countdown(seconds: float) -> str:
    """"18 s" under a minute, "4:32" above."""
    seconds = max(0, int(seconds + 0.999))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60}:{seconds % 60:02d}"


def item_status(item: OutboxItem, now: datetime) -> str:
    if item.state is OutboxState.WAITING:
        left = (parse_iso(item.send_after) - now).total_seconds()
        return f"Sending in {countdown(left)}" if left > 0 else "Sending…"
    if item.state is OutboxState.SENDING:
        return "Sending…"
    if item.state is OutboxState.HELD:
        return "Held: Tend was closed before this was sent"
    if item.state is OutboxState.FAILED:
        return f"Not sent: {item.last_error or 'the network refused it'}"
    return str(item.state)


class OutboxRow(QWidget):
    def __init__(self, item: OutboxItem, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.setObjectName(f"outbox-{item.id}")
        self.status = QLabel()
        self.status.setObjectName("outboxStatus")
        self.status.setWordWrap(True)
        self.status.setToolTip(item.text)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setObjectName("outboxUndo")
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("outboxRetry")
        self.send_button = QPushButton("Send now")
        self.send_button.setObjectName("outboxSend")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status, 1)
        for button in (self.send_button, self.retry_button, self.undo_button):
            layout.addWidget(button)
        # After the buttons have a parent: shown before that, a widget would become a window of its own.
        self.retry_button.setVisible(item.state is OutboxState.FAILED)
        self.send_button.setVisible(item.state is OutboxState.HELD)
        self.undo_button.setVisible(item.can_undo)
        if item.state is OutboxState.FAILED:
            self.status.setStyleSheet("color: #a33;")

    def refresh(self, now: datetime) -> None:
        self.status.setText(f"{item_status(self.item, now)} · “{_preview(self.item.text)}”")


class OutboxPanel(QWidget):
    """The thread's (or every) reply still in the outbox; emits the owner's choice with the outbox id."""

    undoRequested = Signal(str)
    retryRequested = Signal(str)
    releaseRequested = Signal(str)

    def __init__(self, clock: Callable[[], datetime], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outboxPanel")
        self._clock = clock
        self.rows: list[OutboxRow] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.setVisible(False)

    def set_items(self, items: Sequence[OutboxItem]) -> None:
        items = [i for i in items if i.state not in (OutboxState.SENT, OutboxState.CANCELLED)]
        if [(i.id, i.state, i.last_error) for i in items] == [(r.item.id, r.item.state, r.item.last_error)
                                                            for r in self.rows]:
            for row, item in zip(self.rows, items):  # a refresh: keep the rows (and the owner's focus)
                row.item = item
            self.tick()
            return
        for row in self.rows:
            self._layout.removeWidget(row)
            row.deleteLater()
        self.rows = []
        for item in items:
            row = OutboxRow(item, self)
            row.undo_button.clicked.connect(lambda _=False, i=item.id: self.undoRequested.emit(i))
            row.retry_button.clicked.connect(lambda _=False, i=item.id: self.retryRequested.emit(i))
            row.send_button.clicked.connect(lambda _=False, i=item.id: self.releaseRequested.emit(i))
            self._layout.addWidget(row)
            row.show()  # a child added to a visible panel stays hidden until shown
            self.rows.append(row)
        self.tick()
        self.setVisible(bool(self.rows))

    def row_for(self, outbox_id: str) -> OutboxRow | None:
        return next((r for r in self.rows if r.item.id == outbox_id), None)

    def tick(self) -> None:
        now = self._clock()
        for row in self.rows:
            row.refresh(now)
