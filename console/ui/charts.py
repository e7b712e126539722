"""Charts: a thread's reshares over time, and the inbox's daily volume and first-response time.

The widgets are dumb on purpose: the caller reads the figures (``console.store.stats``) and hands them in, so a
chart never queries the inbox and can be redrawn from any data, including in tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCharts import (
    QAbstractAxis,
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QDateTimeAxis,
    QLineSeries,
    QValueAxis,
)
from PySide6.QtCore import QCoreApplication, QDateTime, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from console.domain.timeutil import parse_iso
from console.store.export import ExportError
from console.store.stats import DayStats

NO_RESHARES = "No reshares yet"
NO_ACTIVITY = "No messages in these days"
_HOUR_S = 3600.0
_MAX_TICK_STEPS = 5
_DAY_MS = 24 * 3600 * 1000
_TEN_MINUTES_MS = 10 * 60 * 1000


def _time_format(span_ms: float) -> str:
    """Labels that differ from tick to tick: a snowball's first minutes need seconds, a week needs the day."""
    if span_ms < _TEN_MINUTES_MS:
        return "hh:mm:ss"
    return "hh:mm" if span_ms < _DAY_MS else "d MMM hh:mm"


class _ChartView(QChartView):
    """A chart view with an empty-state message over it and a PNG export."""

    def __init__(self, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumSize(420, 260)
        chart = QChart()
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)  # a grab() must show the finished chart
        self.setChart(chart)
        # A label over the plot rather than a chart title: an empty chart should say so where the data would be.
        self._empty = QLabel(empty_text, self.viewport())
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setStyleSheet("color: palette(mid); font-size: 15pt;")
        layout = QVBoxLayout(self.viewport())
        layout.addWidget(self._empty)
        self._show_empty(True)

    def is_empty(self) -> bool:
        """Whether the chart shows its empty-state message instead of data."""
        return not self._empty.isHidden()

    def empty_text(self) -> str:
        return self._empty.text()

    def picture(self) -> QPixmap:
        """What the chart shows now, as ``save_png`` would write it."""
        # Chart layout (axis labels, plot area) is recomputed from posted events: deliver them first, or a picture
        # taken right after ``set_…`` shows the previous data's axes.
        QCoreApplication.sendPostedEvents()
        return self.grab()

    def save_png(self, path: Path | str) -> None:
        """Save what the chart shows as a PNG; raises ``ExportError`` in plain words if the file cannot be written."""
        if not self.picture().save(str(path), "PNG"):
            raise ExportError(f"Tend could not save the picture to {path}. Check the folder exists and is writable.")

    def _add_axis(self, axis: QAbstractAxis, alignment: Qt.AlignmentFlag, title: str) -> None:
        """Axes are made once and kept: a removed axis leaves its drawing behind until the event loop deletes it,
        so replacing axes on every update would show stale grids in a grab() taken straight after."""
        axis.setTitleText(title)
        self.chart().addAxis(axis, alignment)

    def _clear(self) -> None:
        self.chart().removeAllSeries()

    def _show_empty(self, empty: bool) -> None:
        self._empty.setVisible(empty)
        chart = self.chart()
        chart.legend().setVisible(not empty and self._legend_wanted())
        for axis in chart.axes():
            axis.setVisible(not empty)

    def _legend_wanted(self) -> bool:
        return False


