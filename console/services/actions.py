"""Owner actions on the inbox (done, reopen, snooze), run on the writer thread and announced like sync changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from console.domain import ThreadStatus
from console.services.writer import StoreWriter
from console.store import ChangeSet, Inbox


class InboxActions:
    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer
        self.on_changes: list[Callable[[ChangeSet], None]] = []

    async def mark_done(self, thread_id: str) -> None:
        await self._set(thread_id, ThreadStatus.DONE)

    async def reopen(self, thread_id: str) -> None:
        await self._set(thread_id, ThreadStatus.OPEN)

    async def snooze(self, thread_id: str, until: datetime) -> None:
        await self._set(thread_id, ThreadStatus.SNOOZED, until)

    async def _set(self, thread_id: str, status: ThreadStatus, until: datetime | None = None) -> None:
        changes = await self._writer.call(Inbox.set_thread_status, thread_id, status, until)
        for listener in self.on_changes:
            listener(changes)
