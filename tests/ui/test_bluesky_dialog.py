"""The "Add Bluesky account" form driven through its widgets, against the local Bluesky server.

The running sync engine picks the new account up with the real Bluesky connector, so the test sees the customer's
question arrive in the window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QLineEdit

from console.services.accounts import AccountService
from console.services.actions import InboxActions
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import SyncEngine
from console.ui import accounts_dialog
from console.ui.accounts_dialog import AccountsDialog
from console.ui.application import open_reader, sync_account_changes
from console.ui.main_window import MainWindow
from tests.connectors.bluesky_server import BlueskyTestServer, bluesky  # noqa: F401
from tests.connectors.oauth_server import fresh_keyring  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_keyring")
PASSWORD = "abcd-efgh-ijkl-mnop"


@pytest.fixture
def window(qtbot, loop, tmp_path: Path) -> Iterator[tuple[MainWindow, SyncEngine, StoreWriter]]:
    path = tmp_path / "inbox.db"
    writer = StoreWriter(Inbox.open(path))
    reader = open_reader(path)
    service = AccountService(writer)
    engine = SyncEngine(writer, [], interval=3600)
    window = MainWindow(reader, InboxActions(writer), settings=QSettings(str(tmp_path / "s.ini"),
                                                                          QSettings.Format.IniFormat),
                        accounts=service)
    window.set_accounts(reader.accounts())
    engine.on_changes.append(window.apply_changes)
    engine.on_status.append(window.show_status)
    sync_account_changes(service, engine, window.show_message)
    qtbot.addWidget(window)
    window.show()
    engine.start()
    yield window, engine, writer
    window.close()
    stopping = asyncio.ensure_future(engine.stop())
    qtbot.waitUntil(stopping.done, timeout=5000)
    writer.close()
    reader.close()


def open_bluesky_form(window: MainWindow, qtbot) -> AccountsDialog:
    window.accounts_action.trigger()
    dialog = window.findChild(QDialog, "accountsDialog")
    assert isinstance(dialog, AccountsDialog)
    qtbot.waitUntil(lambda: not dialog.busy and dialog.status_label.text() != "", timeout=5000)
    qtbot.mouseClick(dialog.add_bluesky_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == accounts_dialog.PAGE_BLUESKY
    return dialog


def fill(dialog: AccountsDialog, qtbot, server: BlueskyTestServer, handle: str, password: str) -> None:
    form = dialog.bluesky_form
    qtbot.keyClicks(form.handle_field, handle)
    qtbot.keyClicks(form.password_field, password)
    form.advanced_toggle.setChecked(True)
    qtbot.keyClicks(form.service_field, server.url)


def test_the_form_explains_app_passwords_and_connects(window, qtbot, bluesky: BlueskyTestServer) -> None:  # noqa: F811
    main, engine, _writer = window
    biz = bluesky.business("shop.test", password=PASSWORD)
    anna = bluesky.world.person("anna.test")
    bluesky.world.mention(anna, biz, "do you deliver?")
    dialog = open_bluesky_form(main, qtbot)
    form = dialog.bluesky_form
    text = form.explanation.text()
    assert "app password" in text and "Settings → Privacy and security → App passwords" in text
    assert "never the password itself" in text and "https://bsky.app/settings/app-passwords" in text
    assert form.password_field.echoMode() == QLineEdit.EchoMode.Password

    fill(dialog, qtbot, bluesky, "shop.test", PASSWORD)
    qtbot.mouseClick(form.connect_button, Qt.MouseButton.LeftButton)

    account_id = f"bluesky:{biz.did}"
    qtbot.waitUntil(lambda: dialog.account_ids() == [account_id], timeout=10_000)
    assert dialog.pages.currentIndex() == accounts_dialog.PAGE_LIST
    assert dialog.status_label.text().startswith("Connected @shop.test.")
    assert form.password_field.text() == "" and form.handle_field.text() == ""
    item = dialog.account_list.topLevelItem(0)
    assert [item.text(c) for c in range(3)] == ["@shop.test", bluesky.url.removeprefix("http://"), "connected"]
    assert engine.account_ids == [account_id]
    qtbot.waitUntil(lambda: main.model.rowCount() == 1, timeout=10_000)  # the question, synced by the real connector
    assert len(bluesky.requests_to("com.atproto.server.createSession")) == 1


def test_a_wrong_password_is_said_plainly_and_nothing_is_added(
    window, qtbot, bluesky: BlueskyTestServer  # noqa: F811
) -> None:
    main, engine, _writer = window
    bluesky.business("shop.test", password=PASSWORD)
    dialog = open_bluesky_form(main, qtbot)
    fill(dialog, qtbot, bluesky, "shop.test", "wrong-wrong-wrong")
    qtbot.mouseClick(dialog.bluesky_form.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "did not accept this app password" in dialog.status_label.text(), timeout=10_000)
    assert "App passwords" in dialog.status_label.text()
    assert dialog.account_ids() == [] and engine.account_ids == [] and not dialog.busy
    assert dialog.pages.currentIndex() == accounts_dialog.PAGE_BLUESKY and dialog.bluesky_form.connect_button.isEnabled()
    qtbot.mouseClick(dialog.bluesky_form.back_button, Qt.MouseButton.LeftButton)
    assert dialog.bluesky_form.password_field.text() == ""  # not left in a hidden widget


def test_reconnect_opens_the_form_with_the_handle_filled_in(
    window, qtbot, bluesky: BlueskyTestServer  # noqa: F811
) -> None:
    main, _engine, writer = window
    biz = bluesky.business("shop.test", password=PASSWORD)
    dialog = open_bluesky_form(main, qtbot)
    fill(dialog, qtbot, bluesky, "shop.test", PASSWORD)
    qtbot.mouseClick(dialog.bluesky_form.connect_button, Qt.MouseButton.LeftButton)
    account_id = f"bluesky:{biz.did}"
    qtbot.waitUntil(lambda: dialog.account_ids() == [account_id], timeout=10_000)
    done = asyncio.ensure_future(writer.call(Inbox.set_needs_reconnect, account_id, True))
    qtbot.waitUntil(done.done, timeout=5000)
    dialog.reload()
    qtbot.waitUntil(lambda: dialog.reconnect_button.isEnabled(), timeout=5000)
    qtbot.mouseClick(dialog.reconnect_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == accounts_dialog.PAGE_BLUESKY
    assert dialog.bluesky_form.handle_field.text() == "shop.test"
