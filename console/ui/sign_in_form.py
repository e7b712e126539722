"""What every "Add … account" page of the Accounts dialog has: why and how (an explanation with links), the
network's own fields, and Back / Connect. Each network's page adds only its fields."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLayout, QPushButton, QVBoxLayout, QWidget


class SignInForm(QWidget):
    """Emits ``submitted`` when the owner asks to connect and ``backRequested`` for Back; the dialog signs in.

    ``name`` prefixes the object names tests and style sheets use ("blueskyForm", "blueskyConnectButton").
    """

    submitted = Signal()
    backRequested = Signal()

    def __init__(self, name: str, explanation: str, connect_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{name}Form")
        self.explanation = QLabel(explanation)
        self.explanation.setObjectName(f"{name}Explanation")
        self.explanation.setWordWrap(True)
        self.explanation.setOpenExternalLinks(True)
        self.connect_button = QPushButton(connect_label)
        self.connect_button.setObjectName(f"{name}ConnectButton")
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self.submitted)
        self.back_button = QPushButton("Back")
        self.back_button.clicked.connect(self.backRequested)

    def lay_out(self, *parts: QLayout | QWidget) -> None:
        """The explanation, the network's ``parts`` in order, then Back … Connect."""
        actions = QHBoxLayout()
        actions.addWidget(self.back_button)
        actions.addStretch(1)
        actions.addWidget(self.connect_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        for part in parts:
            if isinstance(part, QLayout):
                layout.addLayout(part)
            else:
                layout.addWidget(part)
        layout.addLayout(actions)
        layout.addStretch(1)
