"""Wait for a widget's first paint, so that start-up work can follow the window's appearance instead of delaying it.

Tend starts syncing as soon as it opens. When the first sync began before the window had painted, both landed in
the same turn of the event loop: the window's first layout and paint, plus the HTTP stack's first-use imports,
held the loop for 40-80 ms. Painting first, then starting the network, shows the inbox sooner and keeps that turn
short.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class _PaintWatcher(QObject):
    def __init__(self, painted: asyncio.Future[bool]) -> None:
        super().__init__()
        self._painted = painted

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint and not self._painted.done():
            self._painted.set_result(True)  # resumes the waiter after this event, i.e. after the paint
        return False


async def first_paint(widget: QWidget, timeout_s: float = 1.0) -> bool:
    """True once ``widget`` has painted; False after ``timeout_s`` (a window started minimised never paints)."""
    painted: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    watcher = _PaintWatcher(painted)
    widget.installEventFilter(watcher)
    try:
        return await asyncio.wait_for(painted, timeout_s)
    except asyncio.TimeoutError:
        return False
    finally:
        widget.removeEventFilter(watcher)
