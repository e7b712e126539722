"""Telling the owner a conversation has started escalating: a desktop notification and a banner in the window.

The desktop notification (system tray) reaches an owner who is in another program; the banner stays in the window
until dismissed, for desktops without a tray (and for the owner who missed the bubble). Both open the thread when
clicked. The radar guarantees one announcement per escalation; this module only shows it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSystemTrayIcon, QWidget

from console.store.spread import Escalation

TITLE = "A conversation is escalating"


class EscalationBanner(QFrame):
    """"Ann's post is spreading … [Open] [Dismiss]" above the thread list."""

    openRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("escalationBanner")
        self.setStyleSheet("#escalationBanner { background: #fde3dc; border: 1px solid #e8a595; border-radius: 4px; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("openEscalation")
        self.dismiss_button = QPushButton("Dismiss")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.open_button)
        layout.addWidget(self.dismiss_button)
        self._thread_id: str | None = None
        self.open_button.clicked.connect(self._open)
        self.dismiss_button.clicked.connect(self.hide)
        self.hide()

    @property
    def thread_id(self) -> str | None:
        return self._thread_id

    def show_escalation(self, escalation: Escalation) -> None:
        self._thread_id = escalation.thread_id
        self.label.setText(f"<b>{TITLE}.</b> {escalation.summary()}")
        self.show()

    def _open(self) -> None:
        if self._thread_id is not None:
            self.openRequested.emit(self._thread_id)
        self.hide()


class DesktopNotifier(QWidget):
    """A tray icon that shows one bubble per escalation; clicking the bubble asks to open that thread.

    Invisible as a widget: it exists so the tray icon has a Qt parent that lives as long as the window.
    """

    openRequested = Signal(str)

    def __init__(self, icon: QIcon, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hide()
        self._last: str | None = None
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.setToolTip("Tend")
            self.tray.messageClicked.connect(self._clicked)
            self.tray.show()

    @property
    def available(self) -> bool:
        return self.tray is not None

    def notify(self, escalation: Escalation) -> bool:
        """Show the bubble; ``False`` when this desktop has no tray (the banner still shows)."""
        if self.tray is None:
            return False
        self._last = escalation.thread_id
        self.tray.showMessage(TITLE, escalation.summary(), QSystemTrayIcon.MessageIcon.Warning, 15_000)
        return True

    def _clicked(self) -> None:
        if self._last is not None:
            self.openRequested.emit(self._last)
