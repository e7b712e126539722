"""The chart windows the main window opens: one conversation's reshares, and the whole inbox's daily activity."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

import sqlite_utils
from PySide6.QtWidgets import QWidget

from console.store.stats import daily_activity, thread_reshare_series
from console.ui.charts import InboxActivityChart, ThreadReshareChart
from console.ui.charts_dialog import ChartDialog
from console.ui.thread_view import ThreadView

ACTIVITY_DAYS = 14

ThreadChart = tuple[str, ThreadReshareChart, ChartDialog]  # thread id, its chart, the dialog showing it


class ChartWindows:
    """Opens the charts over the window and keeps the open reshares chart current.

    Only one reshares chart is kept: it is the one following live counts, and a second would double the queries a
    sync burst costs for a picture the owner can reopen in a click.
    """

    def __init__(
        self, parent: QWidget, db: sqlite_utils.Database, thread_view: ThreadView, clock: Callable[[], datetime]
    ) -> None:
        self._parent = parent
        self._db = db
        self._thread_view = thread_view
        self._clock = clock
        self.thread_chart: ThreadChart | None = None

    def show_thread_chart(self, thread_id: str) -> ChartDialog:
        """A conversation's reshares over time; while open it follows new counts as they arrive."""
        if self.thread_chart is not None:
            self.thread_chart[2].close()
        chart = ThreadReshareChart()
        chart.set_series(thread_reshare_series(self._db, thread_id))
        dialog = ChartDialog(f"Reshares over time: {self._who_wrote(thread_id)}", chart, parent=self._parent)
        dialog.setObjectName("threadChartDialog")
        self.thread_chart = (thread_id, chart, dialog)
        dialog.show()
        return dialog

    def _who_wrote(self, thread_id: str) -> str:
        """The author's name when the chart is for the conversation on show (the usual case), which is already read."""
        thread = self._thread_view.shown_thread
        return (thread.author_name or thread.author_handle) if thread and thread.id == thread_id else "conversation"

    def show_activity_chart(self) -> ChartDialog:
        """Messages received and answered per day, and the median time to a first reply, over two weeks."""
        chart = InboxActivityChart()
        chart.set_days(daily_activity(self._db, ACTIVITY_DAYS, self._clock()))
        dialog = ChartDialog(f"Inbox activity, last {ACTIVITY_DAYS} days", chart, parent=self._parent)
        dialog.setObjectName("activityChartDialog")
        dialog.show()
        return dialog

    def follow_changes(self, changed: Collection[str]) -> None:
        """Redraw the reshares chart if it is open and its conversation changed; a closed one costs nothing."""
        if self.thread_chart is None:
            return
        thread_id, chart, dialog = self.thread_chart
        if dialog.isVisible() and thread_id in changed:
            chart.set_series(thread_reshare_series(self._db, thread_id))
