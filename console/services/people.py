"""The owner's notes and VIP flags on people, written on the writer thread and announced like any other change.

Kept apart from ``InboxActions`` because these act on a person, not a thread; the announcement still names the
person's threads, so the thread list (VIP marker, priority) and any open thread view refresh themselves.
Note text is private: it is never logged here, not even when a write fails.
"""

from __future__ import annotations

from collections.abc import Callable

from console.services.writer import StoreWriter
from console.store import ChangeSet
from console.store.people import set_author_note, set_author_vip


class PeopleService:
    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer
        self.on_changes: list[Callable[[ChangeSet], None]] = []

    async def set_note(self, author_id: str, note: str) -> ChangeSet:
        """Replace the owner's note on this person."""
        return self._announce(await self._writer.call(set_author_note, author_id, note))

    async def set_vip(self, author_id: str, vip: bool) -> ChangeSet:
        """Flag or unflag this person as a VIP (their waiting threads are re-ranked)."""
        return self._announce(await self._writer.call(set_author_vip, author_id, vip))

    def _announce(self, changes: ChangeSet) -> ChangeSet:
        for listener in self.on_changes:
            listener(changes)
        return changes
