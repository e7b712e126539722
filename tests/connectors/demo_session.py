"""The embedded demo network driven the way the sync engine drives it, by a hand-advanced clock (nothing sleeps)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from console.connectors.demo import DemoConnector, DemoNetwork
from console.domain import Batch, Post

EPOCH = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)
TICK = 3.0


class FakeClock:
    def __init__(self, start: datetime = EPOCH) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def collect(connector: DemoConnector, cursor: str | None) -> list[Batch]:
    return [batch async for batch in connector.fetch_since("activity", cursor)]


class Session:
    """Three demo connectors synced the way the sync engine does: each keeps its own cursor. ``fetch`` is what one
    connector is asked from a cursor (its activity stream here)."""

    def __init__(self, seed: int = 7, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.network = DemoNetwork(seed=seed, clock=self.clock, tick_seconds=TICK)
        self.connectors = self.network.connectors()
        self.cursors: dict[str, str | None] = {c.account.id: None for c in self.connectors}

    async def fetch(self, connector: DemoConnector, cursor: str | None) -> list[Batch]:
        return await collect(connector, cursor)

    async def sync(self) -> list[Batch]:
        batches = []
        for connector in self.connectors:
            for batch in await self.fetch(connector, self.cursors[connector.account.id]):
                batches.append(batch)
                if batch.cursor is not None:
                    self.cursors[connector.account.id] = batch.cursor
        return batches

    async def run(self, ticks: int) -> list[list[Batch]]:
        """Backfill, then one sync per tick; returns the batches of each sync."""
        rounds = [await self.sync()]
        for _ in range(ticks):
            self.clock.advance(TICK)
            rounds.append(await self.sync())
        return rounds


def posts_of(batches: list[Batch]) -> list[Post]:
    return [post for batch in batches for post in batch.posts]
