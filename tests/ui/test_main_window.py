"""The main window driven through real widgets, fed by the demo network through the real sync engine."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import QModelIndex, Qt

from console.store import ViewKind
from console.store.queries import get_thread, thread_posts
from console.ui.thread_list_model import COL_INFLUENCE, COL_RESHARES, ThreadIdRole
from console.ui.thread_view import COL_INFLUENCE as POST_COL_INFLUENCE
from console.ui.thread_view import COL_RESHARES as POST_COL_RESHARES
from console.ui.thread_view import PostIdRole, COL_POST


def sync(app, qtbot) -> None:
    """Run one sync pass on the qasync loop while Qt keeps processing events."""
    task = asyncio.ensure_future(app.engine.sync_once())
    qtbot.waitUntil(task.done, timeout=10_000)
    assert all(result.error is None for result in task.result())
    qtbot.wait(250)  # let the coalesced refresh fire


def current_thread_id(window) -> str | None:
    index = window.thread_list.currentIndex()
    return index.data(ThreadIdRole) if index.isValid() else None


def test_threads_appear_and_a_thread_shows_its_posts(demo_app, qtbot) -> None:
    window = demo_app.window
    sync(demo_app, qtbot)
    qtbot.waitUntil(lambda: window.model.rowCount() >= 20, timeout=5000)
    assert window.sidebar.current_view().kind is ViewKind.NEEDS_REPLY

    window.thread_list.setCurrentIndex(window.model.index(2, 0))
    thread_id = current_thread_id(window)
    assert window.thread_view.thread_id == thread_id
    posts = thread_posts(demo_app.reader.db, thread_id)
    items = window.thread_view.post_items()
    assert len(items) == len(posts) >= 1
    by_id = {item.data(COL_POST, PostIdRole): item for item in items}
    for post in posts:
        item = by_id[post.id]
        assert item.text(POST_COL_INFLUENCE) == str(post.author_influence)
        assert item.text(POST_COL_RESHARES) == str(post.reshare_count + post.quote_count) or post.reshare_count > 999
        assert post.text in item.text(COL_POST)
    row = window.model.thread_at(2)
    assert window.model.index(2, COL_INFLUENCE).data() == str(row.author_influence)
    assert "followers" in window.model.index(2, COL_INFLUENCE).data(Qt.ItemDataRole.ToolTipRole)
    assert "Influence" in by_id[posts[0].id].toolTip(POST_COL_INFLUENCE)


def test_mark_done_with_e_moves_on_and_reopen(demo_app, qtbot) -> None:
    window = demo_app.window
    sync(demo_app, qtbot)
    window.thread_list.setFocus()
    window.thread_list.setCurrentIndex(window.model.index(0, 0))
    first = current_thread_id(window)
    count = window.model.rowCount()
    qtbot.keyClick(window.thread_list, Qt.Key.Key_E)
    qtbot.waitUntil(lambda: get_thread(demo_app.reader.db, first).status == "done", timeout=5000)
    qtbot.waitUntil(lambda: window.model.row_of(first) is None, timeout=5000)
    assert window.model.rowCount() == count - 1
    assert current_thread_id(window) not in (None, first)

    window.sidebar.select_view(window.sidebar.current_view().__class__(ViewKind.DONE))
    qtbot.waitUntil(lambda: window.model.row_of(first) is not None, timeout=2000)
    window.thread_list.setCurrentIndex(window.model.index(window.model.row_of(first), 0))
    assert window.thread_view.done_button.text() == "Reopen"
    qtbot.mouseClick(window.thread_view.done_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: get_thread(demo_app.reader.db, first).status == "open", timeout=5000)


def test_search_finds_a_word_and_hostile_input_is_harmless(demo_app, qtbot) -> None:
    window = demo_app.window
    sync(demo_app, qtbot)
    posts = thread_posts(demo_app.reader.db, window.model.thread_at(0).id)
    word = max(posts[0].text.split(), key=len).strip(".,!?:;\"'()")
    qtbot.keyClick(window.thread_list, Qt.Key.Key_Slash)
    assert window.search_box.hasFocus()
    qtbot.keyClicks(window.search_box, word)
    qtbot.waitUntil(lambda: window.model.view.search == word, timeout=3000)
    assert window.model.rowCount() >= 1
    assert window.model.row_of(posts[0].thread_id) is not None
    for hostile in ('"', "*", "NEAR(", "OR OR", "((("):
        window.search_box.setText(hostile)
        qtbot.waitUntil(lambda h=hostile: window.model.view.search == h, timeout=3000)
    assert "Something went wrong" not in window.message_label.text()
    qtbot.keyClick(window.search_box, Qt.Key.Key_Escape)
    assert window.search_box.text() == ""
    assert window.model.view.kind is ViewKind.NEEDS_REPLY


def test_j_and_k_walk_the_list(demo_app, qtbot) -> None:
    window = demo_app.window
    sync(demo_app, qtbot)
    window.thread_list.setFocus()
    window.thread_list.setCurrentIndex(window.model.index(0, 0))
    qtbot.keyClick(window.thread_list, Qt.Key.Key_J)
    qtbot.keyClick(window.thread_list, Qt.Key.Key_J)
    assert window.thread_list.currentIndex().row() == 2
    qtbot.keyClick(window.thread_list, Qt.Key.Key_K)
    assert window.thread_list.currentIndex().row() == 1
    assert window.thread_view.thread_id == current_thread_id(window)
    qtbot.keyClick(window.thread_list, Qt.Key.Key_Return)
    assert window.thread_view.tree.hasFocus() or window.thread_view.tree.currentItem() is not None


def test_live_updates_keep_the_selection(demo_app, qtbot) -> None:
    window = demo_app.window
    sync(demo_app, qtbot)
    window.thread_list.setCurrentIndex(window.model.index(5, 0))
    chosen = current_thread_id(window)
    before = {window.model.thread_at(r).id: window.model.thread_at(r).reshare_total for r in range(window.model.rowCount())}
    for _ in range(6):
        demo_app.clock.advance(9)
        sync(demo_app, qtbot)
    assert current_thread_id(window) == chosen
    assert window.thread_view.thread_id == chosen
    after = {window.model.thread_at(r).id: window.model.thread_at(r).reshare_total for r in range(window.model.rowCount())}
    assert any(after.get(tid, 0) > total for tid, total in before.items()), "reshare counts should climb in the list"


def test_status_bar_reports_each_account(demo_app, qtbot) -> None:
    sync(demo_app, qtbot)
    labels = demo_app.window._status_labels
    assert set(labels) == {"demo-mastodon", "demo-bluesky", "demo-x"}
    assert all("up to date" in label.text() for label in labels.values())


def test_layout_persists(demo_app, qtbot) -> None:
    window = demo_app.window
    window.resize(720, 560)
    qtbot.wait(50)
    window.splitter.setSizes([150, 200, 350])
    window.sidebar.select_view(window.sidebar.current_view().__class__(ViewKind.OPEN))
    sizes = window.splitter.sizes()
    size = window.size()
    window.close()
    from console.services.actions import InboxActions
    from console.ui.main_window import MainWindow

    again = MainWindow(demo_app.reader, InboxActions(demo_app.writer), settings=demo_app.settings, clock=demo_app.clock)
    qtbot.addWidget(again)
    again.show()
    assert again.size() == size
    assert again.splitter.sizes() == sizes
    assert again.sidebar.current_view().kind is ViewKind.OPEN


def test_lazy_model_pages_instead_of_loading_everything(demo_app, qtbot) -> None:
    window = demo_app.window
    sync(demo_app, qtbot)
    window.model._page_size = 10
    window.model.set_view(window.sidebar.current_view())
    assert window.model.rowCount() == 10
    assert window.model.canFetchMore(QModelIndex())
    window.model.fetchMore(QModelIndex())
    assert window.model.rowCount() == 20
    ids = [window.model.thread_at(r).id for r in range(20)]
    assert len(set(ids)) == 20


@pytest.mark.parametrize("kind", [ViewKind.OPEN, ViewKind.SNOOZED, ViewKind.DONE])
def test_views_switch(demo_app, qtbot, kind) -> None:
    window = demo_app.window
    sync(demo_app, qtbot)
    window.sidebar.select_view(window.sidebar.current_view().__class__(kind))
    assert window.model.view.kind is kind
    for row in range(window.model.rowCount()):
        status = window.model.thread_at(row).status
        assert status == {"open": "open", "snoozed": "snoozed", "done": "done"}[kind.value]
