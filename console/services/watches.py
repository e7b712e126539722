"""The owner's brand watch, edited from the watch dialog and the author panel, written on the writer thread.

Saving needs no call into the sync engine: the engine reads the watch on every pass and searches at once when the
terms changed (``SyncEngine``), and the store forgets the old searches' cursors in the same transaction.
Announcements follow ``PeopleService``: ``on_changes`` names the threads to refresh (a muted person's), ``on_saved``
hands listeners the watch as stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from console.domain.watches import BrandWatch
from console.services.writer import StoreWriter
from console.store import ChangeSet
from console.store.watches import brand_watch, save_brand_watch, set_author_muted


class WatchService:
    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer
        self.on_changes: list[Callable[[ChangeSet], None]] = []
        self.on_saved: list[Callable[[BrandWatch], None]] = []

    async def current(self) -> BrandWatch:
        return await self._writer.call(brand_watch)

    async def save(self, terms: Iterable[str], exclude: Iterable[str]) -> BrandWatch:
        """Replace the watch's words; returns the watch as stored (cleaned of blanks and repeats)."""
        await self._writer.call(save_brand_watch, list(terms), list(exclude))
        watch = await self._writer.call(brand_watch)
        for listener in self.on_saved:
            listener(watch)
        self._announce(ChangeSet())
        return watch

    async def set_muted(self, author_id: str, muted: bool) -> ChangeSet:
        """Leave this person out of brand watches (or bring them back)."""
        return self._announce(await self._writer.call(set_author_muted, author_id, muted))

    def _announce(self, changes: ChangeSet) -> ChangeSet:
        for listener in self.on_changes:
            listener(changes)
        return changes
