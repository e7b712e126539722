"""The sidebar's badge numbers are counted on a thread of their own, and a burst of requests costs at most two."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

import console.ui.sidebar_counts as sidebar_counts
from console.domain import Account, Author, Batch, Post, ThreadStatus
from console.store import Inbox, ViewKind
from console.ui.sidebar import Sidebar
from console.ui.sidebar_counts import BackgroundCounts, Counts

ACCOUNT = Account("mastodon:biz", "mastodon", "biz@example.social", "https://example.social", "The Bakery")
AT = "2026-11-25T09:00:00.000Z"


@pytest.fixture
def inbox(tmp_path: Path):
    opened = Inbox.open(tmp_path / "inbox.db")
    opened.ensure_account(ACCOUNT)
    posts = tuple(Post(f"mastodon:p{n}", "mastodon", ACCOUNT.id, f"mastodon:t{n}", "mastodon:ann", f"hello {n}", AT, AT)
                  for n in range(5))
    opened.apply_batch(Batch(ACCOUNT.id, "mentions", posts, (Author("mastodon:ann", "mastodon", "ann", "Ann"),)))
    opened.set_thread_status("mastodon:t0", ThreadStatus.DONE)
    yield opened
    opened.close()


def test_counts_arrive_from_another_thread_and_fill_the_badges(inbox, qtbot, monkeypatch) -> None:
    threads: list[str] = []
    real_count = sidebar_counts.count

    def spying(db):
        threads.append(threading.current_thread().name)
        return real_count(db)

    monkeypatch.setattr(sidebar_counts, "count", spying)
    counts = BackgroundCounts(inbox.path)
    sidebar = Sidebar(inbox.db, counts=counts)
    qtbot.addWidget(sidebar)
    sidebar.set_accounts([ACCOUNT])
    with qtbot.waitSignal(counts.ready, timeout=3000) as arrived:
        sidebar.refresh_counts()
    result: Counts = arrived.args[0]
    assert result.views[ViewKind.NEEDS_REPLY] == 4 and result.views[ViewKind.DONE] == 1
    assert result.accounts == {ACCOUNT.id: 4}
    qtbot.waitUntil(lambda: sidebar._view_items[ViewKind.DONE].text(0) == "Done  (1)", timeout=3000)
    assert threads and all(name.startswith("tend-counts") for name in threads)
    counts.close()


def test_a_burst_of_requests_costs_at_most_two_counts(inbox, qtbot, monkeypatch) -> None:
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []
    real_count = sidebar_counts.count

    def slow(db):
        calls.append(1)
        started.set()
        release.wait(5)
        return real_count(db)

    monkeypatch.setattr(sidebar_counts, "count", slow)
    counts = BackgroundCounts(inbox.path, min_interval=0.2)
    delivered: list[Counts] = []
    counts.ready.connect(delivered.append)
    counts.request()
    assert started.wait(5)
    for _ in range(50):
        counts.request()  # while the first count runs: folded into one more
    inbox.set_thread_status("mastodon:t1", ThreadStatus.DONE)
    release.set()
    qtbot.waitUntil(lambda: len(delivered) == 2, timeout=3000)
    qtbot.wait(100)
    assert len(calls) == 2 and len(delivered) == 2
    assert delivered[-1].views[ViewKind.DONE] == 2  # the second count saw the change
    counts.close()
    counts.request()  # closed: nothing more
    qtbot.wait(50)
    assert len(calls) == 2


def test_counts_start_at_most_once_per_interval(inbox, qtbot) -> None:
    counts = BackgroundCounts(inbox.path, min_interval=0.3)
    arrivals: list[float] = []
    counts.ready.connect(lambda _counts: arrivals.append(time.monotonic()))
    counts.request()
    qtbot.waitUntil(lambda: len(arrivals) == 1, timeout=3000)
    counts.request()  # just after a count: waits for the interval
    counts.request()  # already due: nothing more
    qtbot.waitUntil(lambda: len(arrivals) == 2, timeout=3000)
    qtbot.wait(400)
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 0.25
    counts.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are a Linux feature")
def test_the_counting_thread_runs_at_a_lower_priority_than_the_qt_thread(inbox, qtbot) -> None:
    seen: list[tuple[int, int]] = []
    main_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    counts = BackgroundCounts(inbox.path)
    counts._worker.submit(lambda: seen.append((os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
                                               threading.get_native_id()))).result(timeout=5)
    counts.close()
    (nice, tid), = seen
    assert tid != threading.get_native_id()
    assert nice > main_nice  # (absolute: BACKGROUND_NICENESS, when the process runs at the default 0)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_nice  # the Qt thread is untouched
