"""Held and failed replies across every conversation: after a restart nothing is sent behind the owner's back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from console.store import Inbox
from console.store import outbox as outbox_store
from console.store.outbox import OutboxState
from console.ui.composer import Composer
from console.ui.composer_outbox import OutboxPanel


class AttentionDialog(QDialog):
    def __init__(self, reader: Inbox, composer: Composer, *, clock: Callable[[], datetime],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outboxAttention")
        self.setWindowTitle("Replies waiting for you")
        self.resize(640, 320)
        self._reader = reader
        self.empty_label = QLabel("Nothing is held or failed: every reply was sent or taken back.")
        self.panel = OutboxPanel(clock)
        self.panel.undoRequested.connect(composer.undo)
        self.panel.retryRequested.connect(composer.retry)
        self.panel.releaseRequested.connect(composer.release)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.panel)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Replies held when Tend closed during their undo window, and replies the network "
                                "refused. Send or retry them, or take them back (their words return to the draft)."))
        layout.addWidget(self.empty_label)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)

    def reload(self) -> None:
        items = outbox_store.items_in_states(self._reader, OutboxState.HELD, OutboxState.FAILED)
        self.panel.set_items(items)
        self.empty_label.setVisible(not items)
