"""The "Add X account" form driven through its widgets, against the local X server and a simulated browser.

The browser step is what a real browser does: load X's authorization page (here the local server's), follow the
redirect to Tend's loopback listener on the qasync loop in this process. The running sync engine then picks the new
account up with the real X connector, so the customer's mention arrives in the window.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog

from console.secrets import delete_secret, load_secret, off_loop
from console.services.accounts import AccountService
from console.services.actions import InboxActions
from console.services.writer import StoreWriter
from console.services.x_usage import XUsageStore
from console.store import Inbox
from console.sync import SyncEngine, SyncState
from console.ui import accounts_dialog
from console.ui.accounts_dialog import AccountsDialog
from console.ui.application import open_reader, sync_account_changes
from console.ui.main_window import MainWindow
from tests.connectors.oauth_server import FakeBrowser, fresh_keyring  # noqa: F401
from tests.connectors.x_server import CLIENT_ID, HAPPYCAMPER, SNOWMAN, XTestServer, x_server  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_keyring")
ACCOUNT_ID = f"x:{SNOWMAN}"


@dataclass
class XApp:
    window: MainWindow
    engine: SyncEngine
    writer: StoreWriter
    folder: Path


def keyring(qtbot, function, *args):  # noqa: ANN001, ANN201
    """Call the keyring the way the app does, on its one keyring thread. The plaintext test keyring rewrites its
    whole file on each change, so a read from this thread while the app's thread writes could see it half written."""
    done = asyncio.ensure_future(off_loop(function, *args))
    qtbot.waitUntil(done.done, timeout=5000)
    return done.result()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> FakeBrowser:
    fake = FakeBrowser()
    monkeypatch.setattr(accounts_dialog, "open_in_browser", fake)
    return fake


@pytest.fixture
def app(qtbot, loop, tmp_path: Path, x_server: XTestServer) -> Iterator[XApp]:  # noqa: F811
    port = free_port()
    x_server.clients[CLIENT_ID] = f"http://127.0.0.1:{port}/callback"  # what the owner allowed in the portal
    x_server.now = datetime.now(timezone.utc).replace(microsecond=0)  # the connector reads on the real clock
    path = tmp_path / "inbox.db"
    writer = StoreWriter(Inbox.open(path))
    reader = open_reader(path)
    service = AccountService(writer, auth_timeout=30, x_usage=XUsageStore.in_folder(tmp_path),
                             x_api_base=x_server.url, x_authorize_url=x_server.authorize_url, x_redirect_port=port)
    engine = SyncEngine(writer, [], interval=3600)
    window = MainWindow(reader, InboxActions(writer), settings=QSettings(str(tmp_path / "s.ini"),
                                                                          QSettings.Format.IniFormat),
                        accounts=service)
    window.set_accounts(reader.accounts())
    engine.on_changes.append(window.apply_changes)
    engine.on_status.append(window.show_status)
    sync_account_changes(service, engine, window.show_message, state_dir=tmp_path)
    qtbot.addWidget(window)
    window.show()
    engine.start()
    yield XApp(window, engine, writer, tmp_path)
    window.close()
    stopping = asyncio.ensure_future(engine.stop())
    qtbot.waitUntil(stopping.done, timeout=5000)
    writer.close()
    reader.close()


