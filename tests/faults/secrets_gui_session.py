"""The window part of the no-secrets session: the real Tend app, driven the way its owner would drive it.

``python -m tests.faults.secrets_gui_session DB THREAD_ID TEXT`` starts Tend exactly as ``tend -v --db DB`` does
(``console.app.main``: run_gui, the qasync loop, the sync engine, the outbox, QSettings under $HOME). Once the
window's own sync has brought ``THREAD_ID`` in, it opens that conversation, sets the account's undo window to one
second in Reply settings, types ``TEXT`` in the composer and presses Send. When the outbox says the reply was sent
it closes the window (which writes the QSettings) and Tend shuts down by itself. Nothing of Tend's is replaced.

Prints ``SYNCED``, ``QUEUED <outbox id>`` and ``SENT <post id>`` as it goes; any failure is printed to stderr and
makes the exit code non-zero.
"""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from console.app import main
from console.store import outbox as outbox_store
from console.store import reply_settings
from console.store.outbox import OutboxState
from console.store.queries import get_thread
from console.ui.application import open_reader
from console.ui.main_window import MainWindow

T = TypeVar("T")
UNDO_S = 1
TIMEOUT_S = 40.0


async def until(what: Callable[[], T], wanted: str | Callable[[], str], timeout: float = TIMEOUT_S) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {wanted if isinstance(wanted, str) else wanted()}")
        await asyncio.sleep(0.05)


def say(line: str) -> None:
    print(line, flush=True)


def the_window() -> MainWindow | None:
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None)


async def answer(db: Path, thread_id: str, text: str, failures: list[str]) -> None:
    window: MainWindow | None = None
    reader = open_reader(db)
    try:
        window = await until(the_window, "the main window")
        # The window's own sync engine fetches the conversation (it was posted after the last `tend sync`).
        await until(lambda: get_thread(reader.db, thread_id), f"the window's sync to store {thread_id}")
        say("SYNCED")
        window.open_thread(thread_id)
        composer = window.composer
        assert composer is not None, "the window has no composer (no outbox wired)"
        await until(lambda: composer.thread_id == thread_id, "the composer to follow the thread")

        # Replies menu › Reply settings…: a one-second undo window for this account, saved as the dialog saves it.
        composer.open_reply_settings()
        dialog = composer.settings_dialog
        dialog.undo_seconds.setValue(UNDO_S)
        dialog.accept()
        account_id = get_thread(reader.db, thread_id).account_id
        await until(lambda: reply_settings.account_settings(reader, account_id).undo_s == UNDO_S,
                    "the reply settings to be saved")

        composer.editor.setFocus()
        QTest.keyClicks(composer.editor, text)
        await until(composer.send_button.isEnabled, lambda: f"Send to be enabled ({composer.block_reason})",
                    timeout=10)
        QTest.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
        (item,) = await until(lambda: outbox_store.items_for_thread(reader, thread_id, include_done=True),
                              "the reply to be queued")
        say(f"QUEUED {item.id}")

        def settled():  # noqa: ANN202
            (now,) = outbox_store.items_for_thread(reader, thread_id, include_done=True)
            return now if now.state in (OutboxState.SENT, OutboxState.FAILED, OutboxState.HELD) else None

        done = await until(settled, "the outbox to send the reply")
        if done.state is not OutboxState.SENT:
            raise AssertionError(f"the reply was not sent: {done.state.value}: {done.last_error}")
        say(f"SENT {done.sent_post_id}")
    except BaseException:  # noqa: BLE001 - reported through the exit code and stderr
        failures.append(traceback.format_exc())
    finally:
        reader.close()
        window = window or the_window()
        if window is not None:
            window.close()  # as the owner closes it: settings saved, sync stopped, writes finished
        else:
            QApplication.instance().quit()


def run(db: str, thread_id: str, text: str) -> int:
    # run_gui takes the running QApplication as its own; creating it first lets the driver be scheduled on it.
    QApplication([sys.argv[0]])
    failures: list[str] = []
    QTimer.singleShot(0, lambda: asyncio.ensure_future(answer(Path(db), thread_id, text, failures)))
    try:
        code = main(["-v", "--db", db])
    finally:
        for failure in failures:
            print(failure, file=sys.stderr, flush=True)
    return code or (1 if failures else 0)


if __name__ == "__main__":
    sys.exit(run(*sys.argv[1:]))
