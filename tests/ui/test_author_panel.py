"""The author panel on a real inbox file, written through a real ``StoreWriter`` and read back from the file."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from console.domain import Account, Author, Batch, Direction, Post, Reshare, ThreadStatus, influence_breakdown
from console.services.people import PeopleService
from console.services.writer import StoreWriter
from console.store import ChangeSet, Inbox
from console.ui.application import open_reader
from console.ui.author_panel import COL_PART, COL_WORDS, NOTE_DEBOUNCE_MS, AuthorPanel

BIZ = Account("mastodon:biz", "mastodon", "biz@example.social", "https://example.social", "The Bakery")
SHOP = Account("mastodon:shop", "mastodon", "shop@example.social", "https://example.social", "The Shop")
ALICE, BOB = "mastodon:alice", "mastodon:bob"
T1, T2 = "mastodon:t1", "mastodon:t2"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


def _post(native: str, thread: str, account: Account, author: str, minute: int, text: str) -> Post:
    stamp = f"2026-11-25T09:{minute:02d}:00Z"
    return Post(f"mastodon:{native}", "mastodon", account.id, thread, author, text, stamp, stamp,
                direction=Direction.IN, like_count=3)


@dataclass
class PanelSetup:
    panel: AuthorPanel
    people: PeopleService
    writer: StoreWriter
    path: Path
    announced: list[ChangeSet]

    def stored(self, column: str) -> object:
        """Read the flag or note straight from the file, through a connection of its own."""
        conn = sqlite3.connect(self.path)
        try:
            row = conn.execute(f"SELECT {column} FROM author_notes WHERE author_id = ?", (ALICE,)).fetchone()
        finally:
            conn.close()
        return row[0] if row else None


@pytest.fixture
def setup(qtbot, loop, tmp_path: Path) -> Iterator[PanelSetup]:
    path = tmp_path / "inbox.db"
    inbox = Inbox.open(path, clock=lambda: NOW)
    alice = Author(ALICE, "mastodon", "alice@example.social", "Alice Baker", 1_200, 300, 400,
                   "https://example.social/@alice")
    bob = Author(BOB, "mastodon", "bob@example.social", "Bob", 80_000, 20, 5_000)
    for account, post in (
        (BIZ, _post("a1", T1, BIZ, ALICE, 0, "My cake never came")),
        (SHOP, _post("a2", T2, SHOP, ALICE, 30, "Wrong size again")),
    ):
        inbox.ensure_account(account)
        inbox.apply_batch(Batch(account.id, "mentions", (post,), (alice,)))
    inbox.apply_batch(Batch(BIZ.id, "mentions", (), (bob,), reshares=(
        Reshare("mastodon:a1", BOB, "2026-11-25T09:05:00Z"),)))
    inbox.set_thread_status(T1, ThreadStatus.DONE)
    writer = StoreWriter(inbox)
    reader = open_reader(path)
    people = PeopleService(writer)
    announced: list[ChangeSet] = []
    people.on_changes.append(announced.append)
    panel = AuthorPanel(reader.db, people)
    qtbot.addWidget(panel)
    panel.show_author(ALICE)
    yield PanelSetup(panel, people, writer, path, announced)
    panel.hide()
    writer.close()
    reader.close()


def test_the_panel_shows_who_they_are_and_why_they_matter(setup: PanelSetup) -> None:
    panel = setup.panel
    assert not panel.isModal() and panel.isVisible()
    assert "Alice Baker" in panel.name_label.text() and "alice@example.social" in panel.name_label.text()
    assert "1,200 followers" in panel.figures_label.text() and "follows 300" in panel.figures_label.text()
    assert "https://example.social/@alice" in panel.figures_label.text()
    assert "2 posts in your inbox" in panel.history_label.text()
    assert "reshared by 1 person" in panel.history_label.text()
    expected = influence_breakdown(1_200, 300, 400, 6, 80_000)
    assert panel.influence_label.text() == expected.explain()
    assert f"Influence {expected.score} of 100" in panel.influence_label.text()
    assert "audience size" in panel.influence_label.text()
    assert not panel.vip_box.isChecked() and panel.notes.toPlainText() == ""

    # Both accounts, newest first, any status.
    assert panel.thread_ids() == [T2, T1]
    first, second = (panel.threads.topLevelItem(i) for i in range(2))
    assert (first.text(1), first.text(2), first.text(COL_WORDS)) == ("shop@example.social", "Open", "Wrong size again")
    assert (second.text(1), second.text(2)) == ("biz@example.social", "Done")
    assert first.text(COL_PART) == "posted"


def test_ticking_vip_is_written_to_the_file_and_announced(setup: PanelSetup, qtbot) -> None:
    setup.panel.vip_box.click()

    qtbot.waitUntil(lambda: setup.stored("vip") == 1, timeout=5000)
    qtbot.waitUntil(lambda: bool(setup.announced))
    assert setup.announced[-1].thread_ids == {T1, T2}
    assert setup.panel.error_label.isHidden()

    setup.panel.vip_box.click()
    qtbot.waitUntil(lambda: setup.stored("vip") == 0, timeout=5000)


def test_a_note_saves_itself_once_typing_pauses(setup: PanelSetup, qtbot) -> None:
    panel = setup.panel
    qtbot.keyClicks(panel.notes, "Prefers DMs")
    assert setup.stored("note") is None  # not on every keystroke

    qtbot.waitUntil(lambda: panel.note_status.text() == "Saved", timeout=NOTE_DEBOUNCE_MS + 5000)
    assert setup.stored("note") == "Prefers DMs"
    assert setup.announced[-1].thread_ids == {T1, T2}


def test_closing_saves_a_note_still_waiting_for_its_pause(setup: PanelSetup, qtbot) -> None:
    panel = setup.panel
    qtbot.keyClicks(panel.notes, "Allergic to nuts")
    panel.close()

    assert not panel.isVisible()
    qtbot.waitUntil(lambda: setup.stored("note") == "Allergic to nuts", timeout=3000)


def test_showing_someone_else_saves_the_note_and_reloads(setup: PanelSetup, qtbot) -> None:
    panel = setup.panel
    qtbot.keyClicks(panel.notes, "Regular since 2019")
    panel.show_author(BOB)

    qtbot.waitUntil(lambda: setup.stored("note") == "Regular since 2019", timeout=3000)
    assert "Bob" in panel.name_label.text() and panel.notes.toPlainText() == ""
    assert panel.thread_ids() == [T1]
    assert panel.threads.topLevelItem(0).text(COL_PART) == "reshared"
    assert "My cake never came" in panel.threads.topLevelItem(0).text(COL_WORDS)

    panel.show_author(ALICE)
    assert panel.notes.toPlainText() == "Regular since 2019"


def test_double_click_or_enter_on_a_thread_asks_for_it(setup: PanelSetup, qtbot) -> None:
    tree = setup.panel.threads
    requested: list[str] = []
    setup.panel.threadRequested.connect(requested.append)
    item = tree.topLevelItem(1)
    centre = tree.visualItemRect(item).center()
    with qtbot.waitSignal(setup.panel.threadRequested, timeout=2000) as clicked:
        # A real double-click is a click then a double-click event: the view acts only on the row it saw pressed.
        qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
        qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert clicked.args == [T1]

    tree.setCurrentItem(tree.topLevelItem(0))
    tree.setFocus()
    with qtbot.waitSignal(setup.panel.threadRequested, timeout=2000) as entered:
        qtbot.keyClick(tree, Qt.Key.Key_Return)
    assert entered.args == [T2]
    assert requested == [T1, T2]  # once per gesture


def test_a_failed_write_is_explained_in_the_panel(setup: PanelSetup, qtbot) -> None:
    setup.writer.close()  # every later write is refused
    panel = setup.panel

    panel.vip_box.click()

    qtbot.waitUntil(lambda: panel.error_label.isVisible(), timeout=3000)
    assert "VIP flag was not changed" in panel.error_label.text()
    assert not panel.vip_box.isChecked()  # back to what the inbox holds

    qtbot.keyClicks(panel.notes, "x")
    panel.save_note()
    qtbot.waitUntil(lambda: "note was not saved" in panel.error_label.text(), timeout=3000)
    assert panel.note_status.text() == "Not saved"


def test_a_change_made_elsewhere_shows_without_losing_the_owners_typing(setup: PanelSetup, qtbot) -> None:
    panel = setup.panel
    setup.people.on_changes.append(panel.apply_changes)
    done = asyncio.ensure_future(setup.people.set_vip(ALICE, True))  # say, from the thread list
    qtbot.waitUntil(done.done, timeout=3000)
    assert panel.vip_box.isChecked()

    qtbot.keyClicks(panel.notes, "Half a thought")
    done = asyncio.ensure_future(setup.people.set_vip(ALICE, False))
    qtbot.waitUntil(done.done, timeout=3000)
    assert not panel.vip_box.isChecked() and panel.notes.toPlainText() == "Half a thought"
    qtbot.waitUntil(lambda: setup.stored("note") == "Half a thought", timeout=NOTE_DEBOUNCE_MS + 3000)
