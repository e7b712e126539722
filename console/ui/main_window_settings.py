"""What the main window remembers between runs, under which keys, and how a stored value is checked before use."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QHeaderView, QMainWindow, QSplitter

from console.store import Order, ViewKind

GEOMETRY_KEY = "window/geometry"
STATE_KEY = "window/state"
SPLITTER_KEY = "window/splitter"
HEADER_KEY = "window/threadListHeader2"  # 2: the Heat column was added
ORDER_KEY = "window/order"
VIEW_KEY = "window/view"
THRESHOLD_KEY = "radar/threshold"
FIRST_RUN_SIZE = (1400, 820)
# A search or one account's view is a moment's question, not a place to come back to.
RESTORABLE_VIEWS = frozenset(k.value for k in ViewKind if k is not ViewKind.ALL and k is not ViewKind.ACCOUNT)


class WindowSettings:
    """Typed access to the window's keys in ``QSettings``.

    Values read back may come from an older Tend or a hand-edited file, so each reader returns ``None`` for anything
    it does not recognise and the window keeps its default.
    """

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def restore_layout(self, window: QMainWindow, splitter: QSplitter, header: QHeaderView) -> None:
        geometry = self._settings.value(GEOMETRY_KEY)
        if geometry is not None:
            window.restoreGeometry(geometry)
        else:
            window.resize(*FIRST_RUN_SIZE)
        state = self._settings.value(STATE_KEY)
        if state is not None:
            window.restoreState(state)
        splitter_state = self._settings.value(SPLITTER_KEY)
        if splitter_state is not None:
            splitter.restoreState(splitter_state)
        header_state = self._settings.value(HEADER_KEY)
        if header_state is not None:
            header.restoreState(header_state)

    def save_layout(self, window: QMainWindow, splitter: QSplitter, header: QHeaderView) -> None:
        self._settings.setValue(GEOMETRY_KEY, window.saveGeometry())
        self._settings.setValue(STATE_KEY, window.saveState())
        self._settings.setValue(SPLITTER_KEY, splitter.saveState())
        self._settings.setValue(HEADER_KEY, header.saveState())

    def order(self) -> Order | None:
        value = self._settings.value(ORDER_KEY)
        return Order(value) if value in {o.value for o in Order} else None

    def remember_order(self, order: Order) -> None:
        self._settings.setValue(ORDER_KEY, order.value)

    def threshold(self) -> int | None:
        value = self._settings.value(THRESHOLD_KEY)
        return int(value) if value is not None and str(value).isdigit() else None

    def remember_threshold(self, value: int) -> None:
        self._settings.setValue(THRESHOLD_KEY, value)

    def view_kind(self) -> ViewKind | None:
        value = self._settings.value(VIEW_KEY)
        return ViewKind(value) if value in RESTORABLE_VIEWS else None

    def remember_view_kind(self, kind: ViewKind) -> None:
        self._settings.setValue(VIEW_KEY, kind.value)

    def sync(self) -> None:
        """Write to disk now: called on close, when the process may end before Qt would have flushed."""
        self._settings.sync()
