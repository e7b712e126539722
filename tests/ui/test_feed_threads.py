"""Feed items in the window: read-only threads whose composer points to the site, and "Add feed…" in Accounts.

Real widgets over a real inbox: the demo network and a feed read from the feed site on 127.0.0.1 by the real
connector, through the sync engine, on a fake clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QInputDialog

from console.connectors.demo import DemoNetwork
from console.connectors.feed import FeedConnector, feed_account
from console.services.accounts import AccountService
from console.services.actions import InboxActions
from console.services.outbox import OutboxService
from console.services.writer import StoreWriter
from console.store import Inbox
from console.store.queries import thread_posts
from console.sync import SyncEngine
from console.ui.accounts_dialog import AccountsDialog
from console.ui.application import open_reader
from console.ui.composer import READ_ONLY_REASON, Composer
from console.ui.composer_canned import CannedStore
from console.ui.icons import network_icon
from console.ui.main_window import MainWindow
from tests.connectors.feed_server import FeedSite, feed_site  # noqa: F401
from tests.ui.conftest import FakeClock

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support", extend=True)


@dataclass
class FeedApp:
    window: MainWindow
    reader: Inbox
    writer: StoreWriter
    feed: FeedConnector

    @property
    def composer(self) -> Composer:
        assert self.window.composer is not None
        return self.window.composer


def run(qtbot, coro):
    task = asyncio.ensure_future(coro)
    qtbot.waitUntil(task.done, timeout=10_000)
    return task.result()


@pytest.fixture
def app(qtbot, loop, tmp_path: Path, feed_site: FeedSite) -> Iterator[FeedApp]:
    clock = FakeClock(datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc))
    network = DemoNetwork(seed=7, clock=clock, tick_seconds=3.0)
    feed = FeedConnector(feed_account(feed_site.at("/reviews.rss"), "Crumb & Co reviews"), clock=clock)
    inbox = Inbox.open(tmp_path / "inbox.db", clock=clock)
    for account in [*network.accounts(), feed.account]:
        inbox.ensure_account(account)
    writer = StoreWriter(inbox)
    reader = open_reader(tmp_path / "inbox.db")
    engine = SyncEngine(writer, [*network.connectors(), feed], clock=clock)
    outbox = OutboxService(writer, engine.connector_for, clock)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(reader, InboxActions(writer), settings=settings, clock=clock, outbox=outbox,
                        canned=CannedStore(tmp_path))
    window.set_accounts(inbox.accounts())
    engine.on_changes.append(window.apply_changes)
    qtbot.addWidget(window)
    window.show()
    results = run(qtbot, engine.sync_once())
    assert all(r.error is None for r in results), results
    qtbot.waitUntil(lambda: window.model.rowCount() >= 5, timeout=5000)
    yield FeedApp(window, reader, writer, feed)
    run(qtbot, feed.aclose())
    writer.close()
    reader.close()


def open_thread(app: FeedApp, qtbot, *, network: str) -> str:
    window = app.window
    for row in range(window.model.rowCount()):
        thread = window.model.thread_at(row)
        if thread.network == network:
            window.thread_list.setCurrentIndex(window.model.index(row, 0))
            qtbot.waitUntil(lambda: app.composer.thread_id == thread.id, timeout=2000)
            return thread.id
    raise AssertionError(f"no {network} thread in the list")


def test_a_feed_item_is_a_read_only_thread_with_a_link_to_answer_on_the_site(app: FeedApp, qtbot) -> None:
    opened: list[str] = []
    app.composer.open_link = opened.append
    thread_id = open_thread(app, qtbot, network="feed")
    [post] = thread_posts(app.reader.db, thread_id)
    assert post.url.startswith("https://reviews.example/reviews/")
    composer = app.composer

    assert composer.read_only
    for widget in (composer.editor, composer.send_button, composer.public_button, composer.direct_button,
                   composer.menu_button):
        assert not widget.isEnabled()
    assert composer.block_reason == READ_ONLY_REASON == "This came from a feed: answer on the site."
    assert composer.read_only_label.isVisible()
    notice = composer.read_only_label.text()
    assert notice.startswith("This came from a feed: answer on the site.")
    assert f'<a href="{post.url}">Open it on reviews.example</a>' in notice
    assert composer.target_label.text().startswith(f"From {post.author_name} on feed:")
    for banner in (composer.advice_banner, composer.exposure_banner, composer.guard_banner, composer.counter):
        assert not banner.isVisible()

    composer.read_only_label.linkActivated.emit(post.url)
    assert opened == [post.url]

    composer.tick()  # the once-a-second re-evaluation keeps it read-only
    assert not composer.send_button.isEnabled() and composer.block_reason == READ_ONLY_REASON


def test_the_composer_comes_back_for_a_network_thread(app: FeedApp, qtbot) -> None:
    open_thread(app, qtbot, network="feed")
    open_thread(app, qtbot, network="mastodon")
    composer = app.composer
    assert not composer.read_only and not composer.read_only_label.isVisible() and composer.counter.isVisible()
    assert composer.editor.isEnabled() and composer.public_button.isEnabled()
    qtbot.keyClicks(composer.editor, "Thanks for letting us know!")
    assert composer.send_button.isEnabled() and composer.block_reason == ""


def test_feed_threads_show_the_feed_icon(app: FeedApp, qtbot) -> None:
    icon = network_icon("feed")
    assert not icon.isNull()
    assert icon.cacheKey() != network_icon("no-such-network").cacheKey()


@pytest.fixture
def accounts(qtbot, loop, tmp_path: Path) -> Iterator[tuple[AccountsDialog, AccountService]]:
    writer = StoreWriter(Inbox.open(tmp_path / "inbox.db"))
    service = AccountService(writer)
    dialog = AccountsDialog(service)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.busy and dialog.status_label.text() != "", timeout=5000)
    yield dialog, service
    dialog.close()
    writer.close()


def test_add_feed_asks_for_the_address_and_lists_the_watch(accounts, qtbot, feed_site: FeedSite) -> None:
    dialog, service = accounts
    added = []
    dialog.accountsChanged.connect(lambda: added.append(True))
    dialog.add_feed_button.click()
    prompt = dialog.feed_prompt
    assert isinstance(prompt, QInputDialog) and prompt.isVisible()
    prompt.setTextValue(feed_site.at("/reviews.rss"))
    prompt.accept()

    qtbot.waitUntil(lambda: dialog.account_list.topLevelItemCount() == 1 and not dialog.busy, timeout=5000)
    item = dialog.account_list.topLevelItem(0)
    assert item.text(0) == "Crumb & Co Bakery Reviews | ReviewHub"
    assert item.text(2) == "watching"
    assert dialog.status_label.text().startswith("Watching Crumb & Co Bakery Reviews | ReviewHub.")
    assert added == [True] and dialog.feed_prompt is None
    assert not dialog.reconnect_button.isEnabled()  # nothing to reconnect on a feed

    box = dialog.ask_remove_selected()
    assert box is not None and "Tend will stop watching this feed." in box.informativeText()
    box.reject()


def test_a_page_that_is_not_a_feed_is_refused_in_plain_words(accounts, qtbot, feed_site: FeedSite) -> None:
    dialog, _service = accounts
    dialog.ask_feed_url()
    dialog.feed_prompt.setTextValue(feed_site.at("/oops.html"))
    dialog.feed_prompt.accept()
    qtbot.waitUntil(lambda: not dialog.busy and "could not be read" in dialog.status_label.text(), timeout=5000)
    assert "this address is a web page, not a feed" in dialog.status_label.text()
    assert dialog.account_list.topLevelItemCount() == 0
