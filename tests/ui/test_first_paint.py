"""first_paint: start-up waits for the window's first paint before it starts syncing (console.ui.application)."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtWidgets import QWidget

from console.ui.first_paint import first_paint

pytestmark = pytest.mark.usefixtures("loop")


def test_it_resolves_once_the_widget_has_painted(qtbot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    painted = asyncio.ensure_future(first_paint(widget, timeout_s=5))
    qtbot.wait(20)  # the watcher is installed; nothing has painted yet
    assert not painted.done()
    widget.show()
    qtbot.waitUntil(painted.done, timeout=5000)
    assert painted.result() is True


def test_a_widget_that_never_paints_gives_up_after_the_timeout(qtbot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    painted = asyncio.ensure_future(first_paint(widget, timeout_s=0.05))
    qtbot.waitUntil(painted.done, timeout=2000)
    assert painted.result() is False
