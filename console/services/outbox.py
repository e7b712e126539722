"""Sending replies through the undo-send outbox: queue, undo, retry, and the sends themselves.

Writes run on the writer thread (``StoreWriter``); the network call runs on the asyncio loop. A reply is claimed
(``sending``) before the network is asked and marked ``sent`` or ``failed`` after, so a crash in between leaves it
``sending`` for ``recover`` to resume with the same idempotency key. Those commits are fsync'd before the call
returns (``console.store.outbox``), so a power cut does the same.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from console.connectors import Connector, ConnectorError, OutgoingReply
from console.domain import Visibility, utc_now
from console.services.writer import StoreWriter
from console.store import ChangeSet
from console.store import outbox as store
from console.store import reply_settings
from console.store.outbox import EventKind, NewReply, OutboxItem, OutboxState, StoredDraft
from console.store.reply_settings import AccountSettings

log = logging.getLogger(__name__)

ConnectorFor = Callable[[str], Connector | None]

UNEXPECTED = "Tend hit an unexpected problem while sending this reply; it was kept, details are in the log."
NOT_CONNECTED = "This account is not connected right now, so the reply was kept. Reconnect it, then press Retry."


class OutboxService:
    """What the composer and the thread view call to send; the sync engine calls ``send_due`` every second."""

    def __init__(
        self,
        writer: StoreWriter,
        connector_for: ConnectorFor,
        clock: Callable[[], datetime] = utc_now,
        undo_window: timedelta = timedelta(seconds=20),
    ) -> None:
        self._writer = writer
        self._connector_for = connector_for
        self._clock = clock
        self.undo_window = undo_window
        self._sending = asyncio.Lock()
        self.on_changes: list[Callable[[ChangeSet], None]] = []

    # -- the owner's actions ---------------------------------------------------------------------------------------

    async def queue(
        self,
        in_reply_to_id: str,
        text: str,
        visibility: Visibility = Visibility.PUBLIC,
        *,
        not_before: datetime | None = None,
    ) -> OutboxItem:
        """Put a reply in the outbox; it is sent once the account's undo window has passed (or at ``not_before``,
        for example the next opening time, if that is later)."""
        now = self._clock()
        window = await self._undo_window_for_post(in_reply_to_id)
        send_after = now + window
        if not_before is not None and not_before > send_after:
            send_after = not_before
        item, changes = await self._writer.call(
            store.enqueue, NewReply(in_reply_to_id, text, visibility), now=now, send_after=send_after
        )
        self._publish(changes)
        return item

    async def undo(self, outbox_id: str) -> OutboxItem:
        """Take a reply back (waiting, held or failed); its words go back to the thread's draft."""
        return await self._act(store.undo, outbox_id)

    async def retry(self, outbox_id: str) -> OutboxItem:
        """Send a failed reply again now, with the same idempotency key."""
        return await self._act(store.retry, outbox_id)

    async def release(self, outbox_id: str) -> OutboxItem:
        """Send a held reply (or one still in its undo window) now."""
        return await self._act(store.release, outbox_id)

    async def recover(self) -> list[OutboxItem]:
        """Run once at startup, before sending starts; returns the held replies to show the owner."""
        held, changes = await self._writer.call(store.recover, now=self._clock())
        self._publish(changes)
        return held

    async def items_for_thread(self, thread_id: str) -> list[OutboxItem]:
        return await self._writer.call(store.items_for_thread, thread_id)

    async def needing_attention(self) -> list[OutboxItem]:
        """Held and failed replies: each waits for the owner."""
        return await self._writer.call(store.items_in_states, OutboxState.HELD, OutboxState.FAILED)

    async def save_draft(
        self, thread_id: str, account_id: str, text: str, visibility: Visibility, *, held_since: datetime | None = None
    ) -> None:
        await self._writer.call(store.save_draft, thread_id, account_id, text, visibility, now=self._clock(),
                                held_since=held_since)

    async def load_draft(self, thread_id: str) -> StoredDraft | None:
        return await self._writer.call(store.load_draft, thread_id)

    async def record_cooloff_override(self, thread_id: str, detail: dict[str, object]) -> None:
        changes = await self._writer.call(
            store.record_event, thread_id, EventKind.COOLOFF_OVERRIDE, dict(detail), now=self._clock()
        )
        self._publish(changes)

    async def account_settings(self, account_id: str) -> AccountSettings:
        return await self._writer.call(reply_settings.account_settings, account_id)

    async def save_account_settings(self, settings: AccountSettings) -> None:
        await self._writer.call(reply_settings.save_account_settings, settings)

    # -- sending ---------------------------------------------------------------------------------------------------

    async def send_due(self) -> list[OutboxItem]:
        """Send every reply whose time has come; returns them as they ended (sent or failed)."""
        async with self._sending:
            claimed = await self._writer.call(store.claim_due, now=self._clock())
            return [await self._send(item) for item in claimed]

    async def _send(self, item: OutboxItem) -> OutboxItem:
        connector = self._connector_for(item.account_id)
        if connector is None:
            return await self._fail(item, NOT_CONNECTED)
        try:
            parent = await self._writer.call(store.load_post, item.in_reply_to_id)
            reply = OutgoingReply(parent, item.text, item.visibility, item.idempotency_key)
            post = await connector.send_reply(reply)
        except ConnectorError as error:
            log.info("sending %s failed: %s (%s)", item.id, error, error.detail)
            return await self._fail(item, str(error))
        except Exception:  # a bug: keep the reply, tell the owner in plain words, keep the details for the log
            log.exception("unexpected error while sending %s", item.id)
            return await self._fail(item, UNEXPECTED)
        sent, changes = await self._writer.call(store.mark_sent, item.id, post, now=self._clock())
        self._publish(changes)
        return sent

    async def _fail(self, item: OutboxItem, reason: str) -> OutboxItem:
        failed, changes = await self._writer.call(store.mark_failed, item.id, reason, now=self._clock())
        self._publish(changes)
        return failed

    # -- helpers ---------------------------------------------------------------------------------------------------

    async def _undo_window_for_post(self, post_id: str) -> timedelta:
        account_id = await self._writer.call(store.account_of_post, post_id)
        if account_id is None:
            return self.undo_window
        settings = await self._writer.call(reply_settings.account_settings, account_id)
        return timedelta(seconds=settings.undo_s) if settings.undo_s is not None else self.undo_window

    async def _act(self, action: Callable[..., tuple[OutboxItem, ChangeSet]], outbox_id: str) -> OutboxItem:
        item, changes = await self._writer.call(action, outbox_id, now=self._clock())
        self._publish(changes)
        return item

    def _publish(self, changes: ChangeSet) -> None:
        if not changes.thread_ids:
            return
        for listener in self.on_changes:
            listener(changes)


__all__ = ["OutboxService"]
