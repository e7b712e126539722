"""The radar service: announces each escalation exactly once, on a hand-moved clock, through the real writer."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from console.domain import Account, Author, Batch, Post, iso_utc
from console.services.radar import RadarService, customer_negativity
from console.services.writer import StoreWriter
from console.store import ChangeSet, Inbox

EPOCH = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
ACCOUNT = Account("demo:shop", "demo", "shop", "demo://")


class Clock:
    def __init__(self) -> None:
        self.now = EPOCH

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(tmp_path):
    clock = Clock()
    inbox = Inbox.open(tmp_path / "inbox.db", clock)
    inbox.ensure_account(ACCOUNT)
    writer = StoreWriter(inbox)
    yield clock, inbox, writer
    writer.close()


def observe(inbox: Inbox, clock: Clock, reshares: int, text: str = "Worst birthday ever. Cake was a disaster!") -> None:
    author = Author("demo:ann", "demo", "ann", "Ann", followers_count=300, observed_at=iso_utc(EPOCH))
    post = Post("demo:1", "demo", ACCOUNT.id, "demo:1", author.id, text, iso_utc(EPOCH), iso_utc(clock.now),
                reshare_count=reshares)
    inbox.apply_batch(Batch(ACCOUNT.id, "mentions", (post,), (author,)))


def test_customer_negativity_reads_the_angriest_recent_words():
    assert customer_negativity([]) == 0.0
    assert customer_negativity(["Thanks, lovely cake!"]) == 0.0
    furious = customer_negativity(["Thanks", "Worst birthday ever, the cake was a disgusting disaster"])
    assert 0.5 < furious <= 1.0


@pytest.mark.asyncio
async def test_one_notification_per_escalation(world):
    clock, inbox, writer = world
    radar = RadarService(writer)
    announced, changed = [], []
    radar.on_escalation.append(announced.append)
    radar.on_changes.append(changed.append)

    observe(inbox, clock, 0)
    for minute in range(1, 31):  # the snowball: reshares climb for half an hour, a pass every minute
        clock.now = EPOCH + timedelta(minutes=minute)
        observe(inbox, clock, minute * 40)
        await radar.run_once()
    assert [e.thread_id for e in announced] == ["demo:1"]
    assert announced[0].author_name == "Ann" and announced[0].author_followers == 300
    assert any("demo:1" in c.thread_ids for c in changed)

    clock.now += timedelta(days=2)  # cooled off
    await radar.run_once()
    for minute in range(1, 31):  # and a second wave
        clock.now += timedelta(minutes=1)
        observe(inbox, clock, 1200 + minute * 40)
        await radar.run_once()
    assert [e.thread_id for e in announced] == ["demo:1", "demo:1"]


@pytest.mark.asyncio
async def test_a_nudge_runs_a_pass_and_the_loop_survives_stop(world):
    clock, inbox, writer = world
    sleeps: list[float] = []
    release = asyncio.Event()

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if seconds >= 60:
            await release.wait()  # the minute never passes unless a nudge comes

    radar = RadarService(writer, sleep=sleep, settle=0.0)
    announced = []
    radar.on_escalation.append(announced.append)
    radar.start()
    await asyncio.sleep(0.05)
    observe(inbox, clock, 0)
    clock.now += timedelta(minutes=10)
    observe(inbox, clock, 900)
    radar.nudge(ChangeSet(frozenset({"demo:1"})))
    for _ in range(100):
        if announced:
            break
        await asyncio.sleep(0.01)
    await radar.stop()
    assert [e.thread_id for e in announced] == ["demo:1"]
    assert 60.0 in sleeps  # between passes it waits a minute, not a busy loop
