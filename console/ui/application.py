"""The Qt side of start-up: QApplication, the qasync loop, wiring services to the window, clean shutdown."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import socket
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QSettings, QSocketNotifier
from PySide6.QtWidgets import QApplication

import qasync  # noqa: I001  (after PySide6, so qasync binds to it)

from console.connectors.http import preload_async_backend
from console.domain import Account
from console.services.accounts import AccountService
from console.services.actions import InboxActions
from console.services.connectors import Unserved, connectors_for
from console.services.outbox import OutboxService
from console.services.people import PeopleService
from console.services.radar import RadarService
from console.services.watches import WatchService
from console.services.x_usage import XUsageStore
from console.secrets import off_loop
from console.services.writer import StoreWriter
from console.store import Inbox
from console.store.database import connect
from console.sync import SyncEngine
from console.ui.first_paint import first_paint
from console.ui.gc_guard import MainThreadGarbageCollector
from console.ui.icons import app_icon
from console.ui.composer_canned import CannedStore
from console.ui.main_window import MainWindow
from console.ui.tasks import owner_message

log = logging.getLogger(__name__)


def open_reader(path: Path) -> Inbox:
    """A second, read-only connection for the UI: WAL lets it read while the writer thread writes."""
    db = connect(path)
    db.execute("PRAGMA query_only = 1")
    return Inbox(db, path)


class SignalBridge:
    """Deliver SIGINT/SIGTERM to the Qt loop: Python runs signal handlers only when it has control, so a wake-up
    socket watched by Qt gives it control as soon as a signal lands."""

    def __init__(self, on_signal: Callable[[], None]) -> None:
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._drain)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_args: on_signal())

    def _drain(self) -> None:
        try:
            while self._reader.recv(64):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous_fd)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        self._reader.close()
        self._writer.close()


def install_excepthook(show: Callable[[str], None]) -> None:
    """qasync hands slot exceptions to sys.excepthook; log them and tell the owner instead of dying silently."""

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        log.error("unhandled error", exc_info=(kind, error, tb))
        show(owner_message(error))

    sys.excepthook = hook


def unserved_message(item: Unserved) -> str:
    return f"{item.account.handle} is not being synced: {item.reason}."


def sync_account_changes(
    accounts: AccountService, engine: SyncEngine, show_message: Callable[[str], None], *, seed: int = 7,
    state_dir: Path | None = None,
) -> None:
    """Keep the running sync engine in step with the Accounts dialog: sync what is added, stop what is removed.
    ``state_dir``: the inbox's folder, where per-account state such as X's monthly read count is kept."""

    async def start_syncing(account: Account) -> None:
        await engine.remove_account(account.id)  # a reconnect replaces the connector holding the old token
        # Reading the token may wait for the owner to unlock the keyring: never on the event loop.
        connectors, unserved = await off_loop(
            functools.partial(connectors_for, [account], demo_seed=seed, state_dir=state_dir))
        for connector in connectors:
            engine.add_connector(connector)
        for item in unserved:
            show_message(unserved_message(item))

    accounts.on_added.append(start_syncing)
    accounts.on_removing.append(engine.remove_account)


SWITCH_INTERVAL_S = 0.001


def run_gui(inbox: Inbox, path: Path, *, demo: bool, seed: int, interval: float) -> int:
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Tend")
    app.setOrganizationName("Tend")
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)  # shutdown is ours: stop sync, finish writes, then leave
    collector = MainThreadGarbageCollector(app)
    loop = qasync.QEventLoop(app)
    # Name lookups (getaddrinfo) run in the loop's default executor. qasync's own is a pool of QThreads, and Qt
    # aborts a process that exits with one alive: every session that reached a server by host name ended in a
    # crash (and a crash report or core dump holds live tokens). Plain Python threads end with the process.
    lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tend-io")
    loop.set_default_executor(lookups)
    # The Qt thread gives up the GIL around every SQLite step, socket call and HTML clean-up; while the writer
    # thread computes (the radar's tone scores), each hand-back waited up to Python's default 5 ms switch interval,
    # and a page of 40 posts added up to a visible stall. 1 ms keeps the loop responsive for a negligible cost.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    asyncio.set_event_loop(loop)

    accounts = inbox.accounts()
    connectors, unserved = connectors_for(accounts, demo_seed=seed, state_dir=path.parent)
    writer = StoreWriter(inbox)
    reader = open_reader(path)
    engine = SyncEngine(writer, connectors, interval=interval)
    # The outbox sends through whichever connector the engine is running for the account (added ones included).
    outbox = OutboxService(writer, engine.connector_for)
    engine.outbox = outbox
    actions = InboxActions(writer)
    account_service = AccountService(writer, x_usage=XUsageStore.in_folder(path.parent))
    window = MainWindow(
        reader,
        actions,
        settings=QSettings(),
        title_suffix=" — demo" if demo else "",
        accounts=account_service,
        outbox=outbox,
        canned=CannedStore(path.parent),  # canned_replies.json next to the inbox
        people=PeopleService(writer),
        watches=WatchService(writer),
    )
    window.set_accounts(accounts)
    radar = RadarService(writer, threshold=window.escalation_threshold)
    radar.on_changes.append(window.apply_changes)
    radar.on_escalation.append(window.notify_escalation)
    window.thresholdChanged.connect(lambda value: setattr(radar, "threshold", value))
    outbox.on_changes.append(window.apply_changes)
    engine.on_changes.append(window.apply_changes)
    engine.on_changes.append(radar.nudge)
    engine.on_status.append(window.show_status)
    sync_account_changes(account_service, engine, window.show_message, seed=seed, state_dir=path.parent)
    for item in unserved:
        window.show_message(unserved_message(item))

    closed = asyncio.Event()
    window.closed.connect(closed.set)
    signals = SignalBridge(window.close)
    install_excepthook(window.show_message)

    async def session() -> None:
        # Before any sending starts: replies cut off in their undo window are held for the owner, not sent.
        try:
            window.show_held(await outbox.recover())
        except Exception as error:  # never keep the app from opening; the outbox stays as it was
            log.exception("recovering the outbox failed")
            window.show_message(owner_message(error))
        # The window paints first; then the HTTP stack's lazy imports run off the loop; only then does syncing
        # start. Together in one turn of the loop they held the window for 40-80 ms (see first_paint.py).
        window.show()
        await first_paint(window.thread_list.viewport())
        missing = await loop.run_in_executor(lookups, preload_async_backend)
        if missing:
            log.info("not preloaded (this httpcore does not use them): %s", ", ".join(missing))
        collector.freeze_survivors()
        engine.start()
        radar.start()
        await closed.wait()
        await radar.stop()
        await engine.stop()

    try:
        loop.run_until_complete(session())
    finally:
        signals.close()
        collector.stop()
        writer.close()
        reader.close()
        lookups.shutdown(wait=False, cancel_futures=True)  # a lookup still waiting on DNS must not hold the exit
        log.info("Tend closed cleanly")
    return 0
