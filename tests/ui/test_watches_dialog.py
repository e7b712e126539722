"""Brand watches in the window: the dialog saves the words, the Unmentioned view lists matches, the author panel
mutes people. A real inbox file, written through a real ``StoreWriter`` and read back through the reader."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox

from console.domain import Account, Author, Batch, Direction, Post
from console.domain.watches import WATCH_STREAM, BrandWatch
from console.services.actions import InboxActions
from console.services.people import PeopleService
from console.services.watches import WatchService
from console.services.writer import StoreWriter
from console.store import ChangeSet, Inbox, View, ViewKind
from console.store.watches import brand_watch
from console.ui.application import open_reader
from console.ui.main_window import MainWindow
from console.ui.thread_list_model import COL_AUTHOR, COL_STATUS
from console.ui.watches_dialog import AuthorIdRole, WatchesDialog

BIZ = Account("mastodon:biz", "mastodon", "biz@example.social", "https://example.social", "The Bakery")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
ALICE, BOB = "mastodon:alice", "mastodon:bob"


def _post(native: str, author: str, minute: int, text: str) -> Post:
    stamp = f"2026-11-25T09:{minute:02d}:00.000Z"
    return Post(f"mastodon:{native}", "mastodon", BIZ.id, f"mastodon:{native}", author, text, stamp, stamp,
                direction=Direction.IN)


@dataclass
class WatchApp:
    window: MainWindow
    watches: WatchService
    writer: StoreWriter
    reader: Inbox
    path: Path

    def stored(self, sql: str) -> list[tuple]:
        conn = sqlite3.connect(self.path)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()


@pytest.fixture
def app(qtbot, loop, tmp_path: Path) -> Iterator[WatchApp]:
    path = tmp_path / "inbox.db"
    inbox = Inbox.open(path, clock=lambda: NOW)
    inbox.ensure_account(BIZ)
    alice = Author(ALICE, "mastodon", "alice@example.social", "Alice Baker", 1_200, 300, 400)
    bob = Author(BOB, "mastodon", "bob@example.social", "Bob Neighbour", 90, 20, 5_000)
    inbox.apply_batch(Batch(BIZ.id, "mentions", (_post("1", ALICE, 0, "@biz my cake never came"),), (alice,)))
    inbox.apply_batch(replace(Batch(BIZ.id, WATCH_STREAM, (_post("2", BOB, 5, "Crumb & Co on Mill Lane is great"),),
                                    (bob,)), source="watch"))
    writer = StoreWriter(inbox)
    reader = open_reader(path)
    watches = WatchService(writer)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(reader, InboxActions(writer), settings=settings, clock=lambda: NOW,
                        people=PeopleService(writer), watches=watches)
    window.set_accounts(reader.accounts())
    qtbot.addWidget(window)
    window.show()
    yield WatchApp(window, watches, writer, reader, path)
    if window.author_panel is not None:
        window.author_panel.hide()
    writer.close()
    reader.close()


def test_the_menu_opens_the_dialog_and_saving_stores_the_words(qtbot, app):
    file_menu = app.window.menuBar().actions()[0].menu()
    assert app.window.watches_action in file_menu.actions() and app.window.watches_action.isEnabled()
    app.window.watches_action.trigger()
    dialog = app.window.show_watches_dialog()
    assert isinstance(dialog, WatchesDialog) and dialog.isVisible()
    assert dialog.terms_edit.toPlainText() == "" and dialog.exclude_edit.toPlainText() == ""

    dialog.terms_edit.setPlainText("Crumb & Co\n  crumbandco \n\n#crumbandco\nMill-Lane\ncrumbandco")
    dialog.exclude_edit.setPlainText("crumb rubber")
    dialog.try_edit.setText("parking on mill lane is awful")
    assert dialog.try_result.text() == "✔ Would be found"
    dialog.try_edit.setText("crumb rubber at Crumb & Co")
    assert dialog.try_result.text() == "✘ Left out by an excluded word"
    dialog.try_edit.setText("crumbs everywhere")
    assert dialog.try_result.text() == "✘ Not found"

    with qtbot.waitSignal(dialog.saved, timeout=3000) as saved:
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert saved.args[0].terms == ("Crumb & Co", "crumbandco", "#crumbandco", "Mill-Lane")
    assert app.stored("SELECT kind, word, position FROM brand_watch ORDER BY kind, position") == [
        ("exclude", "crumb rubber", 0),
        ("term", "Crumb & Co", 0), ("term", "crumbandco", 1), ("term", "#crumbandco", 2), ("term", "Mill-Lane", 3),
    ]
    assert not dialog.isVisible()
    assert app.window.message_label.text() == "Brand watch saved: 4 words to look for."

    # Opened again, it shows what is stored, not what was last typed.
    dialog.terms_edit.setPlainText("unsaved")
    again = app.window.show_watches_dialog()
    assert again is dialog and dialog.terms_edit.toPlainText() == "Crumb & Co\ncrumbandco\n#crumbandco\nMill-Lane"
    dialog.reject()


def test_the_explanation_says_what_matches(app):
    dialog = app.window.show_watches_dialog()
    text = " ".join(label.text() for label in dialog.findChildren(type(dialog.try_result)))
    for phrase in ("whole word", "any case", "accents", "Hashtags", "mute"):
        assert phrase in text, phrase
    dialog.reject()


def test_a_failed_save_says_so_and_keeps_the_dialog_open(qtbot, app, monkeypatch):
    dialog = app.window.show_watches_dialog()
    dialog.terms_edit.setPlainText("crumbandco")

    async def refuse(terms, exclude):
        from console.store import InboxError

        raise InboxError("The disk is full.")

    monkeypatch.setattr(app.watches, "save", refuse)
    dialog.save()
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=3000)
    assert dialog.error_label.text() == "The brand watch was not saved. The disk is full."
    assert dialog.isVisible() and dialog.buttons.isEnabled()
    dialog.reject()


def test_the_unmentioned_view_lists_the_watch_match(qtbot, app):
    sidebar = app.window.sidebar
    item = sidebar._view_items[ViewKind.UNMENTIONED]
    qtbot.waitUntil(lambda: item.text(0) == "Unmentioned  (1)", timeout=3000)  # counted off the Qt thread
    assert "brand watch" in item.toolTip(0)
    sidebar.select_view(View(ViewKind.UNMENTIONED))
    model = app.window.model
    assert model.rowCount() == 1
    row = model.thread_at(0)
    assert row.id == "mastodon:2" and row.unmentioned
    assert "Found by a brand watch (not tagged)" in model.data(model.index(0, COL_STATUS), Qt.ItemDataRole.ToolTipRole)
    assert "Found by a brand watch (not tagged)" in model.data(model.index(0, COL_AUTHOR), Qt.ItemDataRole.ToolTipRole)
    assert model.data(model.index(0, COL_AUTHOR), Qt.ItemDataRole.FontRole).italic()

    # The mention is in All open without the marker; the match is there too, marked.
    sidebar.select_view(View(ViewKind.OPEN))
    rows = {model.thread_at(n).id: n for n in range(model.rowCount())}
    assert set(rows) == {"mastodon:1", "mastodon:2"}
    mention = model.index(rows["mastodon:1"], COL_STATUS)
    assert "brand watch" not in (model.data(mention, Qt.ItemDataRole.ToolTipRole) or "")
    assert not model.data(model.index(rows["mastodon:1"], COL_AUTHOR), Qt.ItemDataRole.FontRole).italic()

    # Bob tags the business in his thread: it is a mention thread now and leaves the view.
    sidebar.select_view(View(ViewKind.UNMENTIONED))
    bob = Author(BOB, "mastodon", "bob@example.social", "Bob Neighbour", 90, 20, 5_000)
    reply = replace(_post("3", BOB, 8, "@biz do you deliver?"), thread_id="mastodon:2", parent_id="mastodon:2")
    app.writer.inbox.apply_batch(Batch(BIZ.id, "mentions", (reply,), (bob,)))
    app.window.apply_changes(ChangeSet(frozenset({"mastodon:2"})))
    qtbot.waitUntil(lambda: model.rowCount() == 0, timeout=3000)
    qtbot.waitUntil(lambda: item.text(0) == "Unmentioned  (0)", timeout=3000)  # counted off the Qt thread


def test_mute_from_the_author_panel(qtbot, app):
    panel = app.window.show_author(BOB)
    assert panel is not None and panel.mute_box.isVisible() and not panel.mute_box.isChecked()
    panel.mute_box.click()
    qtbot.waitUntil(lambda: app.stored("SELECT muted FROM author_notes WHERE author_id = 'mastodon:bob'") == [(1,)],
                    timeout=3000)
    assert brand_watch(app.reader).muted_author_ids == {BOB}
    # Alice's panel shows her own (unmuted) state.
    app.window.show_author(ALICE)
    assert not panel.mute_box.isChecked()
    app.window.show_author(BOB)
    assert panel.mute_box.isChecked()

    # The dialog lists Bob, and Unmute brings him back.
    dialog = app.window.show_watches_dialog()
    assert dialog.muted_list.count() == 1
    item = dialog.muted_list.item(0)
    assert item.data(AuthorIdRole) == BOB and "Bob Neighbour" in item.text()
    dialog.muted_list.setCurrentItem(item)
    assert dialog.unmute_button.isEnabled()
    dialog.unmute_button.click()
    qtbot.waitUntil(lambda: app.stored("SELECT muted FROM author_notes WHERE author_id = 'mastodon:bob'") == [(0,)],
                    timeout=3000)
    qtbot.waitUntil(lambda: dialog.muted_list.item(0).data(AuthorIdRole) is None, timeout=3000)
    qtbot.waitUntil(lambda: not panel.mute_box.isChecked(), timeout=3000)  # the open panel follows
    dialog.reject()


def test_without_a_watch_service_the_entries_are_off(qtbot, loop, tmp_path):
    path = tmp_path / "inbox.db"
    inbox = Inbox.open(path)
    writer = StoreWriter(inbox)
    reader = open_reader(path)
    try:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(reader, InboxActions(writer), settings=settings, people=PeopleService(writer))
        qtbot.addWidget(window)
        assert not window.watches_action.isEnabled()
        assert window.show_watches_dialog() is None
    finally:
        writer.close()
        reader.close()


def test_the_demo_network_fills_the_unmentioned_view(qtbot, loop, tmp_path):
    """The whole loop on the demo network: words typed in the dialog, the engine's next pass searches for them,
    the matches are listed under Unmentioned and marked."""
    from console.connectors.demo import DEMO_WATCH_EXCLUDE, DEMO_WATCH_TERMS, DemoNetwork
    from console.sync import SyncEngine

    clock_now = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
    network = DemoNetwork(seed=7, clock=lambda: clock_now, tick_seconds=3.0)
    path = tmp_path / "inbox.db"
    inbox = Inbox.open(path, clock=lambda: clock_now)
    for account in network.accounts():
        inbox.ensure_account(account)
    writer = StoreWriter(inbox)
    reader = open_reader(path)
    try:
        engine = SyncEngine(writer, network.connectors(), clock=lambda: clock_now)
        watches = WatchService(writer)
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(reader, InboxActions(writer), settings=settings, clock=lambda: clock_now,
                            people=PeopleService(writer), watches=watches)
        window.set_accounts(reader.accounts())
        engine.on_changes.append(window.apply_changes)
        qtbot.addWidget(window)
        window.show()

        dialog = window.show_watches_dialog()
        dialog.terms_edit.setPlainText("\n".join(DEMO_WATCH_TERMS))
        dialog.exclude_edit.setPlainText("\n".join(DEMO_WATCH_EXCLUDE))
        with qtbot.waitSignal(dialog.saved, timeout=3000):
            dialog.save()

        done = asyncio.ensure_future(engine.sync_once())
        qtbot.waitUntil(done.done, timeout=10_000)
        results = done.result()
        assert all(r.error is None and r.watch_error is None for r in results)
        found = sum(r.watch_posts for r in results)
        assert found > 0

        window.sidebar.select_view(View(ViewKind.UNMENTIONED))
        model = window.model
        qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=3000)
        rows = [model.thread_at(n) for n in range(model.rowCount())]
        assert all(row.unmentioned for row in rows)
        watch = BrandWatch(DEMO_WATCH_TERMS, DEMO_WATCH_EXCLUDE)
        assert all(watch.matches(row.latest_text) for row in rows)
        qtbot.waitUntil(
            lambda: window.sidebar._view_items[ViewKind.UNMENTIONED].text(0) == f"Unmentioned  ({len(rows)})",
            timeout=3000)
    finally:
        writer.close()
        reader.close()
