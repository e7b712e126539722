"""The escalation radar in the window: the demo's snowballing complaint is announced once, tops "Needs reply",
appears under Escalating, and says why. Driven through the real demo network, sync engine and radar service on a
hand-moved clock."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSystemTrayIcon

from console.domain.spread import DEFAULT_THRESHOLD
from console.services.radar import RadarService
from console.store import Order, View, ViewKind
from console.store.queries import get_thread
from console.store.spread import Escalation
from console.ui.escalation_notice import DesktopNotifier
from console.ui.icons import app_icon
from console.ui.main_window import MainWindow
from console.ui.thread_list_model import COL_AUTHOR, COL_HEAT, COL_WAITING

from test_main_window import sync  # tests/ui is on sys.path (pytest prepend import mode)


def radar_pass(radar: RadarService, qtbot) -> None:
    task = asyncio.ensure_future(radar.run_once())
    qtbot.waitUntil(task.done, timeout=10_000)
    task.result()
    qtbot.wait(200)  # the coalesced refresh


def run_until_escalation(demo_app, qtbot, radar, announced, *, passes=40, step=3.0) -> None:
    for _ in range(passes):
        demo_app.clock.advance(step)
        sync(demo_app, qtbot)
        radar_pass(radar, qtbot)
        if announced:
            return


def wired_radar(demo_app) -> tuple[RadarService, list[Escalation]]:
    window = demo_app.window
    radar = RadarService(demo_app.writer, threshold=window.escalation_threshold)
    announced: list[Escalation] = []
    radar.on_escalation.append(announced.append)
    radar.on_escalation.append(window.notify_escalation)
    radar.on_changes.append(window.apply_changes)
    return radar, announced


def test_the_snowball_escalates_once_and_tops_needs_reply(demo_app, qtbot) -> None:
    window = demo_app.window
    radar, announced = wired_radar(demo_app)
    sync(demo_app, qtbot)
    radar_pass(radar, qtbot)
    run_until_escalation(demo_app, qtbot, radar, announced)  # at most two minutes of demo time

    assert len(announced) == 1
    fire = announced[0].thread_id
    thread = get_thread(demo_app.reader.db, fire)
    assert thread.heat >= DEFAULT_THRESHOLD and thread.reshares_last_hour > 20
    # The banner says so; the sidebar counts it; the Escalating view lists it.
    assert window.banner.isVisible() and "reshares in the last hour" in window.banner.label.text()
    qtbot.waitUntil(lambda: "Escalating  (1)" in window.sidebar._view_items[ViewKind.ESCALATING].text(0))
    window.sidebar.select_view(View(ViewKind.ESCALATING))
    assert [window.model.thread_at(r).id for r in range(window.model.rowCount())] == [fire]

    # "Needs reply", most urgent first (the default): the fire is on top, with its reasons in the tooltip.
    window.sidebar.select_view(View(ViewKind.NEEDS_REPLY))
    assert window.current_order() is Order.PRIORITY
    assert window.model.thread_at(0).id == fire
    tip = window.model.index(0, COL_WAITING).data(Qt.ItemDataRole.ToolTipRole)
    assert "followers" in tip and "reshares in the last hour" in tip and "waiting" in tip
    assert "Heat" in window.model.index(0, COL_HEAT).data(Qt.ItemDataRole.ToolTipRole)
    assert window.model.index(0, COL_HEAT).data() == str(thread.heat)

    # It keeps spreading for a while: no second announcement.
    for _ in range(10):
        demo_app.clock.advance(6)
        sync(demo_app, qtbot)
        radar_pass(radar, qtbot)
    assert len(announced) == 1

    # Open from the banner: the thread is shown, with its heat line.
    window.sidebar.select_view(View(ViewKind.DONE))
    window.banner.show_escalation(announced[0])
    qtbot.mouseClick(window.banner.open_button, Qt.MouseButton.LeftButton)
    assert window.thread_view.thread_id == fire
    assert window.sidebar.current_view().kind is ViewKind.ESCALATING
    assert f"Heat {get_thread(demo_app.reader.db, fire).heat}" in window.thread_view.spread.text()
    assert not window.banner.isVisible()


def test_latest_first_is_remembered(demo_app, qtbot) -> None:
    window = demo_app.window
    sync(demo_app, qtbot)
    window.order_box.setCurrentIndex(window.order_box.findData(Order.LATEST.value))
    rows = [window.model.thread_at(r) for r in range(window.model.rowCount())]
    assert [r.last_activity_at for r in rows] == sorted((r.last_activity_at for r in rows), reverse=True)

    from console.services.actions import InboxActions

    again = MainWindow(demo_app.reader, InboxActions(demo_app.writer), settings=demo_app.settings, clock=demo_app.clock)
    qtbot.addWidget(again)
    assert again.current_order() is Order.LATEST
    again.order_box.setCurrentIndex(again.order_box.findData(Order.PRIORITY.value))
    keys = [again.model.thread_at(r).priority_key for r in range(again.model.rowCount())]
    assert keys == sorted(keys)
    assert demo_app.settings.value("window/order") == Order.PRIORITY.value


def test_threshold_is_tunable_and_kept(demo_app, qtbot, monkeypatch) -> None:
    window = demo_app.window
    seen: list[int] = []
    window.thresholdChanged.connect(seen.append)
    monkeypatch.setattr("console.ui.main_window.QInputDialog.getInt", lambda *args, **kwargs: (45, True))
    window.ask_escalation_threshold()
    assert seen == [45] and window.escalation_threshold == 45
    from console.services.actions import InboxActions

    again = MainWindow(demo_app.reader, InboxActions(demo_app.writer), settings=demo_app.settings, clock=demo_app.clock)
    qtbot.addWidget(again)
    assert again.escalation_threshold == 45


@pytest.mark.qt_log_ignore("systemTrayWindowChanged")  # offscreen has no tray; the test pretends it has
def test_desktop_notification_opens_the_thread(qtbot, monkeypatch) -> None:
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    notifier = DesktopNotifier(app_icon())
    qtbot.addWidget(notifier)
    assert notifier.available
    escalation = Escalation("demo:1", "demo", 80, 400, 60_000, "Ann", "ann", 300, "Worst cake ever")
    assert notifier.notify(escalation)
    with qtbot.waitSignal(notifier.openRequested) as opened:
        notifier.tray.messageClicked.emit()
    assert opened.args == ["demo:1"]


def test_without_a_tray_the_banner_still_tells(demo_app, qtbot, monkeypatch) -> None:
    window = demo_app.window
    assert window.notifier.available is QSystemTrayIcon.isSystemTrayAvailable()
    window.notify_escalation(Escalation("demo:x", "demo", 77, 12, 5_000, "", "bob", 40, "late"))
    assert window.banner.isVisible() and window.banner.thread_id == "demo:x"
    assert "bob's post is spreading" in window.banner.label.text()
    qtbot.mouseClick(window.banner.dismiss_button, Qt.MouseButton.LeftButton)
    assert not window.banner.isVisible()
    assert COL_AUTHOR == 0


def test_the_snowballs_chart_shows_reshares_climbing_and_follows_them(demo_app, qtbot) -> None:
    window = demo_app.window
    radar, announced = wired_radar(demo_app)
    sync(demo_app, qtbot)
    run_until_escalation(demo_app, qtbot, radar, announced)
    fire = announced[0].thread_id
    window.open_thread(fire)
    qtbot.mouseClick(window.thread_view.chart_button, Qt.MouseButton.LeftButton)
    thread_id, chart, dialog = window._thread_chart
    assert thread_id == fire and dialog.isVisible() and not chart.is_empty()
    before = chart_points(chart)
    assert len(before) >= 2 and before[-1] > before[0]

    for _ in range(5):  # the chart follows the counts while it is open
        demo_app.clock.advance(6)
        sync(demo_app, qtbot)
    after = chart_points(chart)
    assert len(after) > len(before) and after[-1] > before[-1]
    assert after == sorted(after)  # climbing

    activity = window.show_activity_chart()
    assert not activity.chart_widget.is_empty()
    dialog.close()
    activity.close()


def chart_points(chart) -> list[float]:
    series = chart.chart().series()[0]
    return [series.at(i).y() for i in range(series.count())]


def test_the_author_panel_explains_who_is_holding_the_match(demo_app, qtbot) -> None:
    window = demo_app.window
    radar, announced = wired_radar(demo_app)
    sync(demo_app, qtbot)
    run_until_escalation(demo_app, qtbot, radar, announced)
    fire = announced[0].thread_id
    window.open_thread(fire)
    # The big account that reshared it is named in the thread view.
    assert window.thread_view.carriers.text().startswith("Reshared by ")

    qtbot.mouseClick(window.thread_view.author_button, Qt.MouseButton.LeftButton)
    panel = window.author_panel
    thread = get_thread(demo_app.reader.db, fire)
    assert panel is not None and panel.isVisible()
    assert (thread.author_name or thread.author_handle) in panel.name_label.text()
    assert f"Influence {thread.author_influence} of 100" in panel.influence_label.text()
    assert fire in panel.thread_ids()

    # VIP from the panel moves their waiting thread up; the list shows why.
    panel.vip_box.setChecked(True)
    qtbot.waitUntil(lambda: get_thread(demo_app.reader.db, fire).author_vip, timeout=5000)
    qtbot.waitUntil(lambda: window.model.thread_at(0) is not None and window.model.thread_at(0).author_vip, timeout=5000)
    assert "VIP" in window.model.index(0, COL_WAITING).data(Qt.ItemDataRole.ToolTipRole)

    # A past conversation opens from the panel, wherever it is.
    window.sidebar.select_view(View(ViewKind.DONE))
    panel.threadRequested.emit(fire)
    assert window.thread_view.thread_id == fire
