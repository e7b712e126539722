"""The escalation radar: keeps every moving thread's heat current and says when one starts escalating.

Heat depends on time (reshares "in the last hour" fall away by themselves), so the radar runs after sync passes
that changed something and once a minute regardless. The heavy part runs on the writer thread; the loop itself only
waits. Each escalation is announced once: the store marks the thread ``escalating_since`` in the same transaction
that detected the crossing, so neither another pass nor a restart announces it again until it has cooled off.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

from console.domain.spread import DEFAULT_THRESHOLD
from console.replies.tone import compound_score
from console.services.writer import StoreWriter
from console.store import ChangeSet, InboxError
from console.store.spread import Escalation, SpreadUpdate, update_spread

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@functools.lru_cache(maxsize=4096)
def _negativity_of(text: str) -> float:
    return max(0.0, -compound_score(text))


def customer_negativity(texts: Sequence[str]) -> float:
    """How upset the customer sounds (0..1): the most negative of their latest posts by VADER's compound score.

    The strongest recent words count, not the average: "Still nothing. Worst birthday ever." after a polite first
    message is what the audience reads.
    """
    return max((_negativity_of(text) for text in texts), default=0.0)


class RadarService:
    """Runs ``update_spread`` on the writer and tells listeners about changed threads and new escalations."""

    def __init__(
        self,
        writer: StoreWriter,
        *,
        threshold: int = DEFAULT_THRESHOLD,
        interval: float = 60.0,
        settle: float = 1.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._writer = writer
        self.threshold = threshold
        self._interval = interval
        self._settle = settle
        self._sleep = sleep
        self._pending: set[str] = set()
        self._nudged = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.on_changes: list[Callable[[ChangeSet], None]] = []
        self.on_escalation: list[Callable[[Escalation], None]] = []

    async def run_once(self, thread_ids: Iterable[str] = ()) -> SpreadUpdate:
        """One radar pass; failures to write are logged and reported as "nothing changed"."""
        try:
            update = await self._writer.call(
                update_spread, customer_negativity, threshold=self.threshold, thread_ids=tuple(thread_ids)
            )
        except InboxError as error:
            log.warning("could not update the escalation radar: %s", error)
            return SpreadUpdate(ChangeSet())
        if update.changes.thread_ids:
            for listener in self.on_changes:
                listener(update.changes)
        for escalation in update.escalations:
            log.info("thread %s started escalating (heat %d)", escalation.thread_id, escalation.heat)
            for announce in self.on_escalation:
                announce(escalation)
        return update

    def nudge(self, changes: ChangeSet) -> None:
        """New data arrived (an engine ``on_changes`` listener): look at these threads soon."""
        self._pending |= changes.thread_ids
        self._nudged.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                pending, self._pending = self._pending, set()
                self._nudged.clear()
                await self.run_once(pending)
            except Exception:  # a bug must not stop the radar for the rest of the session
                log.exception("escalation radar pass failed")
            await self._wait_for_work()

    async def _wait_for_work(self) -> None:
        """Until the next minute or a nudge; after a nudge, a moment more so a burst of pages is one pass."""
        sleeper = asyncio.ensure_future(self._sleep(self._interval))
        nudged = asyncio.ensure_future(self._nudged.wait())
        try:
            await asyncio.wait({sleeper, nudged}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            nudged.cancel()
        if self._nudged.is_set():
            await self._sleep(self._settle)
