"""The outbox service and the sync engine's sender, through the real demo network, with a hand-moved clock.

Nothing here waits in real time: the clock is moved by hand, and the engine's sleep is injected.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from console.connectors import OutgoingReply, ServerError
from console.connectors.demo import DemoConnector, DemoNetwork
from console.domain import Post, Visibility
from console.services.outbox import NOT_CONNECTED, UNEXPECTED, OutboxService
from console.services.writer import StoreWriter
from console.store import ChangeSet, Inbox, queries
from console.store import outbox as store
from console.store.outbox import EventKind, OutboxState
from console.store.reply_settings import AccountSettings
from console.sync import SyncEngine

EPOCH = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self) -> None:
        self.now = EPOCH

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FlakyConnector:
    """The demo account, but the network's answer to the first ``lose`` sends is lost after it posted (a timeout
    after the server wrote the reply), or ``crash`` raises a bug-like error."""

    def __init__(self, inner: DemoConnector, lose: int = 0, crash: int = 0) -> None:
        self.inner = inner
        self.account = inner.account
        self.lose = lose
        self.crash = crash
        self.calls: list[OutgoingReply] = []

    def __getattr__(self, name: str):  # streams, fetch_since, ... as the demo has them
        return getattr(self.inner, name)

    async def send_reply(self, reply: OutgoingReply) -> Post:
        self.calls.append(reply)
        if self.crash:
            self.crash -= 1
            raise KeyError("bug")
        post = await self.inner.send_reply(reply)
        if self.lose:
            self.lose -= 1
            raise ServerError("Mastodon did not answer in time; Tend will keep the reply.", detail="read timeout")
        return post


class World:
    """A real inbox file synced once from the demo network, and an outbox service sending through it."""

    def __init__(self, tmp_path: Path) -> None:
        self.clock = FakeClock()
        self.network = DemoNetwork(seed=7, clock=self.clock, tick_seconds=3.0)
        self.connectors: dict[str, object] = {c.account.id: c for c in self.network.connectors()}
        inbox = Inbox.open(tmp_path / "inbox.db", self.clock)
        for account in self.network.accounts():
            inbox.ensure_account(account)
        self.writer = StoreWriter(inbox)
        self.inbox = inbox
        self.service = OutboxService(self.writer, self.connectors.get, self.clock)
        self.changes: list[ChangeSet] = []
        self.service.on_changes.append(self.changes.append)

    async def sync(self) -> None:
        await SyncEngine(self.writer, list(self.connectors.values()), clock=self.clock).sync_once()

    def complaint(self, account_id: str = "demo-mastodon") -> queries.ThreadRow:
        rows = queries.list_threads(self.inbox.db, queries.View(account_id=account_id), 50)
        return next(r for r in rows if r.needs_reply)

    def thread(self, thread_id: str) -> queries.ThreadRow:
        return queries.get_thread(self.inbox.db, thread_id)

    def posts(self, thread_id: str) -> list[queries.PostRow]:
        return queries.thread_posts(self.inbox.db, thread_id)

    def sent_with(self, key: str) -> int:
        """Posts in the demo world sent with this idempotency key (the demo names them after the key)."""
        native = "sent-" + hashlib.sha256(key.encode()).hexdigest()[:12]
        return sum(1 for p in self.network.sent_replies() if p.id.endswith(native))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = World(tmp_path)
    yield made
    made.writer.close()


async def answer(world: World, text: str = "So sorry about that, Ana. We will make it right.") -> tuple[str, object]:
    await world.sync()
    thread = world.complaint()
    item = await world.service.queue(_last_in(world, thread.id), text)
    return thread.id, item


def _last_in(world: World, thread_id: str) -> str:
    return [p.id for p in world.posts(thread_id) if p.direction == "in"][-1]


@pytest.mark.asyncio
async def test_a_queued_reply_shows_at_once_and_undo_inside_the_window_restores_the_thread(world: World) -> None:
    thread_id, item = await answer(world)

    assert item.state is OutboxState.WAITING and item.account_id == "demo-mastodon"
    assert item.send_after == store.iso_utc(world.clock() + timedelta(seconds=20))
    assert world.posts(thread_id)[-1].id == item.pending_post_id and not world.thread(thread_id).needs_reply
    assert world.changes[-1].thread_ids == {thread_id}

    world.clock.advance(19)
    assert await world.service.send_due() == []
    undone = await world.service.undo(item.id)

    assert undone.state is OutboxState.CANCELLED
    assert world.thread(thread_id).needs_reply and item.pending_post_id not in [p.id for p in world.posts(thread_id)]
    assert (await world.service.load_draft(thread_id)).text == item.text
    world.clock.advance(60)
    assert await world.service.send_due() == [] and world.network.sent_replies() == []


@pytest.mark.asyncio
async def test_after_the_window_the_demo_network_post_replaces_the_pending_one(world: World) -> None:
    thread_id, item = await answer(world)
    world.clock.advance(21)

    (sent,) = await world.service.send_due()

    assert sent.state is OutboxState.SENT and sent.attempts == 1
    (network_post,) = world.network.sent_replies()
    assert sent.sent_post_id == network_post.id
    out = [p for p in world.posts(thread_id) if p.direction == "out"]
    assert [(p.id, p.text, p.parent_id) for p in out][-1] == (network_post.id, item.text, item.in_reply_to_id)
    assert not any(store.is_pending_post(p.id) for p in world.posts(thread_id))
    assert not world.thread(thread_id).needs_reply
    assert (await world.service.items_for_thread(thread_id)) == []
    events = store.thread_events(world.inbox, thread_id)
    assert [e.kind for e in events] == [EventKind.SENT]
    # A later sync that also brings the reply from the network changes nothing.
    world.clock.advance(5)
    await world.sync()
    assert [p.id for p in world.posts(thread_id)].count(network_post.id) == 1


@pytest.mark.asyncio
async def test_a_lost_answer_fails_with_the_reason_and_retry_never_posts_twice(world: World) -> None:
    flaky = FlakyConnector(world.connectors["demo-mastodon"], lose=1)
    world.connectors["demo-mastodon"] = flaky
    thread_id, item = await answer(world)
    world.clock.advance(21)

    (failed,) = await world.service.send_due()

    assert failed.state is OutboxState.FAILED
    assert failed.last_error == "Mastodon did not answer in time; Tend will keep the reply."
    assert world.posts(thread_id)[-1].id == item.pending_post_id  # kept, shown as not sent
    assert [i.id for i in await world.service.needing_attention()] == [item.id]

    retried = await world.service.retry(item.id)
    assert retried.state is OutboxState.WAITING
    (sent,) = await world.service.send_due()

    assert sent.state is OutboxState.SENT and sent.attempts == 2
    assert [c.idempotency_key for c in flaky.calls] == [item.idempotency_key] * 2
    assert len(world.network.sent_replies()) == 1 == world.sent_with(item.idempotency_key)
    assert [e.kind for e in store.thread_events(world.inbox, thread_id)] == [EventKind.SEND_FAILED, EventKind.SENT]


@pytest.mark.asyncio
async def test_a_bug_in_a_connector_keeps_the_reply_with_a_plain_message(world: World, caplog) -> None:
    world.connectors["demo-mastodon"] = FlakyConnector(world.connectors["demo-mastodon"], crash=1)
    _, item = await answer(world)
    world.clock.advance(21)
    (failed,) = await world.service.send_due()
    assert failed.state is OutboxState.FAILED and failed.last_error == UNEXPECTED
    assert "KeyError" in caplog.text


@pytest.mark.asyncio
async def test_a_reply_for_an_account_not_connected_fails_and_waits_for_retry(world: World) -> None:
    _, item = await answer(world)
    del world.connectors["demo-mastodon"]
    world.clock.advance(21)
    (failed,) = await world.service.send_due()
    assert failed.last_error == NOT_CONNECTED and world.network.sent_replies() == []


@pytest.mark.asyncio
async def test_the_undo_window_is_per_account_and_sends_can_wait_for_opening_time(world: World) -> None:
    await world.sync()
    await world.service.save_account_settings(AccountSettings("demo-mastodon", undo_s=5))
    post_id = _last_in(world, world.complaint().id)
    quick = await world.service.queue(post_id, "Thanks!")
    assert quick.send_after == store.iso_utc(world.clock() + timedelta(seconds=5))
    opening = world.clock() + timedelta(hours=3)
    later = await world.service.queue(post_id, "Good morning!", Visibility.DIRECT, not_before=opening)
    assert later.send_after == store.iso_utc(opening) and later.visibility is Visibility.DIRECT


@pytest.mark.asyncio
async def test_held_replies_come_back_after_a_restart_and_are_sent_only_when_released(world: World) -> None:
    thread_id, item = await answer(world)
    world.clock.advance(600)  # the app was closed during the window and opened ten minutes later

    (held,) = await world.service.recover()

    assert held.id == item.id and held.state is OutboxState.HELD and held.text == item.text
    assert await world.service.send_due() == []
    await world.service.release(item.id)
    (sent,) = await world.service.send_due()
    assert sent.state is OutboxState.SENT and world.sent_with(item.idempotency_key) == 1


@pytest.mark.asyncio
async def test_cooloff_overrides_are_recorded_and_announced(world: World) -> None:
    await world.sync()
    thread_id = world.complaint().id
    await world.service.record_cooloff_override(thread_id, {"remaining_s": 240})
    (event,) = store.thread_events(world.inbox, thread_id)
    assert event.kind is EventKind.COOLOFF_OVERRIDE and event.detail == {"remaining_s": 240}
    assert world.changes[-1].thread_ids == {thread_id}


# -- the sync engine's sender ---------------------------------------------------------------------------------------


class Ticks:
    """The engine's injected sleep: each outbox interval moves the fake clock; the polling sleeps never end."""

    def __init__(self, clock: FakeClock, stop_after: int) -> None:
        self.clock = clock
        self.stop_after = stop_after
        self.outbox_sleeps: list[float] = []
        self.done = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        if seconds != 1.0:
            await asyncio.Event().wait()
        self.outbox_sleeps.append(seconds)
        self.clock.advance(seconds)
        if len(self.outbox_sleeps) >= self.stop_after:
            self.done.set()
        await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_the_engine_sends_due_replies_every_second(world: World) -> None:
    thread_id, item = await answer(world)
    ticks = Ticks(world.clock, stop_after=25)
    engine = SyncEngine(world.writer, list(world.connectors.values()), clock=world.clock, sleep=ticks)
    engine.outbox = OutboxService(world.writer, engine.connector_for, world.clock)
    assert engine.connector_for("demo-mastodon") is world.connectors["demo-mastodon"]
    assert engine.connector_for("nobody") is None

    engine.start()
    await asyncio.wait_for(ticks.done.wait(), 10)
    await engine.stop()

    assert set(ticks.outbox_sleeps) == {1.0}
    assert store.get_item(world.inbox, item.id).state is OutboxState.SENT
    assert world.sent_with(item.idempotency_key) == 1


@pytest.mark.asyncio
async def test_a_failing_outbox_never_stops_the_engine_sender(world: World, caplog) -> None:
    calls = 0

    class Broken:
        async def send_due(self) -> None:
            nonlocal calls
            calls += 1
            raise RuntimeError("disk on fire")

    ticks = Ticks(world.clock, stop_after=3)
    engine = SyncEngine(world.writer, [], sleep=ticks, outbox=Broken())
    engine.start()
    await asyncio.wait_for(ticks.done.wait(), 10)
    await engine.stop()
    assert calls >= 3 and "disk on fire" in caplog.text
