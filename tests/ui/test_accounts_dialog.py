"""The Accounts dialog driven through its widgets, with the sign-in server on 127.0.0.1 and a simulated browser.

The browser step is what a real browser does: load the authorization page, follow the redirect to Tend's loopback
listener, which runs on the qasync loop inside this (Qt) process. The Mastodon connector is a scripted stand-in so
the test sees the running sync engine pick up the new account with the token from the keyring.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import types
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QLabel, QMessageBox

from console.domain import Account, Author, Batch, Post
from console.services.accounts import AccountService
from console.services.actions import InboxActions
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import SyncEngine
from console.ui import accounts_dialog
from console.ui.accounts_dialog import AccountsDialog
from console.ui.application import open_reader, sync_account_changes
from console.ui.main_window import MainWindow
from tests.connectors.oauth_server import FakeBrowser, FakeMastodonAuth, auth_server, fresh_keyring  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_keyring")


class ScriptedMastodon:
    """Stands in for MastodonConnector: one page with one customer question, and it remembers its token."""

    made: list[ScriptedMastodon] = []

    def __init__(self, account: Account, token: str) -> None:
        self.account = account
        self.token = token
        self.closed = False
        ScriptedMastodon.made.append(self)

    @property
    def streams(self) -> Sequence[str]:
        return ("notifications",)

    async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
        if cursor is None:
            post = Post(
                id="mastodon:q1", network="mastodon", account_id=self.account.id, thread_id="mastodon:q1",
                author_id="mastodon:cust", text="Do you ship to Lyon?", created_at="2026-11-25T09:00:00.000Z",
                observed_at="2026-11-25T09:00:00.000Z",
            )
            yield Batch(self.account.id, stream, (post,), (Author("mastodon:cust", "mastodon", "@cust", "C"),), "1")

    async def fetch_thread(self, root_id: str) -> list[Post]:
        return []

    async def fetch_authors(self, author_ids: Sequence[str]) -> list[Author]:
        return []

    async def send_reply(self, reply: object) -> Post:
        raise NotImplementedError

    async def aclose(self) -> None:
        self.closed = True


@dataclass
class AccountsApp:
    window: MainWindow
    service: AccountService
    engine: SyncEngine
    writer: StoreWriter
    path: Path


@pytest.fixture
def scripted_mastodon(monkeypatch: pytest.MonkeyPatch) -> type[ScriptedMastodon]:
    module = types.ModuleType("console.connectors.mastodon")
    module.MastodonConnector = ScriptedMastodon
    monkeypatch.setitem(sys.modules, "console.connectors.mastodon", module)
    ScriptedMastodon.made = []
    return ScriptedMastodon


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> FakeBrowser:
    fake = FakeBrowser()
    monkeypatch.setattr(accounts_dialog, "open_in_browser", fake)
    return fake


@pytest.fixture
def app(qtbot, loop, tmp_path: Path, scripted_mastodon) -> Iterator[AccountsApp]:
    path = tmp_path / "inbox.db"
    writer = StoreWriter(Inbox.open(path))
    reader = open_reader(path)
    service = AccountService(writer, auth_timeout=30)
    engine = SyncEngine(writer, [], interval=3600)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(reader, InboxActions(writer), settings=settings, accounts=service)
    window.set_accounts(reader.accounts())
    engine.on_changes.append(window.apply_changes)
    engine.on_status.append(window.show_status)
    sync_account_changes(service, engine, window.show_message)
    qtbot.addWidget(window)
    window.show()
    engine.start()
    yield AccountsApp(window, service, engine, writer, path)
    window.close()
    stopping = asyncio.ensure_future(engine.stop())
    qtbot.waitUntil(stopping.done, timeout=5000)
    writer.close()
    reader.close()


def open_dialog(app: AccountsApp, qtbot) -> AccountsDialog:
    app.window.accounts_action.trigger()
    dialog = app.window.findChild(QDialog, "accountsDialog")
    assert isinstance(dialog, AccountsDialog) and dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.busy and dialog.status_label.text() != "", timeout=5000)
    return dialog


def sidebar_accounts(window: MainWindow) -> list[str]:
    sidebar = window.sidebar
    header = next(sidebar.topLevelItem(i) for i in range(sidebar.topLevelItemCount())
                  if sidebar.topLevelItem(i).text(0) == "Accounts")
    return [header.child(i).text(0).split("  (")[0] for i in range(header.childCount())]


def add_with_token(app: AccountsApp, qtbot, server: FakeMastodonAuth, token: str) -> AccountsDialog:
    dialog = open_dialog(app, qtbot)
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.server_field, server.url)
    dialog.token_toggle.setChecked(True)
    assert dialog.token_field.echoMode() == dialog.token_field.EchoMode.Password
    qtbot.keyClicks(dialog.token_field, token)
    qtbot.mouseClick(dialog.token_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.account_ids() == [server.account_id], timeout=10_000)
    return dialog


def test_connect_in_browser_adds_the_account_everywhere_and_starts_syncing(
    app: AccountsApp, qtbot, auth_server: FakeMastodonAuth, browser: FakeBrowser  # noqa: F811
) -> None:
    dialog = open_dialog(app, qtbot)
    assert "No accounts yet" in dialog.status_label.text()
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == accounts_dialog.PAGE_ADD
    qtbot.keyClicks(dialog.server_field, auth_server.url)
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: dialog.account_ids() == [auth_server.account_id], timeout=10_000)
    assert "You can close this tab and return to Tend" in browser.last_page
    assert auth_server.failures == []
    assert dialog.pages.currentIndex() == accounts_dialog.PAGE_LIST
    assert dialog.status_label.text().startswith("Connected @mastodonpy_test@localhost:3000")
    item = dialog.account_list.topLevelItem(0)
    assert [item.text(c) for c in range(3)] == [
        "@mastodonpy_test@localhost:3000", urlsplit(auth_server.url).netloc, "connected"
    ]
    assert not dialog.busy and not dialog.cancel_button.isVisible()

    window = app.window
    assert sidebar_accounts(window) == ["@mastodonpy_test@localhost:3000"]
    assert window.findChild(QLabel, f"status-{auth_server.account_id}") is not None
    # The running engine syncs the new account with the token from the keyring; its thread shows up.
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=10_000)
    (connector,) = ScriptedMastodon.made
    assert auth_server.tokens[connector.token] is not None
    assert app.engine.account_ids == [auth_server.account_id]


def test_an_access_token_can_be_used_instead(
    app: AccountsApp, qtbot, auth_server: FakeMastodonAuth  # noqa: F811
) -> None:
    token = auth_server.issue_token()
    dialog = add_with_token(app, qtbot, auth_server, token)
    assert dialog.token_field.text() == ""  # not left lying in the widget
    assert sidebar_accounts(app.window) == ["@mastodonpy_test@localhost:3000"]
    qtbot.waitUntil(lambda: [c.token for c in ScriptedMastodon.made] == [token], timeout=5000)


def test_cancel_stops_waiting_for_the_browser(
    app: AccountsApp, qtbot, auth_server: FakeMastodonAuth, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(accounts_dialog, "open_in_browser", opened.append)  # the owner never approves
    dialog = open_dialog(app, qtbot)
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.server_field, auth_server.url)
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Waiting for you to approve" in dialog.status_label.text(), timeout=5000)
    assert dialog.busy and dialog.cancel_button.isVisible() and not dialog.connect_button.isEnabled()

    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=5000)
    assert dialog.status_label.text() == "Cancelled. Nothing was changed."
    assert dialog.connect_button.isEnabled()
    redirect_uri = dict(parse_qsl(urlsplit(opened[0]).query))["redirect_uri"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(redirect_uri, timeout=2)
    assert dialog.account_ids() == [] and sidebar_accounts(app.window) == []


def test_errors_are_shown_in_plain_words(
    app: AccountsApp, qtbot, auth_server: FakeMastodonAuth, browser: FakeBrowser  # noqa: F811
) -> None:
    dialog = open_dialog(app, qtbot)
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.server_field, "http://example.com")
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "secure (https)" in dialog.status_label.text(), timeout=5000)

    auth_server.deny = True
    dialog.server_field.setText(auth_server.url)
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "was not given access" in dialog.status_label.text(), timeout=10_000)
    assert dialog.account_ids() == [] and not dialog.busy


@pytest.mark.parametrize("keep", [True, False])
def test_remove_asks_about_history_then_revokes_and_updates_the_window(
    app: AccountsApp, qtbot, auth_server: FakeMastodonAuth, keep: bool  # noqa: F811
) -> None:
    token = auth_server.issue_token()
    dialog = add_with_token(app, qtbot, auth_server, token)
    qtbot.waitUntil(lambda: app.window.model.rowCount() == 1, timeout=10_000)

    dialog.select_account(auth_server.account_id)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    question = dialog.remove_question
    assert isinstance(question, QMessageBox) and question.isVisible()
    assert "Keep this account's conversations in your inbox?" in question.informativeText()
    wanted = "Keep conversations" if keep else "Delete conversations"
    (button,) = [b for b in question.buttons() if b.text() == wanted]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: dialog.account_ids() == [] and not dialog.busy, timeout=10_000)
    assert dialog.status_label.text().startswith("Removed @mastodonpy_test@localhost:3000.")
    assert token not in auth_server.tokens and len(auth_server.requests_to("/oauth/revoke")) == 1
    assert sidebar_accounts(app.window) == []
    assert app.window.findChild(QLabel, f"status-{auth_server.account_id}") is None
    assert app.engine.account_ids == [] and ScriptedMastodon.made[0].closed
    qtbot.waitUntil(lambda: app.window.model.rowCount() == (1 if keep else 0), timeout=5000)
    conn = sqlite3.connect(app.path)
    assert conn.execute("SELECT count(*) FROM posts").fetchone()[0] == (1 if keep else 0)
    conn.close()


def test_reconnect_signs_in_again_for_an_account_that_needs_it(
    app: AccountsApp, qtbot, auth_server: FakeMastodonAuth, browser: FakeBrowser  # noqa: F811
) -> None:
    old = auth_server.issue_token()
    dialog = add_with_token(app, qtbot, auth_server, old)
    auth_server.tokens.pop(old)
    done = asyncio.ensure_future(app.writer.call(Inbox.set_needs_reconnect, auth_server.account_id, True))
    qtbot.waitUntil(done.done, timeout=5000)
    dialog.reload()
    qtbot.waitUntil(lambda: dialog.reconnect_button.isEnabled(), timeout=5000)
    assert dialog.account_list.topLevelItem(0).text(2) == "needs reconnecting"

    qtbot.mouseClick(dialog.reconnect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status_label.text().startswith("Connected"), timeout=10_000)
    qtbot.waitUntil(lambda: dialog.account_list.topLevelItem(0).text(2) == "connected", timeout=5000)
    assert not dialog.reconnect_button.isEnabled()
    qtbot.waitUntil(lambda: len(ScriptedMastodon.made) == 2, timeout=5000)
    first, second = ScriptedMastodon.made
    assert first.closed and second.token != old and auth_server.tokens[second.token] is not None
    assert app.engine.account_ids == [auth_server.account_id]


KEYRING_THEN_EXIT = """
import asyncio, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
import qasync
from console.domain import Account
from console.services.accounts import AccountService
from console.services.writer import StoreWriter
from console.store import Inbox
inbox = Inbox.open(Path(sys.argv[1]))
inbox.ensure_account(Account("mastodon:shop@example.social", "mastodon", "@shop@example.social",
                             "https://example.social"))
writer = StoreWriter(inbox)
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
state = loop.run_until_complete(AccountService(writer).state_of(inbox.accounts()[0]))
writer.close()
print(state)
"""  # like run_gui, the loop is never closed


def test_keyring_calls_from_the_qt_loop_do_not_crash_the_app_at_exit(tmp_path: Path) -> None:
    """qasync's default executor is a QThread, and Qt aborts at exit while one lives: keyring calls avoid it."""
    import os
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", KEYRING_THEN_EXIT, str(tmp_path / "inbox.db")], capture_output=True, text=True,
        timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "needs reconnecting (no saved access token)"
