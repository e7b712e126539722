"""GUI fixtures: a qasync loop on pytest-qt's running Qt loop, a demo inbox on a hand-driven clock, a window."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

import qasync

from console.connectors.demo import DemoNetwork
from console.services.actions import InboxActions
from console.services.people import PeopleService
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import SyncEngine
from console.ui.application import open_reader
from console.ui.gc_guard import MainThreadGarbageCollector
from console.ui.main_window import MainWindow


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def collect_garbage_on_the_qt_thread(qapp) -> Iterator[None]:
    """As the app does (console/ui/gc_guard.py): never let a worker thread free a Qt object."""
    collector = MainThreadGarbageCollector(interval_ms=50)
    yield
    collector.stop()
    gc.collect()


@pytest.fixture
def loop(qapp) -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    # Undo what already_running=True did, so the next (non-Qt) async test can start its own loop.
    for task in asyncio.all_tasks(event_loop):
        task.cancel()
    asyncio.events._set_running_loop(None)
    event_loop._after_run_forever()
    event_loop._QEventLoop__is_running = False
    event_loop.close()
    asyncio.set_event_loop(None)


@dataclass
class DemoApp:
    window: MainWindow
    engine: SyncEngine
    writer: StoreWriter
    reader: Inbox
    clock: FakeClock
    path: Path
    settings: QSettings


@pytest.fixture
def demo_app(qtbot, loop, tmp_path: Path) -> Iterator[DemoApp]:
    clock = FakeClock(datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc))
    path = tmp_path / "inbox.db"
    network = DemoNetwork(seed=7, clock=clock, tick_seconds=3.0)
    inbox = Inbox.open(path, clock=clock)
    for account in network.accounts():
        inbox.ensure_account(account)
    writer = StoreWriter(inbox)
    reader = open_reader(path)
    engine = SyncEngine(writer, network.connectors(), clock=clock)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(reader, InboxActions(writer), settings=settings, clock=clock, people=PeopleService(writer))
    window.set_accounts(inbox.accounts())
    engine.on_changes.append(window.apply_changes)
    engine.on_status.append(window.show_status)
    qtbot.addWidget(window)
    window.show()
    yield DemoApp(window, engine, writer, reader, clock, path, settings)
    writer.close()
    reader.close()
