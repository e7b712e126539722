"""The sync engine running brand watches: on a schedule, with their own cursor, never failing the account."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from console.connectors import AuthExpired, OutgoingReply, RateLimited, ServerError
from console.domain import Account, Author, Batch, Direction, Post
from console.domain.watches import WATCH_STREAM, BrandWatch
from console.services.writer import StoreWriter
from console.store import Inbox, View, ViewKind
from console.store.queries import list_threads
from console.store.watches import save_brand_watch
from console.sync import SyncEngine, SyncState

ACCOUNT = Account("acct-1", "mastodon", "@shop", "https://shop.example")  # the account conftest.py stores
START = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def author(name: str) -> Author:
    return Author(f"mastodon:{name}", "mastodon", f"@{name}", name.title(), followers_count=50)


def post(native: str, *, thread: str | None = None, who: str = "alice", text: str = "", minute: int = 0,
         direction: Direction = Direction.IN, likes: int = 0, observed: int | None = None) -> Post:
    stamp = f"2026-11-25T09:{minute:02d}:00.000Z"
    return Post(
        id=f"mastodon:{native}", network="mastodon", account_id=ACCOUNT.id,
        thread_id=f"mastodon:{thread or native}", author_id=f"mastodon:{who}", text=text or f"post {native}",
        created_at=stamp, observed_at=f"2026-11-25T09:{observed if observed is not None else minute:02d}:00.000Z",
        direction=direction, like_count=likes,
    )


def page(*posts: Post, cursor: str | None = None, stream: str = "mentions") -> Batch:
    authors = tuple(author(p.author_id.split(":", 1)[1]) for p in posts)
    return Batch(ACCOUNT.id, stream, posts, authors, cursor)


def watch_page(*posts: Post, cursor: str | None = None) -> Batch:
    return replace(page(*posts, cursor=cursor, stream=WATCH_STREAM), source="watch")


class WatchingConnector:
    """A network with one mention stream and a search: each call hands out the next scripted page list (or
    raises the scripted error), and records what the engine asked."""

    def __init__(self) -> None:
        self.account = ACCOUNT
        self.mention_pages: list[list[Batch]] = []
        self.watch_pages: list[list[Batch] | Exception] = []
        self.watch_calls: list[tuple[BrandWatch, str | None]] = []
        self.refreshes: dict[str, Batch] = {}

    @property
    def streams(self) -> Sequence[str]:
        return ("mentions",)

    async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
        for batch in self.mention_pages.pop(0) if self.mention_pages else []:
            await asyncio.sleep(0)
            yield batch

    async def fetch_watch(self, watch: BrandWatch, cursor: str | None) -> AsyncIterator[Batch]:
        self.watch_calls.append((watch, cursor))
        script = self.watch_pages.pop(0) if self.watch_pages else []
        if isinstance(script, Exception):
            raise script
        for batch in script:
            await asyncio.sleep(0)
            yield batch

    async def refresh_thread(self, root_id: str, known_post_ids: Collection[str] = ()) -> Batch:
        return self.refreshes.get(root_id, Batch(ACCOUNT.id, "threads"))

    async def fetch_thread(self, root_id: str) -> list[Post]:
        return []

    async def fetch_authors(self, author_ids: Sequence[str]) -> list[Author]:
        return []

    async def send_reply(self, reply: OutgoingReply) -> Post:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def engine_for(writer: StoreWriter, connector: WatchingConnector, clock: FakeClock, **options) -> SyncEngine:
    return SyncEngine(writer, [connector], clock=clock, **options)


async def set_watch(writer: StoreWriter, terms: list[str], exclude: list[str] = ()) -> None:
    await writer.call(save_brand_watch, terms, list(exclude))


async def read(writer: StoreWriter, sql: str, *params: object) -> list[tuple]:
    return await writer.call(lambda inbox: inbox.db.execute(sql, params).fetchall())


@pytest.mark.asyncio
async def test_an_inactive_watch_is_never_searched(writer, clock):
    connector = WatchingConnector()
    connector.mention_pages = [[page(post("1"), cursor="m1")]]
    engine = engine_for(writer, connector, clock)
    [result] = await engine.sync_once()
    assert engine.statuses[ACCOUNT.id].message == "1 new"
    await set_watch(writer, [], ["rubber"])  # exclude words alone watch nothing
    await engine.sync_once()
    assert connector.watch_calls == []
    assert result.error is None and result.new_posts == 1 and result.watch_posts == 0


@pytest.mark.asyncio
async def test_the_watch_runs_on_its_schedule_with_its_own_cursor(writer, clock):
    await set_watch(writer, ["crumbandco", "Mill Lane"], ["rubber"])
    connector = WatchingConnector()
    connector.mention_pages = [[page(post("1"), cursor="m1")]]
    connector.watch_pages = [
        [watch_page(post("10", who="bob", text="crumbandco rocks"), cursor=None),
         watch_page(post("11", who="carol", text="Mill Lane again"), cursor="w1")],
        [watch_page(post("12", who="dan", text="crumbandco?"), cursor="w2")],
    ]
    engine = engine_for(writer, connector, clock, watch_every=timedelta(minutes=5))

    [first] = await engine.sync_once()
    assert [(w.terms, w.exclude, c) for w, c in connector.watch_calls] == [
        (("crumbandco", "Mill Lane"), ("rubber",), None)]
    assert first.error is None and first.new_posts == 1 and first.watch_posts == 2
    assert engine.statuses[ACCOUNT.id].state is SyncState.OK
    assert engine.statuses[ACCOUNT.id].message == "1 new; 2 found by brand watch"
    assert await writer.call(Inbox.cursor, ACCOUNT.id, WATCH_STREAM) == "w1"
    assert await writer.call(Inbox.cursor, ACCOUNT.id, "mentions") == "m1"
    unmentioned = await writer.call(lambda inbox: list_threads(inbox.db, View(ViewKind.UNMENTIONED), 10))
    assert {row.id for row in unmentioned} == {"mastodon:10", "mastodon:11"}

    clock.advance(minutes=4, seconds=59)
    await engine.sync_once()
    assert len(connector.watch_calls) == 1  # not due yet

    clock.advance(seconds=1)
    [third] = await engine.sync_once()
    assert [c for _w, c in connector.watch_calls] == [None, "w1"]  # the stored cursor, reused
    assert third.watch_posts == 1
    assert await writer.call(Inbox.cursor, ACCOUNT.id, WATCH_STREAM) == "w2"
    assert engine.statuses[ACCOUNT.id].message == "Up to date; 1 found by brand watch"


@pytest.mark.asyncio
async def test_new_terms_are_searched_at_once_from_a_fresh_cursor(writer, clock):
    await set_watch(writer, ["crumbandco"])
    connector = WatchingConnector()
    connector.watch_pages = [[watch_page(cursor="w1")], [watch_page(cursor="w9")]]
    engine = engine_for(writer, connector, clock)
    await engine.sync_once()
    clock.advance(minutes=1)
    await engine.sync_once()
    assert len(connector.watch_calls) == 1
    await set_watch(writer, ["crumbandco", "#crumbandco"])
    await engine.sync_once()
    assert [(w.terms, c) for w, c in connector.watch_calls] == [
        (("crumbandco",), None), (("crumbandco", "#crumbandco"), None)]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ServerError("The search is not answering; Tend will try again later."),
         "brand watch: The search is not answering; Tend will try again later."),
        (AuthExpired("This account may not search."), "brand watch: This account may not search."),
        (RuntimeError("bug in a connector"), "brand watch: Tend hit an unexpected problem; details are in the log."),
    ],
)
async def test_a_failing_watch_never_fails_the_account(writer, clock, error, expected):
    await set_watch(writer, ["crumbandco"])
    connector = WatchingConnector()
    connector.mention_pages = [[page(post("1"), cursor="m1")], [page(post("2", minute=1), cursor="m2")]]
    connector.watch_pages = [error, []]
    engine = engine_for(writer, connector, clock)
    [result] = await engine.sync_once()
    assert result.error is None and result.watch_error and result.new_posts == 1
    status = engine.statuses[ACCOUNT.id]
    assert status.state is SyncState.OK
    assert status.message == f"1 new. {expected}"
    assert engine.next_delay(result, connector) == 60.0  # no backoff for mentions
    assert await writer.call(Inbox.cursor, ACCOUNT.id, "mentions") == "m1"
    assert (await read(writer, "SELECT needs_reconnect FROM accounts"))[0][0] == 0
    # Mentions carry on at the next pass, the status still saying what is wrong; the watch tries again when due.
    clock.advance(minutes=1)
    [between] = await engine.sync_once()
    assert between.error is None and between.new_posts == 1 and len(connector.watch_calls) == 1
    assert engine.statuses[ACCOUNT.id].message == f"1 new. {expected}"
    clock.advance(minutes=4)
    [again] = await engine.sync_once()
    assert again.error is None and again.watch_error is None and len(connector.watch_calls) == 2
    assert engine.statuses[ACCOUNT.id].message == "Up to date"


@pytest.mark.asyncio
async def test_pages_stored_before_a_watch_failure_are_kept(writer, clock):
    await set_watch(writer, ["crumbandco"])
    connector = WatchingConnector()

    async def half_then_fail(watch, cursor):
        connector.watch_calls.append((watch, cursor))
        yield watch_page(post("10", who="bob"), cursor="w1")
        raise ServerError("The search stopped answering.")

    connector.fetch_watch = half_then_fail  # type: ignore[method-assign]
    engine = engine_for(writer, connector, clock)
    [result] = await engine.sync_once()
    assert result.watch_posts == 1 and result.watch_error == "The search stopped answering."
    assert await writer.call(Inbox.cursor, ACCOUNT.id, WATCH_STREAM) == "w1"


@pytest.mark.asyncio
async def test_a_rate_limited_watch_waits_as_long_as_the_network_asks(writer, clock):
    await set_watch(writer, ["crumbandco"])
    connector = WatchingConnector()
    connector.watch_pages = [RateLimited("The search is rate limited.", retry_after=900), []]
    engine = engine_for(writer, connector, clock, watch_every=timedelta(minutes=5))
    [result] = await engine.sync_once()
    assert result.error is None and result.retry_after is None  # the mentions' schedule is untouched
    clock.advance(minutes=10)
    await engine.sync_once()
    assert len(connector.watch_calls) == 1
    clock.advance(minutes=5)
    await engine.sync_once()
    assert len(connector.watch_calls) == 2


@pytest.mark.asyncio
async def test_a_watch_page_is_always_stored_as_a_watch(writer, clock):
    """Whatever a connector sets, what its search returns is never a mention and moves only the watch cursor."""
    await set_watch(writer, ["crumbandco"])
    connector = WatchingConnector()
    connector.watch_pages = [[page(post("10", who="bob"), cursor="w1", stream="mentions")]]
    await engine_for(writer, connector, clock).sync_once()
    assert await read(writer, "SELECT source FROM posts") == [("watch",)]
    assert await writer.call(Inbox.cursor, ACCOUNT.id, WATCH_STREAM) == "w1"
    assert await writer.call(Inbox.cursor, ACCOUNT.id, "mentions") is None


@pytest.mark.asyncio
async def test_refreshing_a_watch_thread_keeps_it_unmentioned(writer, clock):
    await set_watch(writer, ["crumbandco"])
    connector = WatchingConnector()
    connector.watch_pages = [[watch_page(post("10", who="bob", text="crumbandco"), cursor="w1")]]
    engine = engine_for(writer, connector, clock, refresh_every=timedelta(0))
    await engine.sync_once()
    # The next pass re-reads the open thread: fresh counts and a reply the search never saw.
    connector.refreshes["mastodon:10"] = page(
        post("10", who="bob", text="crumbandco", likes=7, observed=30),
        post("11", thread="10", who="carol", minute=2),
        stream="threads",
    )
    clock.advance(minutes=1)
    await engine.sync_once()
    rows = await read(writer, "SELECT id, source, like_count FROM posts ORDER BY id")
    assert rows == [("mastodon:10", "watch", 7), ("mastodon:11", "watch", 0)]
    assert await read(writer, "SELECT unmentioned, post_count FROM threads") == [(1, 2)]


@pytest.mark.asyncio
async def test_a_connector_without_a_search_is_left_alone(writer, clock):
    await set_watch(writer, ["crumbandco"])
    connector = WatchingConnector()
    connector.fetch_watch = None  # type: ignore[assignment]  # as a network without search has no such method
    engine = engine_for(writer, connector, clock, brand_watch=lambda inbox: pytest.fail("read the watch"))
    [result] = await engine.sync_once()
    assert result.error is None and result.watch_error is None


@pytest.mark.asyncio
async def test_queries_the_server_refuses_are_said_in_the_status(writer, clock):
    await set_watch(writer, ["crumbandco", "Mill Lane"])
    connector = WatchingConnector()
    connector.watch_unavailable = "This server only searches posts by its own users."  # type: ignore[attr-defined]
    engine = engine_for(writer, connector, clock)
    [result] = await engine.sync_once()
    assert result.error is None and result.watch_error == connector.watch_unavailable
    assert engine.statuses[ACCOUNT.id].state is SyncState.OK
    assert engine.statuses[ACCOUNT.id].message == (
        "Up to date. brand watch: This server only searches posts by its own users.")
    # Turning the watch off clears it at once.
    await set_watch(writer, [])
    [off] = await engine.sync_once()
    assert off.watch_error is None and engine.statuses[ACCOUNT.id].message == "Up to date"


# -- the demo network's own search ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_demo_networks_watches_run_through_the_engine(tmp_path):
    from console.connectors.demo import DEMO_WATCH_EXCLUDE, DEMO_WATCH_TERMS, DemoNetwork

    clock = FakeClock()
    network = DemoNetwork(seed=7, clock=clock, tick_seconds=3.0)
    inbox = Inbox.open(tmp_path / "demo.db", clock=clock)
    for account in network.accounts():
        inbox.ensure_account(account)
    writer = StoreWriter(inbox)
    try:
        await writer.call(save_brand_watch, list(DEMO_WATCH_TERMS), list(DEMO_WATCH_EXCLUDE))
        engine = SyncEngine(writer, network.connectors(), clock=clock, refresh_per_pass=0)
        results = await engine.sync_once()
        assert all(r.error is None and r.watch_error is None for r in results)
        assert sum(r.watch_posts for r in results) > 0
        for connector in network.connectors():
            assert await writer.call(Inbox.cursor, connector.account.id, WATCH_STREAM) is not None
        rows = await read(writer, "SELECT count(*), sum(unmentioned) FROM threads WHERE id IN "
                                  "(SELECT thread_id FROM posts WHERE source = 'watch')")
        watch_threads, unmentioned = rows[0]
        assert watch_threads > 0 and unmentioned > 0
        texts = [row[0] for row in await read(writer, "SELECT text FROM posts WHERE source = 'watch'")]
        watch = BrandWatch(DEMO_WATCH_TERMS, DEMO_WATCH_EXCLUDE)
        assert texts and all(watch.matches(text) for text in texts)
        assert await read(writer, "SELECT count(*) FROM posts WHERE source = 'watch' AND direction = 'out'") == [(0,)]
        # The demo's mentions came in too, as mentions.
        assert (await read(writer, "SELECT count(*) FROM threads WHERE unmentioned = 0"))[0][0] > 0

        # Later: the watch runs again from its cursors and finds only what is new; nothing is stored twice.
        before = (await read(writer, "SELECT count(*) FROM posts WHERE source = 'watch'"))[0][0]
        clock.advance(minutes=30)
        later = await engine.sync_once()
        assert all(r.error is None and r.watch_error is None for r in later)
        after = (await read(writer, "SELECT count(*) FROM posts WHERE source = 'watch'"))[0][0]
        assert after == before + sum(r.watch_posts for r in later) > before
        assert (await read(writer, "SELECT count(*) - count(DISTINCT id) FROM posts"))[0][0] == 0
    finally:
        writer.close()
