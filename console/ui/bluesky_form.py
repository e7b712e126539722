"""The "Add Bluesky account" page of the Accounts dialog: handle, app password, and why an app password.

The owner's own password never goes into Tend: Bluesky's app passwords exist so that an app can be let in (and shut
out again) without it. The page says so, and says where to make one.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QFormLayout, QLineEdit, QWidget

from console.ui.sign_in_form import SignInForm

APP_PASSWORDS_URL = "https://bsky.app/settings/app-passwords"

EXPLANATION = (
    "Tend connects to Bluesky with an <b>app password</b>: a separate password just for Tend, which you can revoke "
    "at any time without changing your own. Tend uses it once to sign in and keeps only the sign-in in your "
    "computer's keyring, never the password itself.<br><br>"
    "Create one on bsky.app in <b>Settings → Privacy and security → App passwords</b> "
    f'(<a href="{APP_PASSWORDS_URL}">open it</a>). Tick “Allow access to your direct messages” if Tend should read '
    "and answer your DMs too."
)


class BlueskyForm(SignInForm):
    """Handle and app password (and, for accounts elsewhere, their servers); the dialog runs the sign-in."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("bluesky", EXPLANATION, "Connect", parent)
        self.handle_field = QLineEdit()
        self.handle_field.setObjectName("blueskyHandleField")
        self.handle_field.setPlaceholderText("yourshop.bsky.social")
        self.password_field = QLineEdit()
        self.password_field.setObjectName("blueskyPasswordField")
        self.password_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_field.setPlaceholderText("xxxx-xxxx-xxxx-xxxx")
        self.password_field.returnPressed.connect(self.submitted)
        self.advanced_toggle = QCheckBox("My account is on another server")
        self.advanced_toggle.setObjectName("blueskyAdvancedToggle")
        self.service_field = QLineEdit()
        self.service_field.setObjectName("blueskyServiceField")
        self.service_field.setPlaceholderText("https://bsky.social")
        self.plc_field = QLineEdit()
        self.plc_field.setObjectName("blueskyPlcField")
        self.plc_field.setPlaceholderText("https://plc.directory")

        form = QFormLayout()
        form.addRow("Handle:", self.handle_field)
        form.addRow("App password:", self.password_field)
        advanced = QFormLayout()
        advanced.addRow("Look handles up at:", self.service_field)
        advanced.addRow("PLC directory:", self.plc_field)
        self._advanced = QWidget()
        self._advanced.setLayout(advanced)
        self._advanced.setVisible(False)
        self.advanced_toggle.toggled.connect(self._advanced.setVisible)
        self.lay_out(form, self.advanced_toggle, self._advanced)

    def values(self) -> tuple[str, str, str | None, str | None]:
        """(handle, app password, service or None, PLC directory or None)."""
        service = self.service_field.text().strip() if self.advanced_toggle.isChecked() else ""
        plc = self.plc_field.text().strip() if self.advanced_toggle.isChecked() else ""
        return self.handle_field.text().strip(), self.password_field.text(), service or None, plc or None

    def prepare(self, handle: str = "") -> None:
        """Ready for a new sign-in (``handle`` filled in when reconnecting an account)."""
        self.password_field.clear()
        self.handle_field.setText(handle.lstrip("@"))
        (self.password_field if handle else self.handle_field).setFocus()

    def clear(self) -> None:
        self.password_field.clear()
        self.handle_field.clear()
        self.service_field.clear()
        self.plc_field.clear()
        self.advanced_toggle.setChecked(False)

    def set_busy(self, busy: bool) -> None:
        for widget in (self.handle_field, self.password_field, self.advanced_toggle, self.service_field,
                       self.plc_field, self.connect_button, self.back_button):
            widget.setEnabled(not busy)
