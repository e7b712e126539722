"""The sync engine against a real inbox file and scripted connectors (test doubles of a network, not of our code)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from console.connectors import AuthExpired, OutgoingReply, RateLimited, ServerError
from dataclasses import replace

from console.domain import Account, Author, Batch, Post, ThreadStatus
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import SyncEngine, SyncState

ACCOUNT = Account("acct-1", "mastodon", "@shop", "https://shop.example")  # the account conftest.py stores
T0 = "2026-11-20T10:00:00.000Z"


def author(n: int) -> Author:
    return Author(f"mastodon:a{n}", "mastodon", f"@cust{n}", f"Customer {n}", followers_count=10 * n)


def post(n: int, author_n: int | None = None) -> Post:
    a = author_n if author_n is not None else n
    return Post(
        id=f"mastodon:{n}", network="mastodon", account_id=ACCOUNT.id, thread_id=f"mastodon:{n}",
        author_id=f"mastodon:a{a}", text=f"post number {n}", created_at=f"2026-11-20T10:{n:02d}:00.000Z",
        observed_at=T0,
    )


def page(numbers: Sequence[int], cursor: str | None) -> Batch:
    return Batch(ACCOUNT.id, "mentions", tuple(post(n) for n in numbers), tuple(author(n) for n in numbers), cursor)


class ScriptedConnector:
    """Yields the given pages, then raises ``error_after`` if set."""

    def __init__(self, pages: list[Batch], error_after: Exception | None = None, account: Account = ACCOUNT) -> None:
        self.account = account
        self.pages = pages
        self.error_after = error_after
        self.cursors_seen: list[str | None] = []
        self.closed = False

    @property
    def streams(self) -> Sequence[str]:
        return ("mentions",)

    async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
        self.cursors_seen.append(cursor)
        for batch in self.pages:
            await asyncio.sleep(0)
            yield batch
        if self.error_after is not None:
            raise self.error_after

    async def fetch_thread(self, root_id: str) -> list[Post]:
        return []

    async def fetch_authors(self, author_ids: Sequence[str]) -> list[Author]:
        return []

    async def send_reply(self, reply: OutgoingReply) -> Post:
        raise NotImplementedError

    async def aclose(self) -> None:
        self.closed = True


def stored_ids(path: Path) -> list[str]:
    inbox = Inbox.open(path)
    try:
        return [r[0] for r in inbox.db.execute("SELECT id FROM posts ORDER BY id").fetchall()]
    finally:
        inbox.close()


def stored_cursor(path: Path) -> str | None:
    inbox = Inbox.open(path)
    try:
        return inbox.cursor(ACCOUNT.id, "mentions")
    finally:
        inbox.close()


@pytest.mark.asyncio
async def test_pages_are_stored_and_cursor_moves_with_them(writer: StoreWriter, inbox_path: Path) -> None:
    connector = ScriptedConnector([page([1, 2], "c1"), page([3], "c2")])
    engine = SyncEngine(writer, [connector])
    changes = []
    engine.on_changes.append(changes.append)
    [result] = await engine.sync_once()
    assert result.error is None and result.new_posts == 3 and result.pages == 2
    assert stored_ids(inbox_path) == ["mastodon:1", "mastodon:2", "mastodon:3"]
    assert stored_cursor(inbox_path) == "c2"
    assert set().union(*(c.thread_ids for c in changes)) == {"mastodon:1", "mastodon:2", "mastodon:3"}
    assert engine.statuses[ACCOUNT.id].state is SyncState.OK

    again = ScriptedConnector([page([1, 2], "c1"), page([3], "c2")])
    [second] = await SyncEngine(writer, [again]).sync_once()
    assert again.cursors_seen == ["c2"]
    assert second.new_posts == 0


@pytest.mark.asyncio
async def test_connector_failure_keeps_committed_pages_and_their_cursor(writer: StoreWriter, inbox_path: Path) -> None:
    failure = ServerError("Mastodon is not answering (timed out); Tend will try again later.")
    connector = ScriptedConnector([page([1], "c1"), page([2], "c2")], error_after=failure)
    engine = SyncEngine(writer, [connector])
    [result] = await engine.sync_once()
    assert result.error == str(failure)
    assert stored_ids(inbox_path) == ["mastodon:1", "mastodon:2"]
    assert stored_cursor(inbox_path) == "c2"
    status = engine.statuses[ACCOUNT.id]
    assert status.state is SyncState.ERROR and "not answering" in status.message


@pytest.mark.asyncio
async def test_a_bad_page_writes_nothing_half_done(writer: StoreWriter, inbox_path: Path) -> None:
    good = page([1], "c1")
    # Post 3 names an author the page does not carry: the foreign key fails inside the transaction.
    broken = Batch(ACCOUNT.id, "mentions", (post(2), post(3, author_n=99)), (author(2),), "c2")
    engine = SyncEngine(writer, [ScriptedConnector([good, broken])])
    [result] = await engine.sync_once()
    assert result.error is not None and "unexpected problem" in result.error
    assert stored_ids(inbox_path) == ["mastodon:1"]
    assert stored_cursor(inbox_path) == "c1"


@pytest.mark.asyncio
async def test_pages_without_cursor_store_data_but_keep_the_old_cursor(writer: StoreWriter, inbox_path: Path) -> None:
    connector = ScriptedConnector([page([1], None), page([2], None)], error_after=ServerError("down"))
    await SyncEngine(writer, [connector]).sync_once()
    assert stored_ids(inbox_path) == ["mastodon:1", "mastodon:2"]
    assert stored_cursor(inbox_path) is None


@pytest.mark.asyncio
async def test_revoked_access_asks_for_reconnection(writer: StoreWriter) -> None:
    connector = ScriptedConnector([], error_after=AuthExpired("Access to @shop was revoked; reconnect the account."))
    engine = SyncEngine(writer, [connector])
    await engine.sync_once()
    assert engine.statuses[ACCOUNT.id].state is SyncState.NEEDS_RECONNECT


@pytest.mark.asyncio
async def test_accounts_sync_concurrently(writer: StoreWriter, inbox_path: Path) -> None:
    other = Account("acct-2", "mastodon", "@shop2", "https://other.example")
    inbox = Inbox.open(inbox_path)
    inbox.ensure_account(other)
    inbox.close()
    first_started = asyncio.Event()

    class Waiting(ScriptedConnector):
        async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
            await asyncio.wait_for(first_started.wait(), timeout=2)
            for batch in self.pages:
                yield batch

    class Starting(ScriptedConnector):
        async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
            first_started.set()
            for batch in self.pages:
                yield batch

    waiting = Waiting([Batch(other.id, "mentions", (), (), "x")], account=other)
    starting = Starting([page([1], "c1")])
    results = await SyncEngine(writer, [waiting, starting]).sync_once()
    assert [r.error for r in results] == [None, None]


def test_backoff_after_failures_is_jittered(writer: StoreWriter) -> None:
    from console.sync import SyncResult

    engine = SyncEngine(writer, [], interval=60, max_backoff=900)
    engine._failures[ACCOUNT.id] = 3
    delays = {engine.next_delay(SyncResult(ACCOUNT.id, error="down")) for _ in range(50)}
    assert len(delays) > 10 and all(240 <= d <= 264 for d in delays)
    assert engine.next_delay(SyncResult(ACCOUNT.id)) == 60  # no jitter on a healthy account's interval


def test_backoff_grows_and_honours_the_server(writer: StoreWriter) -> None:
    engine = SyncEngine(writer, [], interval=60, max_backoff=900, jitter=lambda: 0.0)
    from console.sync import SyncResult

    assert engine.next_delay(SyncResult(ACCOUNT.id)) == 60
    delays = []
    for failures in range(1, 7):
        engine._failures[ACCOUNT.id] = failures
        delays.append(engine.next_delay(SyncResult(ACCOUNT.id, error="down")))
    assert delays == [60, 120, 240, 480, 900, 900]
    engine._failures[ACCOUNT.id] = 1
    limited = SyncResult(ACCOUNT.id, error="slow down", retry_after=RateLimited("x", retry_after=1500).retry_after)
    assert engine.next_delay(limited) == 1500


@pytest.mark.asyncio
async def test_stop_cancels_polling_and_closes_connectors(writer: StoreWriter) -> None:
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(0.01)

    connector = ScriptedConnector([page([1], "c1")])
    engine = SyncEngine(writer, [connector], interval=30, sleep=fake_sleep)
    engine.start()
    for _ in range(100):
        if sleeps:
            break
        await asyncio.sleep(0.01)
    await engine.stop()
    assert sleeps and sleeps[0] == 30
    assert connector.closed


@pytest.mark.asyncio
async def test_a_stream_event_triggers_a_sync_before_the_interval(writer: StoreWriter, inbox_path: Path) -> None:
    arrived = asyncio.Event()

    class Streaming(ScriptedConnector):
        async def watch(self) -> AsyncIterator[None]:
            await arrived.wait()
            self.pages = [page([7], "c7")]
            yield None
            await asyncio.Event().wait()  # stay connected

    async def long_sleep(seconds: float) -> None:
        await asyncio.sleep(3600)

    connector = Streaming([page([1], "c1")])
    engine = SyncEngine(writer, [connector], interval=3600, sleep=long_sleep)
    engine.start()
    try:
        for _ in range(200):
            if stored_cursor(inbox_path) == "c1":
                break
            await asyncio.sleep(0.01)
        arrived.set()
        for _ in range(200):
            if stored_cursor(inbox_path) == "c7":
                break
            await asyncio.sleep(0.01)
        assert stored_cursor(inbox_path) == "c7"
    finally:
        await engine.stop()


@pytest.mark.asyncio
async def test_revoked_access_is_remembered_in_the_inbox(writer: StoreWriter, inbox_path: Path) -> None:
    connector = ScriptedConnector([], error_after=AuthExpired("revoked"))
    await SyncEngine(writer, [connector]).sync_once()
    inbox = Inbox.open(inbox_path)
    try:
        assert inbox.accounts()[0].needs_reconnect
    finally:
        inbox.close()


# -- accounts added and removed while the engine runs ---------------------------------------------------------------

SECOND = Account("acct-2", "mastodon", "@shop2", "https://shop.example")


@pytest.mark.asyncio
async def test_an_account_added_while_running_starts_syncing_at_once(writer: StoreWriter, inbox_path: Path) -> None:
    inbox = Inbox.open(inbox_path)
    inbox.ensure_account(SECOND)
    inbox.close()

    async def long_sleep(seconds: float) -> None:
        await asyncio.sleep(3600)

    engine = SyncEngine(writer, [ScriptedConnector([page([1], "c1")])], interval=3600, sleep=long_sleep)
    engine.start()
    try:
        added = ScriptedConnector(
            [Batch(SECOND.id, "mentions", (post(5),), (author(5),), "s5")], account=SECOND
        )
        engine.add_connector(added)
        for _ in range(200):
            if "mastodon:5" in stored_ids(inbox_path):
                break
            await asyncio.sleep(0.01)
        assert "mastodon:5" in stored_ids(inbox_path) and added.cursors_seen == [None]
        assert engine.account_ids == [ACCOUNT.id, SECOND.id]
        with pytest.raises(ValueError):
            engine.add_connector(ScriptedConnector([], account=SECOND))
    finally:
        await engine.stop()
    assert added.closed


@pytest.mark.asyncio
async def test_an_account_added_before_start_waits_for_start(writer: StoreWriter) -> None:
    engine = SyncEngine(writer, [])
    connector = ScriptedConnector([page([1], "c1")])
    engine.add_connector(connector)
    await asyncio.sleep(0.05)
    assert connector.cursors_seen == []
    assert [r.account_id for r in await engine.sync_once()] == [ACCOUNT.id]


@pytest.mark.asyncio
async def test_removing_an_account_stops_its_polling_and_stream_only(writer: StoreWriter, inbox_path: Path) -> None:
    class Streaming(ScriptedConnector):
        watching = False

        async def watch(self) -> AsyncIterator[None]:
            self.watching = True
            await asyncio.Event().wait()
            yield None

    async def short_sleep(seconds: float) -> None:
        await asyncio.sleep(0.01)

    leaving = Streaming([], account=SECOND)
    staying = ScriptedConnector([])
    engine = SyncEngine(writer, [staying, leaving], interval=0.01, sleep=short_sleep)
    engine.start()
    try:
        for _ in range(200):
            if leaving.watching and len(leaving.cursors_seen) >= 2:
                break
            await asyncio.sleep(0.01)
        await engine.remove_account(SECOND.id)
        assert leaving.closed and not staying.closed
        assert SECOND.id not in engine.statuses and engine.account_ids == [ACCOUNT.id]
        polls = len(leaving.cursors_seen)
        before = len(staying.cursors_seen)
        await asyncio.sleep(0.1)
        assert len(leaving.cursors_seen) == polls
        assert len(staying.cursors_seen) > before
    finally:
        await engine.stop()
    await engine.remove_account("not-there")  # harmless


@pytest.mark.asyncio
async def test_open_threads_are_read_again_within_a_budget(writer: StoreWriter, inbox_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    now = [datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)]

    class Refreshing(ScriptedConnector):
        def __init__(self, pages: list[Batch]) -> None:
            super().__init__(pages)
            self.refreshed: list[tuple[str, list[str]]] = []

        async def refresh_thread(self, root_id: str, known_post_ids) -> Batch:
            self.refreshed.append((root_id, list(known_post_ids)))
            n = int(root_id.split(":")[1])
            fresh = replace(post(n), reshare_count=40, observed_at="2026-11-20T12:00:00.000Z")
            return Batch(ACCOUNT.id, "threads", (fresh,), (author(n),), None)

    connector = Refreshing([page([1, 2, 3], "c1")])
    engine = SyncEngine(writer, [connector], clock=lambda: now[0], refresh_per_pass=2, refresh_every=timedelta(minutes=5))
    await engine.sync_once()
    await writer.call(Inbox.set_thread_status, "mastodon:3", ThreadStatus.DONE)
    connector.refreshed.clear()
    connector.pages = []
    now[0] += timedelta(minutes=6)
    await engine.sync_once()
    # Open ones only, never read before first, then the least recently read; two per pass.
    assert [root for root, _ in connector.refreshed] == ["mastodon:1", "mastodon:2"]
    assert connector.refreshed[0][1] == ["mastodon:1"]
    inbox = Inbox.open(inbox_path)
    try:
        counts = dict(inbox.db.execute("SELECT id, reshare_count FROM posts").fetchall())
        assert counts == {"mastodon:1": 40, "mastodon:2": 40, "mastodon:3": 40}  # 3 was read before it was done
        assert inbox.cursor(ACCOUNT.id, "mentions") == "c1"
    finally:
        inbox.close()
    connector.refreshed.clear()
    await engine.sync_once()
    assert connector.refreshed == []  # read less than five minutes ago
    now[0] += timedelta(minutes=6)
    await engine.sync_once()
    assert len(connector.refreshed) == 2


@pytest.mark.asyncio
async def test_a_connector_with_scarce_reads_is_refreshed_less_often_and_says_what_is_left(
    writer: StoreWriter,
) -> None:
    from datetime import datetime, timedelta, timezone

    now = [datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)]

    class Scarce(ScriptedConnector):
        refresh_every = timedelta(minutes=30)
        conversations_unavailable = "Your X access level does not allow search: conversations are reply chains only"

        def __init__(self, pages: list[Batch]) -> None:
            super().__init__(pages)
            self.refreshed: list[str] = []

        async def refresh_thread(self, root_id: str, known_post_ids) -> Batch:
            self.refreshed.append(root_id)
            return Batch(ACCOUNT.id, "threads", (), (), None)

        def reads_left_text(self) -> str:
            return "1,240 of 10,000 reads left this month"

    connector = Scarce([page([1], "c1")])
    engine = SyncEngine(writer, [connector], clock=lambda: now[0], refresh_every=timedelta(minutes=5))
    await engine.sync_once()
    assert connector.refreshed == ["mastodon:1"]
    message = engine.statuses[ACCOUNT.id].message
    assert message.endswith("1,240 of 10,000 reads left this month")
    assert "conversations are reply chains only" in message
    now[0] += timedelta(minutes=10)  # past the engine's five minutes, not the connector's thirty
    await engine.sync_once()
    assert connector.refreshed == ["mastodon:1"]
    now[0] += timedelta(minutes=25)
    await engine.sync_once()
    assert connector.refreshed == ["mastodon:1", "mastodon:1"]


def test_polling_slows_when_the_rate_budget_runs_low(writer: StoreWriter) -> None:
    from console.sync import SyncResult

    class Budgeted(ScriptedConnector):
        def suggested_delay(self, default_interval: float) -> float:
            return 240.0

    engine = SyncEngine(writer, [], interval=60)
    assert engine.next_delay(SyncResult(ACCOUNT.id), Budgeted([])) == 240
    assert engine.next_delay(SyncResult(ACCOUNT.id), ScriptedConnector([])) == 60