def open_x_form(app: XApp, qtbot) -> AccountsDialog:
    app.window.accounts_action.trigger()
    dialog = app.window.findChild(QDialog, "accountsDialog")
    assert isinstance(dialog, AccountsDialog)
    qtbot.waitUntil(lambda: not dialog.busy and dialog.status_label.text() != "", timeout=5000)
    assert "Mastodon, Bluesky or X" in dialog.status_label.text()
    qtbot.mouseClick(dialog.add_x_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == accounts_dialog.PAGE_X
    return dialog


def test_the_form_checks_the_client_id_then_signs_in_and_the_mentions_arrive(
    app: XApp, qtbot, x_server: XTestServer, browser: FakeBrowser  # noqa: F811
) -> None:
    root = x_server.post(SNOWMAN, "Our winter soups are back from Monday!")
    x_server.post(HAPPYCAMPER, "@snowman is the pumpkin one vegan?", in_reply_to=root)
    x_server.set_counts(root, retweet_count=7, quote_count=1)
    x_server.set_followers(HAPPYCAMPER, 1200)
    dialog = open_x_form(app, qtbot)
    form = dialog.x_form
    assert form.client_id_help.text() == ("From your X developer app: Keys and tokens ▸ OAuth 2.0 Client ID; the app "
                                          "must allow http://127.0.0.1:47219/callback")
    assert "Native App" in form.explanation.text() and form.cap_field.text() == "not known"

    qtbot.mouseClick(form.connect_button, Qt.MouseButton.LeftButton)  # nothing typed yet
    assert dialog.status_label.text().startswith("Enter the client id of your X app")
    qtbot.keyClicks(form.client_id_field, "M1M5R3BMVy13 QmpScXkz")
    qtbot.mouseClick(form.connect_button, Qt.MouseButton.LeftButton)
    assert "one word without spaces" in dialog.status_label.text()
    assert browser.opened == [] and x_server.requests == [] and not dialog.busy

    form.client_id_field.clear()
    qtbot.keyClicks(form.client_id_field, CLIENT_ID)
    form.cap_field.setValue(10_000)
    qtbot.mouseClick(form.connect_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: dialog.account_ids() == [ACCOUNT_ID], timeout=10_000)
    assert "Tend is connected" in browser.last_page and x_server.failures == []
    assert dialog.pages.currentIndex() == accounts_dialog.PAGE_LIST
    assert dialog.status_label.text().startswith("Connected @snowman.")
    assert form.client_id_field.text() == "" and form.cap_field.value() == 0  # ready for the next one
    item = dialog.account_list.topLevelItem(0)
    assert [item.text(c) for c in range(3)] == ["@snowman", x_server.url.removeprefix("http://"), "connected"]
    assert "reads left this month" in item.toolTip(2)
    assert keyring(qtbot, load_secret, ACCOUNT_ID, "client_id") == CLIENT_ID
    # (the running connector may be rotating the refresh token right now: X spends the old one, the new one follows)
    qtbot.waitUntil(lambda: load_secret(ACCOUNT_ID, "refresh_token") in x_server.refresh_tokens, timeout=5000)

    # The running engine syncs the new account with the real X connector: the conversation arrives, and the
    # month's reads are counted against the cap beside the inbox.
    qtbot.waitUntil(lambda: app.window.model.rowCount() == 1, timeout=10_000)
    assert app.engine.account_ids == [ACCOUNT_ID]
    qtbot.waitUntil(lambda: "reads left this month" in app.engine.statuses[ACCOUNT_ID].message, timeout=10_000)
    usage = json.loads((app.folder / "x-usage.json").read_text())[ACCOUNT_ID]
    assert usage["cap"] == 10_000 and usage["reads"] >= 2


def test_cancel_stops_waiting_for_the_browser(
    app: XApp, qtbot, x_server: XTestServer, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(accounts_dialog, "open_in_browser", opened.append)  # the owner never approves
    dialog = open_x_form(app, qtbot)
    qtbot.keyClicks(dialog.x_form.client_id_field, CLIENT_ID)
    qtbot.mouseClick(dialog.x_form.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Waiting for you to approve" in dialog.status_label.text(), timeout=5000)
    assert dialog.busy and dialog.cancel_button.isVisible() and not dialog.x_form.connect_button.isEnabled()

    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=5000)
    assert dialog.status_label.text() == "Cancelled. Nothing was changed."
    assert dialog.x_form.connect_button.isEnabled() and dialog.pages.currentIndex() == accounts_dialog.PAGE_X
    assert len(opened) == 1 and dialog.account_ids() == []
    assert keyring(qtbot, load_secret, ACCOUNT_ID, "client_id") is None


def test_errors_are_shown_in_plain_words(
    app: XApp, qtbot, x_server: XTestServer, browser: FakeBrowser  # noqa: F811
) -> None:
    x_server.deny = True
    dialog = open_x_form(app, qtbot)
    qtbot.keyClicks(dialog.x_form.client_id_field, CLIENT_ID)
    qtbot.mouseClick(dialog.x_form.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "was not given access" in dialog.status_label.text(), timeout=10_000)
    assert dialog.status_label.text() == "Tend was not given access to your X account. Nothing was connected."
    assert dialog.account_ids() == [] and not dialog.busy and app.engine.account_ids == []


def test_reconnect_signs_in_again_with_the_saved_client_id(
    app: XApp, qtbot, x_server: XTestServer, browser: FakeBrowser  # noqa: F811
) -> None:
    dialog = open_x_form(app, qtbot)
    qtbot.keyClicks(dialog.x_form.client_id_field, CLIENT_ID)
    qtbot.mouseClick(dialog.x_form.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.account_ids() == [ACCOUNT_ID], timeout=10_000)
    old = keyring(qtbot, load_secret, ACCOUNT_ID, "refresh_token")
    done = asyncio.ensure_future(app.writer.call(Inbox.set_needs_reconnect, ACCOUNT_ID, True))
    qtbot.waitUntil(done.done, timeout=5000)
    dialog.reload()
    qtbot.waitUntil(lambda: dialog.reconnect_button.isEnabled(), timeout=5000)

    qtbot.mouseClick(dialog.reconnect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status_label.text().startswith("Connected @snowman"), timeout=10_000)
    qtbot.waitUntil(lambda: dialog.account_list.topLevelItem(0).text(2) == "connected", timeout=5000)
    qtbot.waitUntil(lambda: load_secret(ACCOUNT_ID, "refresh_token") in x_server.refresh_tokens, timeout=5000)
    assert keyring(qtbot, load_secret, ACCOUNT_ID, "refresh_token") != old
    assert [r.params["client_id"] for r in x_server.requests_to("/i/oauth2/authorize")] == [CLIENT_ID, CLIENT_ID]
    qtbot.waitUntil(lambda: app.engine.account_ids == [ACCOUNT_ID], timeout=5000)


def test_reconnect_without_the_saved_client_id_asks_for_it_again_keeping_the_cap(
    app: XApp, qtbot, x_server: XTestServer, browser: FakeBrowser  # noqa: F811
) -> None:
    dialog = open_x_form(app, qtbot)
    qtbot.keyClicks(dialog.x_form.client_id_field, CLIENT_ID)
    dialog.x_form.cap_field.setValue(500)
    qtbot.mouseClick(dialog.x_form.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.account_ids() == [ACCOUNT_ID], timeout=10_000)
    # Let the new account's first sync (which rotates its refresh token) finish before its client id goes.
    qtbot.waitUntil(lambda: app.engine.statuses.get(ACCOUNT_ID) is not None
                    and app.engine.statuses[ACCOUNT_ID].state is not SyncState.SYNCING, timeout=10_000)
    keyring(qtbot, delete_secret, ACCOUNT_ID, "client_id")
    assert keyring(qtbot, load_secret, ACCOUNT_ID, "client_id") is None
    dialog.reload()
    qtbot.waitUntil(lambda: dialog.reconnect_button.isEnabled(), timeout=5000)
    assert dialog.account_list.topLevelItem(0).toolTip(2) == "needs reconnecting (no saved client id of your X app)"

    qtbot.mouseClick(dialog.reconnect_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == accounts_dialog.PAGE_X
    assert dialog.status_label.text() == "Give the client id of your X app again to reconnect @snowman."
    assert dialog.x_form.client_id_field.text() == "" and dialog.x_form.cap_field.value() == 500
    qtbot.keyClicks(dialog.x_form.client_id_field, CLIENT_ID)
    qtbot.mouseClick(dialog.x_form.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.account_list.topLevelItem(0).text(2) == "connected", timeout=10_000)
    assert keyring(qtbot, load_secret, ACCOUNT_ID, "client_id") == CLIENT_ID
    assert json.loads((app.folder / "x-usage.json").read_text())[ACCOUNT_ID]["cap"] == 500
