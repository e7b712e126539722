"""Charts render real pictures offscreen, say so when there is nothing to draw, and save as PNG; the chart dialog
saves through a file dialog; File › Export runs off the Qt thread and reports in plain words."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from PySide6.QtCharts import QBarSeries, QLineSeries
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QFileDialog

from console.domain import Account, Author, Batch, Direction, Post, iso_utc
from console.store import Inbox, View, ViewKind
from console.store.export import ExportError, read_export
from console.store.stats import DayStats
from console.ui import export_actions
from console.ui.charts import NO_ACTIVITY, NO_RESHARES, InboxActivityChart, ThreadReshareChart
from console.ui.charts_dialog import ChartDialog

START = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
POINTS = [(iso_utc(START + timedelta(minutes=m)), total) for m, total in [(0, 0), (20, 4), (45, 9), (90, 30)]]
DAYS = [
    DayStats(date(2026, 11, 19 + n), 3 + 2 * n, 1 + n, None if n == 3 else 900.0 * (n + 1)) for n in range(7)
]


def _image(chart) -> QImage:
    image = chart.picture().toImage().convertToFormat(QImage.Format.Format_RGB32)
    assert not image.isNull() and image.width() > 300 and image.height() > 200
    return image


def _pixels_near(image: QImage, colour: QColor, tolerance: int = 24) -> int:
    """How many pixels (sampling every other one) are within ``tolerance`` of ``colour``."""
    count = 0
    target = (colour.red(), colour.green(), colour.blue())
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            pixel = image.pixelColor(x, y)
            if all(abs(a - b) <= tolerance for a, b in zip((pixel.red(), pixel.green(), pixel.blue()), target)):
                count += 1
    return count


def _distinct_colours(image: QImage) -> int:
    return len({image.pixel(x, y) for y in range(0, image.height(), 3) for x in range(0, image.width(), 3)})


@pytest.fixture
def reshare_chart(qtbot) -> ThreadReshareChart:
    chart = ThreadReshareChart()
    qtbot.addWidget(chart)
    chart.resize(640, 400)
    chart.show()
    return chart


@pytest.fixture
def activity_chart(qtbot) -> InboxActivityChart:
    chart = InboxActivityChart()
    qtbot.addWidget(chart)
    chart.resize(760, 420)
    chart.show()
    return chart


# -- reshares over time ------------------------------------------------------------------------------------------


def test_reshare_chart_draws_the_line(reshare_chart):
    reshare_chart.set_series(POINTS)
    assert not reshare_chart.is_empty()
    [series] = reshare_chart.chart().series()
    assert isinstance(series, QLineSeries)
    assert [(p.y()) for p in series.points()] == [0, 4, 9, 30]
    image = _image(reshare_chart)
    assert _distinct_colours(image) > 20  # axes, labels, grid and an antialiased line, not a blank square
    assert _pixels_near(image, series.color()) > 50


def test_reshare_chart_without_data_says_so(reshare_chart):
    reshare_chart.set_series(POINTS)
    line_colour = reshare_chart.chart().series()[0].color()
    for empty in ([], [(POINTS[0][0], 0), (POINTS[1][0], 0)]):  # samples of likes only: still no reshares
        reshare_chart.set_series(empty)
        assert reshare_chart.is_empty()
        assert reshare_chart.empty_text() == NO_RESHARES
        assert reshare_chart.chart().series() == []
        assert _pixels_near(_image(reshare_chart), line_colour) == 0  # the old line is gone


def test_reshare_chart_of_a_single_moment_still_has_a_time_axis(reshare_chart):
    reshare_chart.set_series([POINTS[1]])
    assert not reshare_chart.is_empty()
    axis = reshare_chart.chart().axes(Qt.Orientation.Horizontal)[0]
    assert axis.min() < axis.max()


def test_reshare_chart_saves_a_png(reshare_chart, tmp_path):
    reshare_chart.set_series(POINTS)
    reshare_chart.save_png(tmp_path / "reshares.png")
    assert (tmp_path / "reshares.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = QImage(str(tmp_path / "reshares.png"))
    assert (saved.width(), saved.height()) == (_image(reshare_chart).width(), _image(reshare_chart).height())
    assert _distinct_colours(saved) > 20


def test_saving_where_it_cannot_is_a_plain_error(reshare_chart, tmp_path):
    with pytest.raises(ExportError, match="could not save the picture"):
        reshare_chart.save_png(tmp_path / "no-such-folder" / "x.png")


# -- daily activity ----------------------------------------------------------------------------------------------


def test_activity_chart_draws_bars_and_the_response_line(activity_chart):
    activity_chart.set_days(DAYS)
    assert not activity_chart.is_empty()
    series = activity_chart.chart().series()
    [bars] = [s for s in series if isinstance(s, QBarSeries)]
    lines = [s for s in series if isinstance(s, QLineSeries)]
    incoming, replies = bars.barSets()
    assert [incoming.at(i) for i in range(7)] == [d.incoming for d in DAYS]
    assert [replies.at(i) for i in range(7)] == [d.replies for d in DAYS]
    # The day without a median splits the line in two rather than drawing through it.
    assert [[(p.x(), p.y()) for p in line.points()] for line in lines] == [
        [(0, 0.25), (1, 0.5), (2, 0.75)], [(4, 1.25), (5, 1.5), (6, 1.75)],
    ]
    assert len(activity_chart.chart().axes(Qt.Orientation.Vertical)) == 2  # counts left, hours right
    image = _image(activity_chart)
    for colour in (incoming.color(), replies.color(), lines[0].pen().color()):
        assert _pixels_near(image, colour) > 40


def test_activity_chart_without_any_message_says_so(activity_chart):
    for days in ([], [DayStats(date(2026, 11, 25), 0, 0, None)]):
        activity_chart.set_days(days)
        assert activity_chart.is_empty()
        assert activity_chart.empty_text() == NO_ACTIVITY
        assert activity_chart.chart().series() == []


def test_activity_chart_can_be_redrawn_with_new_days(activity_chart, tmp_path):
    activity_chart.set_days(DAYS)
    activity_chart.set_days([])
    activity_chart.set_days([DayStats(date(2026, 11, 25), 5, 2, None)])  # no medians: no line, no hours axis
    assert not activity_chart.is_empty()
    assert [type(s) for s in activity_chart.chart().series()] == [QBarSeries]
    activity_chart.save_png(tmp_path / "days.png")
    assert not QImage(str(tmp_path / "days.png")).isNull()


# -- the chart dialog --------------------------------------------------------------------------------------------


@pytest.fixture
def dialog(qtbot) -> ChartDialog:
    chart = ThreadReshareChart()
    chart.set_series(POINTS)
    shown = ChartDialog("Reshares: Alice's thread", chart)
    qtbot.addWidget(shown)
    shown.show()
    return shown


def test_dialog_saves_the_chart_where_the_owner_chooses(dialog, qtbot, tmp_path, monkeypatch):
    asked = []

    def choose(parent, caption, suggested, filters):
        asked.append((caption, Path(suggested).name, filters))
        return str(tmp_path / "spread"), "PNG images (*.png)"  # typed without the suffix

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(choose))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert asked == [("Save chart as PNG", "reshares-alice-s-thread.png", "PNG images (*.png)")]
    saved = tmp_path / "spread.png"
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _distinct_colours(QImage(str(saved))) > 20
    assert dialog.status.text() == f"Saved to {saved}"


def test_dialog_cancelled_writes_nothing(dialog, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args: ("", "")))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.status.text() == ""


def test_dialog_shows_why_a_save_failed(dialog, qtbot, tmp_path, monkeypatch):
    target = tmp_path / "gone" / "chart.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args: (str(target), "")))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "could not save the picture" in dialog.status.text()


def test_dialog_closes(dialog, qtbot):
    with qtbot.waitSignal(dialog.rejected, timeout=1000):
        close = [b for b in dialog.findChildren(type(dialog.save_button)) if b.text() == "Close"][0]
        qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def test_dialog_works_with_the_activity_chart(qtbot, tmp_path, monkeypatch):
    chart = InboxActivityChart()
    chart.set_days(DAYS)
    shown = ChartDialog("Inbox activity", chart)
    qtbot.addWidget(shown)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(tmp_path / "a.png"), "")))
    shown.save_png()
    assert not QImage(str(tmp_path / "a.png")).isNull()


# -- File › Export -----------------------------------------------------------------------------------------------

ACCOUNT = Account("mastodon:biz", "mastodon", "biz@example.social", "https://example.social", "The Bakery")


@pytest.fixture
def inbox(tmp_path) -> Inbox:
    opened = Inbox.open(tmp_path / "inbox.db")
    opened.ensure_account(ACCOUNT)
    authors = (
        Author("mastodon:alice", "mastodon", "alice@example.social", "Alice", observed_at=iso_utc(START)),
        Author("mastodon:biz-author", "mastodon", "biz@example.social", "The Bakery", observed_at=iso_utc(START)),
    )
    posts = []
    for n in range(3):
        stamp = iso_utc(START + timedelta(minutes=n))
        posts.append(Post(f"mastodon:{n}", "mastodon", ACCOUNT.id, f"mastodon:t{n}", "mastodon:alice",
                          f"where is order {n}, please?\n📦", stamp, stamp))
    stamp = iso_utc(START + timedelta(minutes=5))
    posts.append(Post("mastodon:r", "mastodon", ACCOUNT.id, "mastodon:t0", "mastodon:biz-author", "on its way",
                      stamp, stamp, parent_id="mastodon:0", direction=Direction.OUT))
    opened.apply_batch(Batch(ACCOUNT.id, "mentions", tuple(posts), authors))
    yield opened
    opened.close()


def _answer_file_dialog(monkeypatch, name: str, chosen_filter: str = export_actions.CSV_FILTER) -> list[str]:
    suggested: list[str] = []

    def choose(parent, caption, default, filters):
        suggested.append(default)
        return name, chosen_filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(choose))
    return suggested


def test_export_view_runs_off_the_qt_thread_and_reports(qtbot, inbox, tmp_path, monkeypatch):
    suggested = _answer_file_dialog(monkeypatch, str(tmp_path / "open.csv"))
    threads_used = []
    real_write_view = export_actions.write_view

    def recording_write_view(db, view, path, **options):
        threads_used.append(threading.current_thread())
        assert db is not inbox.db  # its own connection: sqlite3 connections are not shared between threads
        return real_write_view(db, view, path, **options)

    monkeypatch.setattr(export_actions, "write_view", recording_write_view)
    done, errors = [], []
    job = export_actions.export_view(None, inbox, View(ViewKind.OPEN), on_done=done.append, on_error=errors.append)
    assert job is not None
    qtbot.waitUntil(lambda: bool(done or errors), timeout=5000)
    assert errors == []
    assert done == [f"Exported 4 posts to {tmp_path / 'open.csv'}"]
    assert threads_used and threads_used[0] is not threading.main_thread()
    assert Path(suggested[0]).name.startswith("tend-open-")
    assert len(read_export(tmp_path / "open.csv")) == 4


def test_export_thread_picks_json_from_the_filter_when_the_name_has_no_suffix(qtbot, inbox, tmp_path, monkeypatch):
    _answer_file_dialog(monkeypatch, str(tmp_path / "order"), export_actions.JSON_FILTER)
    done = []
    export_actions.export_thread(None, inbox.path, "mastodon:t0", on_done=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    assert done == [f"Exported 2 posts to {tmp_path / 'order.json'}"]
    assert [r["post_id"] for r in read_export(tmp_path / "order.json")] == ["mastodon:0", "mastodon:r"]


def test_export_failure_reaches_the_owner_in_plain_words(qtbot, inbox, tmp_path, monkeypatch):
    _answer_file_dialog(monkeypatch, str(tmp_path / "missing-folder" / "x.csv"))
    done, errors = [], []
    export_actions.export_view(None, inbox, View(ViewKind.ALL), on_done=done.append, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert done == []
    assert "does not exist" in errors[0] and "Nothing was written" in errors[0]


def test_export_cancelled_starts_nothing(qtbot, inbox, monkeypatch):
    _answer_file_dialog(monkeypatch, "")
    assert export_actions.export_view(None, inbox, View(ViewKind.ALL), on_done=pytest.fail) is None


def test_export_from_a_missing_inbox_creates_none(qtbot, tmp_path, monkeypatch):
    _answer_file_dialog(monkeypatch, str(tmp_path / "x.csv"))
    errors = []
    export_actions.export_thread(None, tmp_path / "nope.db", "t", on_done=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "no inbox" in errors[0]
    assert not (tmp_path / "nope.db").exists()