class ThreadReshareChart(_ChartView):
    """Reshares plus quotes of a thread over time: how fast a complaint is spreading."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self._time_axis = QDateTimeAxis()
        self._time_axis.setTickCount(5)
        self._count_axis = QValueAxis()
        self._count_axis.setLabelFormat("%d")
        super().__init__(NO_RESHARES, parent)
        self.chart().setTitle("Reshares over time")
        self._add_axis(self._time_axis, Qt.AlignmentFlag.AlignBottom, "Time")
        self._add_axis(self._count_axis, Qt.AlignmentFlag.AlignLeft, "Reshares")
        self._show_empty(True)

    def set_series(self, points: Sequence[tuple[str, int]]) -> None:
        """Show ``points`` (ISO time, total), as ``console.store.stats.thread_reshare_series`` returns them.

        All-zero points count as empty: samples can exist because likes changed while nobody reshared.
        """
        self._clear()
        if not points or not any(total for _, total in points):
            self._show_empty(True)
            return
        series = QLineSeries()
        series.setName("Reshares and quotes")
        series.setPointsVisible(True)
        times = [parse_iso(at).timestamp() * 1000 for at, _ in points]
        for msecs, (_, total) in zip(times, points, strict=True):
            series.append(msecs, total)
        chart = self.chart()
        chart.addSeries(series)

        first, last = min(times), max(times)
        if last - first < 60_000:  # a single moment: give the line some room either side
            first, last = first - 30 * 60_000, last + 30 * 60_000
        self._time_axis.setRange(QDateTime.fromMSecsSinceEpoch(int(first)), QDateTime.fromMSecsSinceEpoch(int(last)))
        self._time_axis.setFormat(_time_format(last - first))
        _scale_from_zero(self._count_axis, max(total for _, total in points), whole=True)
        series.attachAxis(self._time_axis)
        series.attachAxis(self._count_axis)
        self._show_empty(False)


class InboxActivityChart(_ChartView):
    """Per day: customer posts in, replies out (bars) and the median first-response time in hours (line, right)."""

    # Not a theme colour: the theme hands the line the second colour, the same as the "Replies" bars.
    RESPONSE_COLOR = QColor("#e07b24")

    def __init__(self, parent: QWidget | None = None) -> None:
        self._day_axis = QBarCategoryAxis()
        self._count_axis = QValueAxis()
        self._count_axis.setLabelFormat("%d")
        self._hours_axis = QValueAxis()
        self._hours_axis.setLabelFormat("%.1f")
        self._hours_axis.setGridLineVisible(False)  # its ticks fall between the counts' grid lines: noise
        super().__init__(NO_ACTIVITY, parent)
        self.chart().setTitle("Messages per day")
        self._add_axis(self._day_axis, Qt.AlignmentFlag.AlignBottom, "")
        self._add_axis(self._count_axis, Qt.AlignmentFlag.AlignLeft, "Messages")
        self._add_axis(self._hours_axis, Qt.AlignmentFlag.AlignRight, "First response (hours, median)")
        self._show_empty(True)

    def set_days(self, days: Sequence[DayStats]) -> None:
        """Show ``days`` as ``console.store.stats.daily_activity`` returns them, oldest first."""
        self._clear()
        if not any(d.incoming or d.replies or d.median_first_response_s is not None for d in days):
            self._show_empty(True)
            return
        chart = self.chart()
        incoming, replies = QBarSet("Incoming"), QBarSet("Replies")
        for day in days:
            incoming.append(day.incoming)
            replies.append(day.replies)
        bars = QBarSeries()
        bars.append(incoming)
        bars.append(replies)
        chart.addSeries(bars)

        self._day_axis.clear()
        self._day_axis.append([f"{day.day:%a} {day.day.day}" for day in days])
        _scale_from_zero(self._count_axis, max(max(d.incoming, d.replies) for d in days), whole=True)
        bars.attachAxis(self._day_axis)
        bars.attachAxis(self._count_axis)

        has_medians = self._add_response_line(days)
        self._show_empty(False)
        self._hours_axis.setVisible(has_medians)

    def _add_response_line(self, days: Sequence[DayStats]) -> bool:
        """One line segment per run of days that have a median: a day without one is a gap, not a zero, and
        drawing through it would invent a figure. Returns whether any day had one."""
        hours = [None if d.median_first_response_s is None else d.median_first_response_s / _HOUR_S for d in days]
        known = [h for h in hours if h is not None]
        if not known:
            return False
        chart = self.chart()
        _scale_from_zero(self._hours_axis, max(known), whole=False)
        segment: QLineSeries | None = None
        first = True
        for index, value in enumerate(hours):
            if value is None:
                segment = None
                continue
            if segment is None:
                segment = QLineSeries()
                segment.setName("Median first response")
                segment.setPen(QPen(self.RESPONSE_COLOR, 2))
                segment.setPointsVisible(True)  # a one-day run is a lone point: it must still show
                chart.addSeries(segment)
                segment.attachAxis(self._day_axis)
                segment.attachAxis(self._hours_axis)
                if not first:
                    for marker in chart.legend().markers(segment):
                        marker.setVisible(False)  # one legend entry for all the segments
                first = False
            segment.append(index, value)
        return True

    def _legend_wanted(self) -> bool:
        return True


def _scale_from_zero(axis: QValueAxis, maximum: float, *, whole: bool) -> None:
    """Range 0..a round number, ticks at round steps (1, 2 or 5 times a power of ten).

    ``applyNiceNumbers`` keeps the tick count, so 0..4 in four ticks reads "0 1 2 4" once labels are whole numbers;
    fixing the step instead gives every tick a true label.
    """
    maximum = max(maximum, 1 if whole else 0.1)
    magnitude = 10 ** math.floor(math.log10(maximum / _MAX_TICK_STEPS))
    step = next(m * magnitude for m in (1, 2, 5, 10) if maximum / (m * magnitude) <= _MAX_TICK_STEPS)
    if whole:
        step = max(1, round(step))
    axis.setTickType(QValueAxis.TickType.TicksDynamic)
    axis.setTickAnchor(0)
    axis.setTickInterval(step)
    # Headroom above the highest value, so its point is not drawn on the frame.
    axis.setRange(0, (math.floor(maximum / step) + 1) * step)
