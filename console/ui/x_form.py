"""The "Add X account" page of the Accounts dialog: the client id of the owner's own X app and the monthly read cap.

X has no way for an app to register itself, so the owner creates one in the X developer portal and gives Tend its
client id; the sign-in itself then happens in the browser, as for Mastodon. The read cap is the owner's X plan's
monthly post cap: with it Tend says how many reads are left and stops reading before X cuts the account off.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

from console.ui.sign_in_form import SignInForm

DEVELOPER_PORTAL_URL = "https://console.x.com"
CALLBACK = "http://127.0.0.1:47219/callback"
CLIENT_ID_HELP = f"From your X developer app: Keys and tokens ▸ OAuth 2.0 Client ID; the app must allow {CALLBACK}"
MAX_CAP = 100_000_000

EXPLANATION = (
    "Tend connects to X through <b>your own X developer app</b>: create one in the "
    f'<a href="{DEVELOPER_PORTAL_URL}">X developer console</a> as a <i>Native App</i> with OAuth 2.0, then paste its '
    "client id here. Tend opens X in your browser so you can approve it; it never sees your password, and "
    "keeps the sign-in and the client id in your computer's keyring. The README's “Connecting X” has the steps."
)
CAP_HELP = ("The posts your X plan lets you read each month. Tend shows what is left and stops reading before X "
            "cuts you off; leave it at “not known” to count without stopping.")


def client_id_problem(client_id: str) -> str:
    """Why this cannot be a client id, in the owner's words ("" when it may be one)."""
    client_id = client_id.strip()
    if not client_id:
        return "Enter the client id of your X app (Keys and tokens ▸ OAuth 2.0 Client ID)."
    if any(c.isspace() for c in client_id) or not client_id.isprintable():
        return "A client id is one word without spaces: copy it again from Keys and tokens ▸ OAuth 2.0 Client ID."
    return ""


class XForm(SignInForm):
    """The client id and monthly read cap; the dialog checks ``problem()`` and runs the sign-in."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("x", EXPLANATION, "Connect in browser", parent)
        self.client_id_field = QLineEdit()
        self.client_id_field.setObjectName("xClientIdField")
        self.client_id_field.setPlaceholderText("OAuth 2.0 Client ID")
        self.client_id_field.returnPressed.connect(self.submitted)
        self.client_id_help = QLabel(CLIENT_ID_HELP)
        self.client_id_help.setObjectName("xClientIdHelp")
        self.client_id_help.setWordWrap(True)
        self.client_id_help.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # to copy it
        self.cap_field = QSpinBox()
        self.cap_field.setObjectName("xReadCapField")
        self.cap_field.setRange(0, MAX_CAP)
        self.cap_field.setSingleStep(1000)
        self.cap_field.setGroupSeparatorShown(True)
        self.cap_field.setSpecialValueText("not known")
        self.cap_field.setSuffix(" posts")
        self.cap_field.setToolTip(CAP_HELP)
        self.cap_help = QLabel(CAP_HELP)
        self.cap_help.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Client id:", self.client_id_field)
        form.addRow("", self.client_id_help)
        form.addRow("Monthly read cap:", self.cap_field)
        form.addRow("", self.cap_help)
        self.lay_out(form)

    def values(self) -> tuple[str, int]:
        """(client id, monthly read cap; 0 when not known)."""
        return self.client_id_field.text().strip(), self.cap_field.value()

    def problem(self) -> str:
        """What is wrong with what was typed ("" when the sign-in can start)."""
        return client_id_problem(self.client_id_field.text())

    def prepare(self) -> None:
        self.client_id_field.setFocus()

    def clear(self) -> None:
        self.client_id_field.clear()
        self.cap_field.setValue(0)

    def set_busy(self, busy: bool) -> None:
        for widget in (self.client_id_field, self.cap_field, self.connect_button, self.back_button):
            widget.setEnabled(not busy)
