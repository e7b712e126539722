"""Per-account reply settings: signature, cool-off on public replies and DMs, the undo window, business hours."""

from __future__ import annotations

from dataclasses import replace
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import QTime, QTimeZone, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from console.replies.cooloff import CoolOffPolicy
from console.replies.hours import BusinessHours
from console.store.reply_settings import AccountSettings

DEFAULT_UNDO_S = 20
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _system_zone() -> str:
    name = bytes(QTimeZone.systemTimeZoneId().data()).decode(errors="ignore")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def hours_of(settings: AccountSettings) -> BusinessHours | None:
    """The account's business hours, or ``None`` when unset (or unreadable: then Tend behaves as if always open)."""
    if not settings.business_hours:
        return None
    try:
        hours = BusinessHours.from_dict(settings.business_hours)
    except ValueError:
        return None
    return hours if any(hours.weekly.values()) else None


class ReplySettingsDialog(QDialog):
    """Edits one account's ``AccountSettings``; ``saved`` carries the new settings when the owner presses OK."""

    saved = Signal(object)  # AccountSettings

    def __init__(self, settings: AccountSettings, account_label: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replySettingsDialog")
        self.setWindowTitle(f"Reply settings — {account_label}" if account_label else "Reply settings")
        self._settings = settings
        defaults = CoolOffPolicy()

        self.signature = QLineEdit(settings.signature_name or "")
        self.signature.setPlaceholderText("e.g. Sam — signed “— Sam” on public replies")
        self.cooloff_public = QSpinBox(minimum=0, maximum=120, suffix=" min")
        self.cooloff_public.setValue(round((settings.cooloff_public_s if settings.cooloff_public_s is not None
                                            else defaults.public_delay.total_seconds()) / 60))
        self.cooloff_direct = QSpinBox(minimum=0, maximum=120, suffix=" min")
        self.cooloff_direct.setValue(round((settings.cooloff_direct_s if settings.cooloff_direct_s is not None
                                            else defaults.direct_delay.total_seconds()) / 60))
        self.undo_seconds = QSpinBox(minimum=0, maximum=600, suffix=" s")
        self.undo_seconds.setValue(settings.undo_s if settings.undo_s is not None else DEFAULT_UNDO_S)
        form = QFormLayout()
        form.addRow("Signature (first name):", self.signature)
        form.addRow("Cool-off, public replies:", self.cooloff_public)
        form.addRow("Cool-off, direct messages:", self.cooloff_direct)
        form.addRow("Undo window:", self.undo_seconds)

        hours = hours_of(settings)
        self.hours_box = QGroupBox("Business hours (outside them, replies can wait for the next opening)")
        self.hours_box.setCheckable(True)
        self.hours_box.setChecked(hours is not None)
        grid = QGridLayout(self.hours_box)
        self.zone = QLineEdit(str(hours.tz) if hours else _system_zone())
        grid.addWidget(QLabel("Time zone:"), 0, 0)
        grid.addWidget(self.zone, 0, 1, 1, 2)
        self.days: list[tuple[QCheckBox, QTimeEdit, QTimeEdit]] = []
        for day, name in enumerate(DAY_NAMES):
            intervals = list(hours.weekly.get(day, ())) if hours else []
            opens, closes = intervals[0] if intervals else (time(9), time(17))
            check = QCheckBox(name)
            check.setChecked(bool(intervals) if hours else day < 5)
            open_edit = QTimeEdit(QTime(opens.hour, opens.minute), displayFormat="HH:mm")
            close_edit = QTimeEdit(QTime(closes.hour, closes.minute), displayFormat="HH:mm")
            grid.addWidget(check, day + 1, 0)
            grid.addWidget(open_edit, day + 1, 1)
            grid.addWidget(close_edit, day + 1, 2)
            self.days.append((check, open_edit, close_edit))

        self.error_label = QLabel()
        self.error_label.setObjectName("settingsError")
        self.error_label.setStyleSheet("color: #c00;")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.hours_box)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def business_hours(self) -> BusinessHours | None:
        """The hours as entered; raises ``ValueError`` with a plain explanation when they cannot be used."""
        if not self.hours_box.isChecked():
            return None
        weekly = {}
        for day, (check, open_edit, close_edit) in enumerate(self.days):
            if check.isChecked():
                opens, closes = open_edit.time(), close_edit.time()
                weekly[day] = [(time(opens.hour(), opens.minute()), time(closes.hour(), closes.minute()))]
        if not weekly:
            raise ValueError("Tick at least one open day, or switch business hours off.")
        try:
            zone = ZoneInfo(self.zone.text().strip() or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"“{self.zone.text()}” is not a time zone Tend knows (try e.g. Europe/London).") from None
        try:
            return BusinessHours(weekly=weekly, tz=zone)
        except ValueError as error:
            raise ValueError(f"Opening and closing times must differ ({error}).") from None

    def settings(self) -> AccountSettings:
        """The settings as entered; raises ``ValueError`` when they cannot be saved."""
        public, direct = self.cooloff_public.value(), self.cooloff_direct.value()
        if public < direct:
            raise ValueError("The cool-off on public replies must be at least as long as on direct messages: "
                             "a public reply is read by everyone.")
        hours = self.business_hours()
        return replace(self._settings, signature_name=" ".join(self.signature.text().split()) or None,
                       cooloff_public_s=public * 60, cooloff_direct_s=direct * 60,
                       undo_s=self.undo_seconds.value(), business_hours=hours.to_dict() if hours else None)

    def accept(self) -> None:
        try:
            settings = self.settings()
        except ValueError as error:
            self.error_label.setText(str(error))
            self.error_label.setVisible(True)
            return
        self.saved.emit(settings)
        super().accept()


__all__ = ["ReplySettingsDialog", "hours_of"]
