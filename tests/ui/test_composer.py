"""The composer on real widgets, over a demo inbox, the real outbox and the demo connectors, on a fake clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from console.connectors.demo import DemoNetwork
from console.domain import Visibility, parse_iso
from console.replies.canned import CannedLibrary, CannedReply
from console.services.actions import InboxActions
from console.services.outbox import OutboxService
from console.services.writer import StoreWriter
from console.store import Inbox, View, ViewKind
from console.store import outbox as outbox_store
from console.store import reply_settings
from console.store.outbox import EventKind, OutboxState, is_pending_post
from console.store.queries import get_thread, thread_posts
from console.sync import SyncEngine
from console.ui.application import open_reader
from console.ui.canned_dialog import CannedDialog
from console.ui.canned_palette import CannedPalette
from console.ui.composer import Composer
from console.ui.composer_canned import CannedStore
from console.ui.main_window import MainWindow
from console.ui.thread_view import post_label
from tests.ui.conftest import FakeClock

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support", extend=True)  # the completer popup, offscreen

HEATED = "That is RIDICULOUS and frankly YOUR OWN FAULT. Learn to read the sign!!"
CALM = "I'm sorry this went wrong. Could you tell us a bit more so we can put it right?"
CARD = "4111 1111 1111 1111"


@dataclass
class AnsweringApp:
    window: MainWindow
    engine: SyncEngine
    writer: StoreWriter
    reader: Inbox
    outbox: OutboxService
    canned: CannedStore
    clock: FakeClock
    settings: QSettings
    tmp_path: Path

    @property
    def composer(self) -> Composer:
        assert self.window.composer is not None
        return self.window.composer

    def new_window(self, qtbot) -> MainWindow:
        """The window again, as after a restart (same inbox, same files)."""
        self.window.close()
        window = MainWindow(self.reader, InboxActions(self.writer), settings=self.settings, clock=self.clock,
                            outbox=self.outbox, canned=CannedStore(self.tmp_path))
        self.outbox.on_changes.append(window.apply_changes)
        self.engine.on_changes.append(window.apply_changes)
        qtbot.addWidget(window)
        window.show()
        self.window = window
        return window


@pytest.fixture
def app(qtbot, loop, tmp_path: Path) -> Iterator[AnsweringApp]:
    clock = FakeClock(datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc))
    network = DemoNetwork(seed=7, clock=clock, tick_seconds=3.0)
    inbox = Inbox.open(tmp_path / "inbox.db", clock=clock)
    for account in network.accounts():
        inbox.ensure_account(account)
    writer = StoreWriter(inbox)
    reader = open_reader(tmp_path / "inbox.db")
    engine = SyncEngine(writer, network.connectors(), clock=clock)
    outbox = OutboxService(writer, engine.connector_for, clock)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    canned = CannedStore(tmp_path)
    window = MainWindow(reader, InboxActions(writer), settings=settings, clock=clock, outbox=outbox, canned=canned)
    outbox.on_changes.append(window.apply_changes)
    engine.on_changes.append(window.apply_changes)
    qtbot.addWidget(window)
    window.show()
    answering = AnsweringApp(window, engine, writer, reader, outbox, canned, clock, settings, tmp_path)
    run(qtbot, engine.sync_once())
    qtbot.waitUntil(lambda: window.model.rowCount() >= 5, timeout=5000)
    yield answering
    writer.close()
    reader.close()


def run(qtbot, coro):
    task = asyncio.ensure_future(coro)
    qtbot.waitUntil(task.done, timeout=10_000)
    return task.result()


def open_public_thread(app: AnsweringApp, qtbot) -> str:
    """Select the first thread whose latest customer post is public; return its id."""
    window = app.window
    for row in range(window.model.rowCount()):
        thread = window.model.thread_at(row)
        posts = [p for p in thread_posts(app.reader.db, thread.id) if p.direction == "in"]
        if posts and posts[-1].visibility == "public":
            window.thread_list.setCurrentIndex(window.model.index(row, 0))
            qtbot.waitUntil(lambda: app.composer.thread_id == thread.id, timeout=2000)
            return thread.id
    raise AssertionError("the demo inbox has no public thread")


def type_reply(app: AnsweringApp, qtbot, text: str) -> None:
    app.composer.editor.clear()
    qtbot.keyClicks(app.composer.editor, text)


def test_composer_answers_the_latest_customer_post_and_counts_length(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    latest_in = [p for p in thread_posts(app.reader.db, thread_id) if p.direction == "in"][-1]
    assert composer.target_post_id == latest_in.id
    assert composer.public_button.isChecked()
    first = thread_posts(app.reader.db, thread_id)[0]
    app.window.thread_view.select_post(first.id)  # the owner picks another post to answer
    assert composer.target_post_id == first.id
    app.window.thread_view.show_thread(thread_id)  # a refresh keeps the owner's choice
    assert composer.target_post_id == first.id
    type_reply(app, qtbot, "Thanks!")
    assert composer.send_button.isEnabled()
    limit = composer._rule.max_length
    assert composer.counter.text() == f"{limit - len('Thanks!')} left"
    composer.editor.setPlainText("x" * (limit + 5))
    assert composer.counter.text() == "-5 left"
    assert "#c00" in composer.counter.styleSheet()
    assert not composer.send_button.isEnabled()


def test_signature_is_added_to_public_replies_only(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    composer.set_signature_name("Sam")
    type_reply(app, qtbot, "Thanks for telling us.")
    assert composer.final_text() == "Thanks for telling us.\n— Sam"
    composer.switch_to_direct()
    assert composer.final_text() == "Thanks for telling us."
    account = get_thread(app.reader.db, thread_id).account_id
    qtbot.waitUntil(lambda: reply_settings.account_settings(app.reader, account).signature_name == "Sam", timeout=3000)


def test_heated_reply_waits_a_calm_rewrite_sends(app, qtbot) -> None:
    open_public_thread(app, qtbot)
    composer = app.composer
    type_reply(app, qtbot, HEATED)
    assert not composer.send_button.isEnabled()
    assert composer.send_button.text() == "Send in 5:00"
    assert composer.send_anyway_button.isVisible()
    assert composer.cooloff_label.isVisible()

    app.clock.advance(28)
    composer.tick()
    assert composer.send_button.text() == "Send in 4:32"
    qtbot.keyClicks(composer.editor, " Honestly.")  # still heated: editing keeps the same clock
    assert composer.send_button.text() == "Send in 4:32"

    type_reply(app, qtbot, CALM)
    assert composer.send_button.isEnabled()
    assert composer.send_button.text() == "Send"
    assert not composer.send_anyway_button.isVisible()


def test_heated_reply_can_go_once_the_cooloff_has_passed(app, qtbot) -> None:
    open_public_thread(app, qtbot)
    composer = app.composer
    type_reply(app, qtbot, HEATED)
    app.clock.advance(301)
    composer.tick()
    assert composer.send_button.isEnabled()


def test_send_anyway_needs_confirmation_and_is_recorded(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    type_reply(app, qtbot, HEATED)
    answers = [False, True]
    composer.confirm = lambda _title, _text: answers.pop(0)
    qtbot.mouseClick(composer.send_anyway_button, Qt.MouseButton.LeftButton)
    assert composer.text() == HEATED  # declined: nothing happened
    qtbot.mouseClick(composer.send_anyway_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(e.kind is EventKind.COOLOFF_OVERRIDE
                                for e in outbox_store.thread_events(app.reader, thread_id)), timeout=3000)
    event = next(e for e in outbox_store.thread_events(app.reader, thread_id) if e.kind is EventKind.COOLOFF_OVERRIDE)
    assert event.detail["reasons"]
    qtbot.waitUntil(lambda: len(outbox_store.items_for_thread(app.reader, thread_id)) == 1, timeout=3000)


def test_send_shows_pending_then_undo_takes_it_back(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    type_reply(app, qtbot, CALM)
    qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(composer.undo_bar.isVisible, timeout=3000)
    assert composer.undo_label.text().endswith("sending in 20 s")
    assert not get_thread(app.reader.db, thread_id).needs_reply
    pending = [p for p in thread_posts(app.reader.db, thread_id) if is_pending_post(p.id)]
    assert len(pending) == 1 and pending[0].direction == "out"
    assert "not sent yet" in post_label(pending[0])
    # The thread left "Needs reply"; shown again (All open), its outbox row counts down with its own Undo.
    app.window.sidebar.select_view(View(ViewKind.OPEN))
    assert app.window.model.view.kind is ViewKind.OPEN
    qtbot.waitUntil(lambda: app.window.model.row_of(thread_id) is not None, timeout=3000)
    app.window.thread_list.setCurrentIndex(app.window.model.index(app.window.model.row_of(thread_id), 0))
    qtbot.waitUntil(lambda: composer.thread_id == thread_id and composer.outbox_panel.rows != [], timeout=3000)
    assert composer.outbox_panel.rows[0].status.text().startswith("Sending in 20 s")
    qtbot.waitUntil(lambda: any("not sent yet" in item.text(0) for item in app.window.thread_view.post_items()),
                    timeout=3000)
    app.clock.advance(2)
    composer.tick()
    assert composer.outbox_panel.rows[0].status.text().startswith("Sending in 18 s")
    assert composer.undo_label.text().endswith("sending in 18 s")

    qtbot.mouseClick(composer.undo_send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: composer.outbox_panel.rows == [], timeout=3000)
    assert not any(is_pending_post(p.id) for p in thread_posts(app.reader.db, thread_id))
    assert get_thread(app.reader.db, thread_id).needs_reply
    qtbot.waitUntil(lambda: composer.text() == CALM, timeout=3000)  # the words come back to the draft


def test_after_the_window_the_reply_lands_in_the_thread(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    before = {p.id for p in thread_posts(app.reader.db, thread_id)}
    type_reply(app, qtbot, CALM)
    qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(outbox_store.items_for_thread(app.reader, thread_id)) == 1, timeout=3000)
    app.clock.advance(21)
    sent = run(qtbot, app.outbox.send_due())
    assert [item.state for item in sent] == [OutboxState.SENT]
    posts = thread_posts(app.reader.db, thread_id)
    new = [p for p in posts if p.id not in before]
    assert len(new) == 1 and new[0].direction == "out" and not is_pending_post(new[0].id)
    assert new[0].text == CALM
    composer.tick()
    assert not composer.undo_bar.isVisible()


def test_canned_shortcut_fills_variables_and_blocks_on_a_slot(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    thread = get_thread(app.reader.db, thread_id)
    qtbot.keyClicks(composer.editor, "/order-status")
    qtbot.keyClick(composer.editor, Qt.Key.Key_Tab)
    text = composer.text()
    assert text.startswith("Hi ") and "{customer_name}" not in text and "/order-status" not in text
    assert "{order number}" in text
    assert [s.name for s in composer.editor.slot_marks()] == ["order number", "order status"]
    assert len(composer.editor.extraSelections()) == 2
    assert not composer.send_button.isEnabled()
    assert "{order number}" in composer.send_button.toolTip()
    # The first slot is selected: typing fills it; Tab moves to the next one.
    qtbot.keyClicks(composer.editor, "A1234")
    qtbot.keyClick(composer.editor, Qt.Key.Key_Tab)
    qtbot.keyClicks(composer.editor, "on its way")
    assert "{" not in composer.text()
    assert composer.send_button.isEnabled() or "order" in composer.block_reason  # the guard may see "order A1234"
    assert thread.author_name in composer.text() or thread.author_handle in composer.text()


def test_apology_dm_shortcut_and_the_repeat_warning(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    qtbot.keyClicks(composer.editor, "/apology-dm")
    qtbot.keyClick(composer.editor, Qt.Key.Key_Tab)
    assert "I'm really sorry about this" in composer.text()
    assert composer.send_button.isEnabled()
    assert not composer.repeat_label.isVisible()
    qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.canned.history() != [], timeout=3000)
    assert app.canned.history()[0].thread_id == thread_id
    composer.insert_shortcut("apology-dm")
    assert composer.repeat_label.isVisible()
    assert "already sent" in composer.repeat_label.text()


def test_public_reply_with_a_card_number_is_blocked_and_goes_as_dm(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    type_reply(app, qtbot, f"Your refund went to card {CARD}, all sorted.")
    assert not composer.send_button.isEnabled()
    assert composer.guard_banner.isVisible()
    assert "card number" in composer.guard_label.text()
    assert "DM" in composer.send_button.toolTip()
    qtbot.mouseClick(composer.dm_instead_button, Qt.MouseButton.LeftButton)
    assert composer.direct_button.isChecked()
    assert not composer.guard_banner.isVisible()
    assert composer.send_button.isEnabled()
    qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(outbox_store.items_for_thread(app.reader, thread_id)) == 1, timeout=3000)
    assert outbox_store.items_for_thread(app.reader, thread_id)[0].visibility is Visibility.DIRECT


def test_draft_is_saved_and_restored_after_recreating_the_window(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    type_reply(app, qtbot, "Half-written answer")
    qtbot.waitUntil(lambda: (outbox_store.load_draft(app.reader, thread_id) or None) is not None, timeout=3000)
    window = app.new_window(qtbot)
    row = window.model.row_of(thread_id)
    window.thread_list.setCurrentIndex(window.model.index(row, 0))
    qtbot.waitUntil(lambda: app.composer.thread_id == thread_id, timeout=2000)
    assert app.composer.text() == "Half-written answer"


def test_switching_threads_keeps_each_draft(app, qtbot) -> None:
    first = open_public_thread(app, qtbot)
    type_reply(app, qtbot, "For the first")
    window = app.window
    other_row = next(r for r in range(window.model.rowCount()) if window.model.thread_at(r).id != first)
    window.thread_list.setCurrentIndex(window.model.index(other_row, 0))
    assert app.composer.text() == ""
    qtbot.waitUntil(lambda: outbox_store.load_draft(app.reader, first) is not None, timeout=3000)
    window.thread_list.setCurrentIndex(window.model.index(window.model.row_of(first), 0))
    assert app.composer.text() == "For the first"


def test_held_replies_after_a_restart_are_listed_with_send_and_undo(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    type_reply(app, qtbot, CALM)
    qtbot.mouseClick(app.composer.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(outbox_store.items_for_thread(app.reader, thread_id)) == 1, timeout=3000)
    held = run(qtbot, app.outbox.recover())  # as at the next start-up
    assert [i.state for i in held] == [OutboxState.HELD]
    app.window.show_held(held)
    dialog = app.window.attention_dialog
    assert len(dialog.panel.rows) == 1 and dialog.panel.rows[0].send_button.isVisible()
    assert "held" in app.window.message_label.text()
    qtbot.mouseClick(dialog.panel.rows[0].send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: outbox_store.items_for_thread(app.reader, thread_id)[0].state is OutboxState.WAITING,
                    timeout=3000)
    sent = run(qtbot, app.outbox.send_due())
    assert [i.state for i in sent] == [OutboxState.SENT]


def test_palette_searches_by_words_and_combines_snippets(app, qtbot) -> None:
    open_public_thread(app, qtbot)
    palette = CannedPalette(app.canned.library)
    qtbot.addWidget(palette)
    palette.search_box.setText("say sorry")
    first = palette.results.item(0).text()
    assert "Apologise" in first or "Sorry" in first
    chosen: list = []
    palette.chosen.connect(chosen.extend)
    palette.search_box.setText("")
    palette.results.item(0).setSelected(True)
    palette.results.item(1).setSelected(True)
    palette.accept()
    assert len(chosen) == 2
    app.composer.insert_canned(chosen)
    assert app.composer.text().count("\n\n") >= 1


def test_canned_dialog_creates_edits_deletes_and_round_trips_json(app, qtbot, tmp_path) -> None:
    dialog = CannedDialog(app.canned)
    qtbot.addWidget(dialog)
    count = len(app.canned.library)
    dialog.new_reply()
    dialog.shortcut_edit.setText("late-delivery")
    dialog.title_edit.setText("Late delivery")
    dialog.category_box.setCurrentText("Delivery")
    dialog.body_edit.setPlainText("Sorry {customer_name}, your parcel {tracking} is late.")
    assert dialog.save_current()
    assert app.canned.library.by_shortcut("late-delivery") is not None
    saved = json.loads((app.tmp_path / "canned_replies.json").read_text())
    assert any(r["shortcut"] == "late-delivery" for r in saved["replies"])
    assert "late-delivery" in app.composer.editor.completer.model().stringList()

    dialog.title_edit.setText("Parcel is late")
    assert dialog.save_current()
    assert app.canned.library.by_shortcut("late-delivery").title == "Parcel is late"
    dialog.shortcut_edit.setText("thanks")  # taken
    assert not dialog.save_current()
    assert "already used" in dialog.problem_label.text()

    export = tmp_path / "export.json"
    dialog.export_path(export)
    dialog._edit(next(dialog.list.item(i) for i in range(dialog.list.count())
                      if "late-delivery" in dialog.list.item(i).text()))
    dialog.delete_current()
    assert app.canned.library.by_shortcut("late-delivery") is None
    assert len(app.canned.library) == count
    before = len(app.canned.library)
    assert dialog.import_path(export) == count + 1
    assert app.canned.library.by_shortcut("late-delivery") is not None
    assert len(app.canned.library) == before + count + 1  # duplicates got -2 shortcuts
    assert len(CannedStore(app.tmp_path).library) == len(app.canned.library)


def test_exposed_card_in_an_incoming_post_shows_a_banner(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    assert not composer.exposure_banner.isVisible()
    latest = [p for p in thread_posts(app.reader.db, thread_id) if p.direction == "in"][-1]
    # A customer who posts their card number publicly (written as the sync engine would store an edit).
    from dataclasses import replace as dc_replace

    post = outbox_store.load_post(app.writer.inbox, latest.id)
    from console.domain import Batch

    exposing = dc_replace(post, id=post.id + "-card", parent_id=post.id, text=f"my card is {CARD} why was I charged twice",
                          created_at="2026-11-25T10:01:00Z", observed_at="2026-11-25T10:01:00Z", url="")
    run(qtbot, app.writer.call(Inbox.apply_batch, Batch(post.account_id, "test", (exposing,))))
    composer.set_thread(thread_id)
    assert composer.exposure_banner.isVisible()
    assert "card number" in composer.exposure_label.text()
    qtbot.mouseClick(composer.exposure_button, Qt.MouseButton.LeftButton)
    assert "delete the post" in composer.text()


def test_canned_store_keeps_a_damaged_file_aside(tmp_path) -> None:
    (tmp_path / "canned_replies.json").write_text("{not json")
    store = CannedStore(tmp_path)
    assert store.library.by_shortcut("apology-dm") is not None
    assert (tmp_path / "canned_replies.broken.json").exists()
    library = CannedLibrary([CannedReply.create("x", "X", "", "body")])
    store.replace_library(library)
    assert [r.shortcut for r in CannedStore(tmp_path).library] == ["x"]


def test_a_heated_thread_suggests_a_dm_with_the_matching_canned_reply(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    from dataclasses import replace as dc_replace

    from console.domain import Batch

    latest = [p for p in thread_posts(app.reader.db, thread_id) if p.direction == "in"][-1]
    post = outbox_store.load_post(app.writer.inbox, latest.id)
    furious = dc_replace(post, id=post.id + "-angry", parent_id=post.id, url="",
                         text="This is the worst, most disgusting service I have ever had. Absolutely awful, I hate it.",
                         created_at="2026-11-25T10:01:00Z", observed_at="2026-11-25T10:01:00Z")
    run(qtbot, app.writer.call(Inbox.apply_batch, Batch(post.account_id, "test", (furious,))))
    composer.set_thread(thread_id)
    assert composer.advice_banner.isVisible()
    assert composer.advice_button.text() == "Insert /apology-dm"
    qtbot.mouseClick(composer.advice_button, Qt.MouseButton.LeftButton)
    assert "direct message" in composer.text()
    assert composer.target_post_id == furious.id


def test_a_failed_send_shows_the_reason_and_retry_sends_it(app, qtbot, monkeypatch) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    type_reply(app, qtbot, CALM)
    qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(outbox_store.items_for_thread(app.reader, thread_id)) == 1, timeout=3000)
    connector_for = app.outbox._connector_for
    monkeypatch.setattr(app.outbox, "_connector_for", lambda _account_id: None)  # the account is disconnected
    app.clock.advance(21)
    assert [i.state for i in run(qtbot, app.outbox.send_due())] == [OutboxState.FAILED]
    composer.set_thread(thread_id)
    row = composer.outbox_panel.rows[0]
    assert row.status.text().startswith("Not sent: This account is not connected")
    assert row.retry_button.isVisibleTo(composer) and row.undo_button.isVisibleTo(composer)

    monkeypatch.setattr(app.outbox, "_connector_for", connector_for)
    qtbot.mouseClick(row.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: outbox_store.items_for_thread(app.reader, thread_id)[0].state is OutboxState.WAITING,
                    timeout=3000)
    assert [i.state for i in run(qtbot, app.outbox.send_due())] == [OutboxState.SENT]


# -- reply settings, business hours, a cool-off across a restart -----------------------------------------------------


def test_reply_settings_dialog_saves_and_the_composer_applies_them_at_once(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    type_reply(app, qtbot, HEATED)
    assert composer.send_button.text() == "Send in 5:00"  # judged with the defaults first
    composer.open_reply_settings()
    dialog = composer.settings_dialog
    assert (dialog.cooloff_public.value(), dialog.cooloff_direct.value(), dialog.undo_seconds.value()) == (5, 2, 20)
    assert not dialog.hours_box.isChecked()
    dialog.cooloff_public.setValue(1)
    dialog.cooloff_direct.setValue(2)
    dialog.accept()
    assert dialog.isVisible() and dialog.error_label.isVisible()  # public shorter than DM is refused
    dialog.signature.setText("  Sam ")
    dialog.cooloff_public.setValue(3)
    dialog.cooloff_direct.setValue(1)
    dialog.undo_seconds.setValue(45)
    dialog.accept()
    assert not dialog.isVisible()
    assert composer.send_button.text() == "Send in 3:00"  # the same heated draft, re-read at once
    composer.switch_to_direct()
    assert composer.send_button.text() == "Send in 1:00"
    account = get_thread(app.reader.db, thread_id).account_id
    qtbot.waitUntil(lambda: reply_settings.account_settings(app.reader, account).undo_s == 45, timeout=3000)
    stored = reply_settings.account_settings(app.reader, account)
    assert (stored.signature_name, stored.cooloff_public_s, stored.cooloff_direct_s, stored.business_hours) == (
        "Sam", 180, 60, None)


def _set_thursday_hours(app, qtbot) -> None:
    """2026-11-25 10:00 UTC (the fake clock) is a Wednesday: open only Thursdays 9:00-17:00, so closed now."""
    composer = app.composer
    composer.open_reply_settings()
    dialog = composer.settings_dialog
    dialog.hours_box.setChecked(True)
    dialog.zone.setText("UTC")
    for day, (check, open_edit, close_edit) in enumerate(dialog.days):
        check.setChecked(day == 3)
    dialog.accept()
    assert not dialog.isVisible()


def test_outside_business_hours_send_waits_for_the_next_opening(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    _set_thursday_hours(app, qtbot)
    account = get_thread(app.reader.db, thread_id).account_id
    qtbot.waitUntil(lambda: reply_settings.account_settings(app.reader, account).business_hours is not None,
                    timeout=3000)
    assert reply_settings.account_settings(app.reader, account).business_hours["weekly"] == {
        "thu": [["09:00", "17:00"]]}
    type_reply(app, qtbot, CALM)
    assert composer.send_button.text() == "Send at opening (Thu 9:00)"
    assert composer.send_now_button.isVisible()
    qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(outbox_store.items_for_thread(app.reader, thread_id)) == 1, timeout=3000)
    (item,) = outbox_store.items_for_thread(app.reader, thread_id)
    assert parse_iso(item.send_after) == datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)  # the next opening
    qtbot.waitUntil(composer.undo_bar.isVisible, timeout=3000)
    assert "opening (Thu 9:00)" in composer.undo_label.text()
    app.clock.advance(60)
    composer.tick()
    assert composer.undo_bar.isVisible()  # still undoable until the opening


def test_outside_business_hours_send_now_anyway_uses_the_undo_window(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    composer = app.composer
    _set_thursday_hours(app, qtbot)
    type_reply(app, qtbot, CALM)
    qtbot.mouseClick(composer.send_now_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(outbox_store.items_for_thread(app.reader, thread_id)) == 1, timeout=3000)
    (item,) = outbox_store.items_for_thread(app.reader, thread_id)
    assert parse_iso(item.send_after) == app.clock() + timedelta(seconds=20)
    # The label follows the outbox write on the next event-loop turn: wait for it rather than race it.
    qtbot.waitUntil(lambda: "sending in" in composer.undo_label.text(), timeout=3000)


def test_a_heated_drafts_cooloff_survives_a_restart(app, qtbot) -> None:
    thread_id = open_public_thread(app, qtbot)
    type_reply(app, qtbot, HEATED)
    assert app.composer.send_button.text() == "Send in 5:00"
    qtbot.waitUntil(lambda: (outbox_store.load_draft(app.reader, thread_id) or None) is not None
                    and outbox_store.load_draft(app.reader, thread_id).held_since is not None, timeout=3000)
    app.clock.advance(120)
    window = app.new_window(qtbot)
    window.thread_list.setCurrentIndex(window.model.index(window.model.row_of(thread_id), 0))
    qtbot.waitUntil(lambda: app.composer.thread_id == thread_id, timeout=2000)
    assert app.composer.text() == HEATED
    assert app.composer.send_button.text() == "Send in 3:00"


def test_reply_settings_refuse_unusable_business_hours(qtbot) -> None:
    from console.store.reply_settings import AccountSettings
    from console.ui.reply_settings_dialog import ReplySettingsDialog, hours_of

    dialog = ReplySettingsDialog(AccountSettings("mastodon:biz"))
    qtbot.addWidget(dialog)
    saved = []
    dialog.saved.connect(saved.append)
    dialog.hours_box.setChecked(True)
    dialog.zone.setText("Mars/Olympus")
    dialog.accept()
    assert "time zone" in dialog.error_label.text() and not saved
    dialog.zone.setText("Europe/London")
    for check, _open, _close in dialog.days:
        check.setChecked(False)
    dialog.accept()
    assert "at least one open day" in dialog.error_label.text() and not saved
    dialog.days[0][0].setChecked(True)
    dialog.accept()
    (settings,) = saved
    assert settings.business_hours == {"tz": "Europe/London", "weekly": {"mon": [["09:00", "17:00"]]}}
    assert str(hours_of(settings).tz) == "Europe/London"
    assert hours_of(AccountSettings("x", business_hours={"tz": "Nowhere/None"})) is None
