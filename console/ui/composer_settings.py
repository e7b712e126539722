"""The account settings the composer applies: the signature on public replies, and the Reply settings dialog.

Settings are per account and saved through ``OutboxService``; the composer uses a change at once (the cool-off
policy, the signature and business hours are re-read on every verdict), without waiting for the save.

``SettingsMixin`` is a part of ``Composer`` (it reads and replaces the composer's ``_settings`` directly).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QInputDialog

from console.store.reply_settings import AccountSettings
from console.ui.reply_settings_dialog import ReplySettingsDialog
from console.ui.tasks import run_task


class SettingsMixin:
    """Signature and Reply settings for the selected thread's account."""

    def ask_signature(self) -> None:
        if self._thread is None:
            return
        name, ok = QInputDialog.getText(
            self, "Signature", "Your first name, added to public replies as “— Sam”:",
            text=self._settings.signature_name or "")
        if ok:
            self.set_signature_name(name)

    def set_signature_name(self, name: str) -> None:
        if self._thread is None:
            return
        self._settings = replace(self._settings, account_id=self._thread.account_id,
                                 signature_name=" ".join(name.split()) or None)
        run_task(self._outbox.save_account_settings(self._settings), on_error=self.messageRequested.emit)
        self._evaluate()

    def open_reply_settings(self) -> None:
        """The selected thread's account: signature, cool-off, undo window and business hours."""
        if self._thread is None:
            return
        dialog = ReplySettingsDialog(replace(self._settings, account_id=self._thread.account_id),
                                     self._business or self._thread.account_id, parent=self)
        dialog.saved.connect(self.apply_settings)
        dialog.open()
        self.settings_dialog = dialog

    def apply_settings(self, settings: AccountSettings) -> None:
        """Save an account's settings and use them at once (cool-off, signature, business hours)."""
        run_task(self._outbox.save_account_settings(settings), on_error=self.messageRequested.emit)
        if self._thread is not None and settings.account_id == self._thread.account_id:
            self._settings = settings
        self._evaluate()
