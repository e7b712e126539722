"""Views over the thread list: keyset paging, what each view shows, and the sidebar counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console.domain import Direction, ThreadStatus
from console.store.queries import View, ViewKind, account_thread_counts, list_threads, view_counts

THREADS = 250


@pytest.fixture
def many(inbox, records, helpers):
    """250 threads, several sharing each activity time so the id has to break ties."""
    posts = []
    for n in range(THREADS):
        # 50 distinct minutes: five threads per moment, inserted in a shuffled order.
        posts.append(records.post(f"p{n}", f"t{(n * 7) % THREADS:03d}", minute=n % 50))
    for start in range(0, THREADS, 100):
        inbox.apply_batch(records.batch(*posts[start:start + 100]))
    return inbox


def _walk(inbox, view: View, page: int) -> list[list]:
    pages, after = [], None
    while True:
        rows = list_threads(inbox.db, view, page, after)
        if not rows:
            return pages
        pages.append(rows)
        after = (rows[-1].last_activity_at, rows[-1].id)
        assert len(pages) <= THREADS, "paging does not terminate"


@pytest.mark.parametrize("kind", [ViewKind.OPEN, ViewKind.NEEDS_REPLY, ViewKind.ALL])
def test_pages_of_100_cover_every_thread_once_in_order(many, kind):
    pages = _walk(many, View(kind), 100)
    assert [len(p) for p in pages] == [100, 100, 50]
    rows = [row for page in pages for row in page]
    ids = [row.id for row in rows]
    assert len(set(ids)) == THREADS
    assert set(ids) == {f"mastodon:t{n:03d}" for n in range(THREADS)}
    keys = [(row.last_activity_at, row.id) for row in rows]
    assert keys == sorted(keys, reverse=True)
    # And the same as reading the whole list at once.
    assert ids == [row.id for row in list_threads(many.db, View(kind), 1000)]


@pytest.mark.parametrize("page", [1, 3, 7, 99, 249, 250, 251])
def test_any_page_size_gives_the_same_sequence(many, page):
    whole = [row.id for row in list_threads(many.db, View(ViewKind.OPEN), 1000)]
    walked = [row.id for rows in _walk(many, View(ViewKind.OPEN), page) for row in rows]
    assert walked == whole


def test_paging_is_stable_while_new_threads_arrive(many, records):
    first = list_threads(many.db, View(ViewKind.OPEN), 100)
    # A new thread appears at the top between two page loads; the next page neither repeats nor skips.
    many.apply_batch(records.batch(records.post("fresh", "fresh", minute=500)))
    rest = _walk_from(many, View(ViewKind.OPEN), 100, (first[-1].last_activity_at, first[-1].id))
    ids = [row.id for row in first] + [row.id for row in rest]
    assert len(ids) == len(set(ids)) == THREADS


def _walk_from(inbox, view, page, after):
    rows_out = []
    while True:
        rows = list_threads(inbox.db, view, page, after)
        if not rows:
            return rows_out
        rows_out += rows
        after = (rows[-1].last_activity_at, rows[-1].id)


@pytest.fixture
def mixed(inbox, records, helpers, clock):
    """One thread in each state, on two accounts."""
    other = helpers.other_account
    inbox.apply_batch(
        records.batch(
            records.post("w1", "waiting", minute=1),
            records.post("a1", "answered", minute=2),
            records.post("a2", "answered", minute=3, direction=Direction.OUT),
            records.post("s1", "snoozed", minute=4),
            records.post("d1", "done", minute=5),
            records.post("o1", "ours", minute=6, direction=Direction.OUT),
        )
    )
    inbox.apply_batch(
        records.batch(
            records.post("x1", "other-waiting", minute=7, account=other),
            records.post("y1", "other-done", minute=8, account=other),
            account=other,
        )
    )
    inbox.set_thread_status("mastodon:snoozed", ThreadStatus.SNOOZED, clock() + timedelta(hours=4))
    inbox.set_thread_status("mastodon:done", ThreadStatus.DONE)
    inbox.set_thread_status("mastodon:other-done", ThreadStatus.DONE)
    return inbox


def _ids(inbox, view: View) -> list[str]:
    return [row.id.split(":", 1)[1] for row in list_threads(inbox.db, view, 100)]


def test_each_view_shows_its_threads(mixed, helpers):
    assert _ids(mixed, View(ViewKind.NEEDS_REPLY)) == ["other-waiting", "waiting"]
    assert _ids(mixed, View(ViewKind.OPEN)) == ["other-waiting", "ours", "answered", "waiting"]
    assert _ids(mixed, View(ViewKind.SNOOZED)) == ["snoozed"]
    assert _ids(mixed, View(ViewKind.DONE)) == ["other-done", "done"]
    assert _ids(mixed, View(ViewKind.ACCOUNT, account_id=helpers.other_account.id)) == ["other-done", "other-waiting"]
    assert _ids(mixed, View(ViewKind.ACCOUNT, account_id=helpers.account.id)) == [
        "ours", "done", "snoozed", "answered", "waiting"
    ]
    assert len(_ids(mixed, View(ViewKind.ALL))) == 7


def test_views_narrow_to_an_account(mixed, helpers):
    assert _ids(mixed, View(ViewKind.NEEDS_REPLY, account_id=helpers.account.id)) == ["waiting"]
    assert _ids(mixed, View(ViewKind.DONE, account_id=helpers.other_account.id)) == ["other-done"]
    assert _ids(mixed, View(ViewKind.SNOOZED, account_id=helpers.other_account.id)) == []
    assert _ids(mixed, View(ViewKind.ACCOUNT, account_id="mastodon:nobody")) == []


def test_view_counts_match_the_lists(mixed):
    counts = view_counts(mixed.db)
    for kind in (ViewKind.NEEDS_REPLY, ViewKind.OPEN, ViewKind.SNOOZED, ViewKind.DONE):
        assert counts[kind] == len(_ids(mixed, View(kind))), kind
    assert counts == {ViewKind.NEEDS_REPLY: 2, ViewKind.ESCALATING: 0, ViewKind.UNMENTIONED: 0, ViewKind.OPEN: 4,
                      ViewKind.SNOOZED: 1, ViewKind.DONE: 2}


def test_view_counts_follow_status_changes(mixed, clock, records):
    mixed.set_thread_status("mastodon:waiting", ThreadStatus.DONE)
    clock.advance(hours=5)
    mixed.wake_snoozed()
    mixed.apply_batch(records.batch(records.post("d2", "done", minute=30)))  # a customer reopens 'done'
    counts = view_counts(mixed.db)
    assert counts == {ViewKind.NEEDS_REPLY: 3, ViewKind.ESCALATING: 0, ViewKind.UNMENTIONED: 0, ViewKind.OPEN: 5,
                      ViewKind.SNOOZED: 0, ViewKind.DONE: 2}
    for kind in (ViewKind.NEEDS_REPLY, ViewKind.OPEN, ViewKind.SNOOZED, ViewKind.DONE):
        assert counts[kind] == len(_ids(mixed, View(kind))), kind


def test_account_thread_counts_are_open_threads(mixed, helpers):
    assert account_thread_counts(mixed.db) == {helpers.account.id: 3, helpers.other_account.id: 1}


def test_empty_inbox_lists_nothing(inbox):
    for kind in (ViewKind.NEEDS_REPLY, ViewKind.OPEN, ViewKind.SNOOZED, ViewKind.DONE, ViewKind.ALL):
        assert list_threads(inbox.db, View(kind), 100) == []
    assert set(view_counts(inbox.db).values()) == {0}


def test_search_pages_like_any_view(many):
    # Every post says "post pN": a search matching all of them still pages without gaps.
    pages = _walk(many, View(ViewKind.OPEN, search="post"), 100)
    assert [len(p) for p in pages] == [100, 100, 50]
    assert len({row.id for page in pages for row in page}) == THREADS
