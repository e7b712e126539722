"""A window around one chart, with "Save as PNG…" so the owner can paste the picture into a report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol, cast

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.store.errors import InboxError


class SavableChart(Protocol):
    """What the dialog needs from a chart: both charts in ``console.ui.charts`` qualify."""

    def save_png(self, path: Path | str) -> None: ...


class ChartDialog(QDialog):
    """Shows ``chart_widget`` (which it adopts) with "Save as PNG…" and Close.

    The save result is shown in a line inside the dialog rather than a message box: a second modal window over a
    modal window is one click too many for "Saved".
    """

    def __init__(self, title: str, chart_widget: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.chart_widget = chart_widget
        self._title = title
        self.status = QLabel("")
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button: QPushButton = buttons.addButton("Save as PNG…", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button.clicked.connect(self.save_png)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(chart_widget, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(720, 460)

    def save_png(self) -> None:
        """Ask where, then save; a name typed without ``.png`` gets it, so the file opens as a picture."""
        suggested = str(Path.home() / f"{_file_stem(self._title)}.png")
        name, _ = QFileDialog.getSaveFileName(self, "Save chart as PNG", suggested, "PNG images (*.png)")
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() != ".png":
            path = path.with_name(path.name + ".png")
        try:
            cast(SavableChart, self.chart_widget).save_png(path)
        except InboxError as error:
            self.status.setText(str(error))
            return
        self.status.setText(f"Saved to {path}")


def _file_stem(title: str) -> str:
    stem = re.sub(r"[^\w-]+", "-", title.strip().lower()).strip("-")
    return stem or "chart"
