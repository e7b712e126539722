"""The thread list model keeps every loaded row's id but whole rows only near the viewport, and stays exact.

A real inbox of 600 threads, a model with small pages, a small cache and a small head, so every path (fetching by
growing chunks, reading pages by id, forgetting rows, refreshing the head, rows moving up from the tail, rows
leaving the view) runs with a few hundred rows instead of a few hundred thousand.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex

from console.domain import Account, Author, Batch, Post, ThreadStatus, iso_utc
from console.store import Inbox, Order, View, ViewKind
from console.store.queries import list_threads
from console.ui.thread_list_model import ThreadListModel

THREADS = 600
START = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
ACCOUNT = Account("mastodon:biz", "mastodon", "biz@example.social", "https://example.social", "The Bakery")


def post(n: int, thread: int, minute: int, text: str | None = None) -> Post:
    at = iso_utc(START + timedelta(minutes=minute))
    return Post(f"mastodon:p{n}", "mastodon", ACCOUNT.id, f"mastodon:t{thread:04d}", f"mastodon:c{thread % 37}",
                text or f"question {n} about bread", at, at)


def author(n: int) -> Author:
    return Author(f"mastodon:c{n}", "mastodon", f"c{n}@example.social", f"Customer {n}", followers_count=n * 10,
                  observed_at=iso_utc(START))


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Inbox]:
    opened = Inbox.open(tmp_path / "inbox.db", clock=lambda: START + timedelta(days=30))
    opened.ensure_account(ACCOUNT)
    authors = tuple(author(n) for n in range(37))
    posts = [post(n, n, n, "the oven is on fire" if n % 50 == 0 else None) for n in range(THREADS)]
    for start in range(0, THREADS, 200):
        opened.apply_batch(Batch(ACCOUNT.id, "mentions", tuple(posts[start:start + 200]), authors))
    yield opened
    opened.close()


@pytest.fixture
def model(inbox: Inbox, qtbot) -> ThreadListModel:
    made = ThreadListModel(inbox.db, page_size=10, cached_rows=40)
    made.HEAD_ROWS = 50
    made.MAX_CHUNK = 80
    return made


def load_everything(model: ThreadListModel) -> int:
    fetches = 0
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
        fetches += 1
        assert fetches < THREADS
    return fetches


def every_row(model: ThreadListModel) -> list[str]:
    """Each row as the view would paint it (whole rows read through the cache)."""
    return [model.thread_at(row).id for row in range(model.rowCount())]


def expected(inbox: Inbox, view: View, order: Order = Order.LATEST) -> list[str]:
    return [row.id for row in list_threads(inbox.db, view, THREADS * 2, order=order)]


def test_the_whole_view_arrives_in_order_while_only_a_few_rows_are_kept(model, inbox) -> None:
    model.set_view(View(ViewKind.OPEN), Order.LATEST)
    assert model.rowCount() == 10
    fetches = load_everything(model)
    assert fetches < 15  # chunks grow with the list (10, 20, 40, 80, 80, ...), not a page per fetch
    assert every_row(model) == expected(inbox, View(ViewKind.OPEN))
    assert model.cached_row_count <= 40
    # Painting a row far up reads its page again, by id.
    read = model.pages_read
    assert model.index(5, 0).data() == model.thread_at(5).author_name
    assert model.pages_read == read + 1


def test_a_refresh_with_nothing_new_repaints_without_a_relayout(model, qtbot) -> None:
    model.set_view(View(ViewKind.OPEN), Order.LATEST)
    load_everything(model)
    before = every_row(model)
    with qtbot.assertNotEmitted(model.layoutChanged), qtbot.waitSignal(model.dataChanged):
        model.refresh()
    assert every_row(model) == before


def test_new_activity_deep_in_the_list_moves_the_thread_to_the_top_and_keeps_the_selection(model, inbox) -> None:
    model.set_view(View(ViewKind.OPEN), Order.LATEST)
    load_everything(model)
    order = every_row(model)
    deep, selected = order[400], order[450]  # both far below the refreshed head of 50 rows
    current = QPersistentModelIndex(model.index(450, 2))
    inbox.apply_batch(Batch(ACCOUNT.id, "mentions", (post(9000, int(deep[-4:]), 50_000),), ()))
    model.refresh()
    assert every_row(model) == [deep] + [thread for thread in order if thread != deep]
    assert every_row(model) == expected(inbox, View(ViewKind.OPEN))
    assert current.isValid() and current.row() == 450 and current.column() == 2  # one row was taken out above it
    assert model.thread_at(current.row()).id == selected


def test_a_new_thread_joins_the_top_and_the_selection_follows(model, inbox) -> None:
    model.set_view(View(ViewKind.OPEN), Order.LATEST)
    selected = model.thread_at(3).id
    current = QPersistentModelIndex(model.index(3, 0))
    inbox.apply_batch(Batch(ACCOUNT.id, "mentions", (post(9001, 5000, 60_000),), ()))
    model.refresh()
    assert model.thread_at(0).id == "mastodon:t5000"
    assert model.thread_at(current.row()).id == selected and current.row() == 4
    load_everything(model)
    assert every_row(model) == expected(inbox, View(ViewKind.OPEN))


def test_a_thread_leaving_the_head_takes_its_row_with_it(model, inbox) -> None:
    model.set_view(View(ViewKind.OPEN), Order.LATEST)
    load_everything(model)
    leaving, staying = model.thread_at(2).id, model.thread_at(7).id
    on_leaving = QPersistentModelIndex(model.index(2, 0))
    on_staying = QPersistentModelIndex(model.index(7, 0))
    inbox.set_thread_status(leaving, ThreadStatus.DONE)
    model.refresh()
    assert not on_leaving.isValid()
    assert model.thread_at(on_staying.row()).id == staying and on_staying.row() == 6
    assert model.row_of(leaving) is None
    assert every_row(model) == expected(inbox, View(ViewKind.OPEN))


def test_a_thread_that_left_the_view_far_down_goes_when_its_page_is_read(model, inbox, qtbot) -> None:
    model.set_view(View(ViewKind.OPEN), Order.LATEST)
    load_everything(model)
    leaving = model.thread_at(500).id
    inbox.set_thread_status(leaving, ThreadStatus.DONE)
    model.refresh()  # below the head: its place is kept until someone looks
    assert model.row_of(leaving) == 500
    assert model.thread_at(500) is None  # read, found gone, queued to leave (never shown with stale data)
    qtbot.waitUntil(lambda: model.row_of(leaving) is None, timeout=2000)
    assert every_row(model) == expected(inbox, View(ViewKind.OPEN))


def test_priority_order_pages_like_the_store(model, inbox) -> None:
    model.set_view(View(ViewKind.NEEDS_REPLY), Order.PRIORITY)
    load_everything(model)
    assert every_row(model) == expected(inbox, View(ViewKind.NEEDS_REPLY), Order.PRIORITY)


def test_a_search_pages_like_the_store(model, inbox) -> None:
    for words in ("fire", "bread"):  # a rare word (12 threads) and one in every thread (the walk)
        view = View(ViewKind.ALL, search=words)
        model.set_view(view, Order.LATEST)
        load_everything(model)
        assert every_row(model) == expected(inbox, view)
        assert len(every_row(model)) == (12 if words == "fire" else THREADS - 12)


def test_a_search_refreshes_like_the_store(model, inbox) -> None:
    view = View(ViewKind.ALL, search="bread")  # the walk, asked to stop at the head's last row
    model.set_view(view, Order.LATEST)
    load_everything(model)
    inbox.apply_batch(Batch(ACCOUNT.id, "mentions", (post(9002, 300, 70_000, "more bread please"),), ()))
    model.refresh()
    assert model.thread_at(0).id == "mastodon:t0300"
    assert every_row(model) == expected(inbox, view)


def test_priority_order_refreshes_like_the_store(model, inbox) -> None:
    view = View(ViewKind.NEEDS_REPLY)
    model.set_view(view, Order.PRIORITY)
    load_everything(model)
    for n, thread in enumerate(expected(inbox, view, Order.PRIORITY)[:30:3]):
        status = ThreadStatus.DONE if n % 2 else ThreadStatus.SNOOZED
        inbox.set_thread_status(thread, status, START + timedelta(days=40))
    model.refresh()
    assert every_row(model) == expected(inbox, view, Order.PRIORITY)


def test_a_flood_of_new_threads_restarts_the_list_from_them(model, inbox) -> None:
    model.set_view(View(ViewKind.OPEN), Order.LATEST)
    load_everything(model)
    flood = tuple(post(10_000 + n, 7000 + n, 80_000 + n) for n in range(150))  # more than the head and its margin
    inbox.apply_batch(Batch(ACCOUNT.id, "mentions", flood, ()))
    model.refresh()
    assert model.rowCount() == 100  # the bounded head read; the rest comes back a chunk at a time
    load_everything(model)
    assert every_row(model) == expected(inbox, View(ViewKind.OPEN))


def test_an_empty_view_fills_on_refresh(model, inbox) -> None:
    model.set_view(View(ViewKind.SNOOZED), Order.LATEST)
    assert model.rowCount() == 0 and not model.canFetchMore(QModelIndex())
    thread = expected(inbox, View(ViewKind.OPEN))[0]
    inbox.set_thread_status(thread, ThreadStatus.SNOOZED, START + timedelta(days=40))
    model.refresh()
    assert every_row(model) == [thread]


def test_a_thread_reopened_below_the_last_row_is_fetched_when_the_view_reaches_the_end(model, inbox) -> None:
    oldest = expected(inbox, View(ViewKind.OPEN))[-1]
    inbox.set_thread_status(oldest, ThreadStatus.DONE)
    model.set_view(View(ViewKind.OPEN), Order.LATEST)
    load_everything(model)
    assert model.row_of(oldest) is None and not model.canFetchMore(QModelIndex())
    inbox.set_thread_status(oldest, ThreadStatus.OPEN)
    model.refresh()
    assert model.canFetchMore(QModelIndex())
    load_everything(model)
    assert model.row_of(oldest) == THREADS - 1
    assert every_row(model) == expected(inbox, View(ViewKind.OPEN))


def test_a_thread_sinking_below_the_head_stays_in_the_list_with_the_selection(model, inbox) -> None:
    view = View(ViewKind.NEEDS_REPLY)
    model.set_view(view, Order.PRIORITY)
    load_everything(model)
    sinking = model.thread_at(5).id
    current = QPersistentModelIndex(model.index(5, 0))
    # Its priority key moves far down (below the head of 50 rows): as if it had waited much less.
    inbox.db.execute("UPDATE threads SET priority_key = priority_key + 1e6 WHERE id = ?", (sinking,))
    model.refresh()
    assert model.row_of(sinking) is not None and current.isValid()
    assert model.thread_at(current.row()).id == sinking
    assert model.rowCount() == len(expected(inbox, view, Order.PRIORITY))


def test_when_everything_is_loaded_a_refresh_reads_the_whole_view(model, inbox) -> None:
    model.set_view(View(ViewKind.SNOOZED), Order.LATEST)
    threads = expected(inbox, View(ViewKind.OPEN))[:3]
    for thread in threads:
        inbox.set_thread_status(thread, ThreadStatus.SNOOZED, START + timedelta(days=40))
    model.refresh()
    current = QPersistentModelIndex(model.index(0, 0))
    first = model.thread_at(0).id
    # The first thread's activity goes back in time (an undone send): it sinks below the others, selection follows.
    inbox.db.execute("UPDATE threads SET last_activity_at = '2020-01-01T00:00:00.000Z' WHERE id = ?", (first,))
    model.refresh()
    assert every_row(model) == expected(inbox, View(ViewKind.SNOOZED))
    assert model.thread_at(current.row()).id == first and current.row() == 2
