"""The sync engine: runs every connector concurrently on the asyncio (qasync) loop and writes what they fetch.

Each page a connector yields is written in one transaction together with its cursor before the next page is asked
for, so a failure at any point loses nothing that was already fetched and never moves a cursor past unsaved data.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Protocol

from console.connectors import AuthExpired, Connector, ConnectorError
from console.domain import iso_utc, utc_now
from console.domain.watches import WATCH_STREAM, BrandWatch
from console.services.writer import StoreWriter
from console.store import ChangeSet, Inbox, InboxError
from console.store.watches import brand_watch as stored_brand_watch

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

NETWORK_NAMES = {"mastodon": "Mastodon", "bluesky": "Bluesky", "x": "X", "feed": "Feed"}


class SyncState(StrEnum):
    IDLE = "idle"
    SYNCING = "syncing"
    OK = "ok"
    ERROR = "error"
    NEEDS_RECONNECT = "needs_reconnect"


@dataclass(frozen=True, slots=True)
class AccountStatus:
    """What the status bar shows for one account."""

    account_id: str
    label: str
    state: SyncState
    message: str = ""
    new_posts: int = 0
    at: datetime | None = None


@dataclass(slots=True)
class SyncResult:
    account_id: str
    new_posts: int = 0
    pages: int = 0
    error: str | None = None
    retry_after: float | None = None
    changed_threads: set[str] = field(default_factory=set)
    watch_posts: int = 0  # new posts found by the brand watch (not counted in ``new_posts``)
    watch_error: str | None = None  # what is wrong with the brand watch (the account's sync still succeeded)


class DueSender(Protocol):
    """What the engine needs from the outbox (``console.services.outbox.OutboxService``)."""

    async def send_due(self) -> object: ...


def account_label(connector: Connector) -> str:
    network = NETWORK_NAMES.get(connector.account.network, connector.account.network)
    return f"{network} {connector.account.handle}"


class SyncEngine:
    """Schedules connectors, stores their pages through the writer and reports changes and status."""

    def __init__(
        self,
        writer: StoreWriter,
        connectors: Sequence[Connector],
        *,
        interval: float = 60.0,
        clock: Callable[[], datetime] = utc_now,
        sleep: Sleep = asyncio.sleep,
        max_backoff: float = 900.0,
        refresh_per_pass: int = 20,
        refresh_every: timedelta = timedelta(minutes=5),
        refresh_window_days: int = 7,
        outbox: DueSender | None = None,
        outbox_interval: float = 1.0,
        watch_every: timedelta = timedelta(minutes=5),
        brand_watch: Callable[[Inbox], BrandWatch] = stored_brand_watch,
        jitter: Callable[[], float] = lambda: random.uniform(0.0, 0.1),
    ) -> None:
        self._writer = writer
        self._connectors = list(connectors)
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._max_backoff = max_backoff
        self._jitter = jitter
        self._failures: dict[str, int] = {}
        self._refresh_per_pass = refresh_per_pass
        self._refresh_every = refresh_every
        self._refresh_window_days = refresh_window_days
        self._refreshed_at: dict[str, dict[str, datetime]] = {}
        # Brand watches: searches cost rate budget (X's recent search most of all), so each account searches at
        # most every ``watch_every``, and at once when the owner changes the terms.
        self._watch_every = watch_every
        self._brand_watch = brand_watch
        self._watch_due: dict[str, datetime] = {}
        self._watched_terms: dict[str, tuple[str, ...]] = {}
        self._watch_problem: dict[str, str] = {}  # shown in the account's status until a run succeeds
        self._stop = asyncio.Event()
        self._wake: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._account_tasks: dict[str, list[asyncio.Task[None]]] = {}
        self._running = False
        # Set before ``start`` (the outbox needs ``connector_for``, so it is often built after the engine).
        self.outbox = outbox
        self._outbox_interval = outbox_interval
        self.on_changes: list[Callable[[ChangeSet], None]] = []
        self.on_status: list[Callable[[AccountStatus], None]] = []
        self.statuses: dict[str, AccountStatus] = {}

    # -- one pass --------------------------------------------------------------------------------------------------

    async def sync_account(self, connector: Connector) -> SyncResult:
        """Fetch and store everything new for one account; errors become a result, never an exception."""
        account = connector.account
        result = SyncResult(account.id)
        self._publish_status(connector, SyncState.SYNCING, "Checking for new messages…")
        try:
            for stream in connector.streams:
                cursor = await self._writer.call(Inbox.cursor, account.id, stream)
                async for batch in connector.fetch_since(stream, cursor):
                    changes = await self._writer.call(Inbox.apply_batch, batch)
                    result.pages += 1
                    result.new_posts += changes.new_posts
                    result.changed_threads |= changes.thread_ids
                    if changes.thread_ids:
                        self._publish_changes(changes)
            await self._refresh_open_threads(connector, result)
            result.watch_error = await self._run_brand_watch(connector, result)
        except AuthExpired as error:
            result.error = str(error)
            await self._writer.call(Inbox.set_needs_reconnect, account.id, True)
            self._publish_status(connector, SyncState.NEEDS_RECONNECT, str(error))
        except (ConnectorError, InboxError) as error:
            result.error = str(error)
            if isinstance(error, ConnectorError):
                result.retry_after = error.retry_after
            self._publish_status(connector, SyncState.ERROR, str(error))
        except Exception:  # a bug: keep the other accounts running and tell the owner where to look
            log.exception("unexpected error while syncing %s", account.id)
            result.error = f"Tend hit an unexpected problem while syncing {account_label(connector)}; details are in the log."
            self._publish_status(connector, SyncState.ERROR, result.error)
        else:
            message = f"{result.new_posts} new" if result.new_posts else "Up to date"
            for limitation in ("chat_unavailable", "conversations_unavailable"):
                if getattr(connector, limitation, ""):  # what the network's access plan does not allow
                    message += f". {getattr(connector, limitation)}"
            if result.watch_posts:
                message += f"; {result.watch_posts} found by brand watch"
            if result.watch_error:
                message += f". brand watch: {result.watch_error}"
            reads_left = getattr(connector, "reads_left_text", None)
            if reads_left is not None:  # networks that cap reads per month (X): how much is left
                message += f". {reads_left()}"
            self._publish_status(connector, SyncState.OK, message, result.new_posts)
        self._failures[account.id] = self._failures.get(account.id, 0) + 1 if result.error else 0
        return result

    async def _refresh_open_threads(self, connector: Connector, result: SyncResult) -> None:
        """Re-read recently active open threads, the least recently read first.

        Networks notify the business only about some activity: a boost of a customer's post, a customer replying to
        another customer, an edit or a deletion often arrive without a notification. Reading the conversations the
        owner is still working on keeps their counts and replies true. Bounded per pass, least recently read first,
        so the network's rate budget is respected.
        """
        refresh = getattr(connector, "refresh_thread", None)
        if refresh is None:
            return
        now = self._clock()
        refreshed = self._refreshed_at.setdefault(connector.account.id, {})
        since = iso_utc(now - timedelta(days=self._refresh_window_days))
        candidates = await self._writer.call(Inbox.open_threads_since, connector.account.id, since)
        # A network whose reads are scarce (X counts every post read against a monthly cap) asks for a longer gap.
        every = max(self._refresh_every, getattr(connector, "refresh_every", self._refresh_every))
        due = [
            (thread_id, post_ids)
            for thread_id, post_ids in candidates
            if now - refreshed.get(thread_id, datetime.min.replace(tzinfo=timezone.utc)) >= every
        ]
        due.sort(key=lambda item: refreshed.get(item[0], datetime.min.replace(tzinfo=timezone.utc)))
        for thread_id, post_ids in due[: self._refresh_per_pass]:
            batch = await refresh(thread_id, post_ids)
            # A re-read, not a mention: a brand watch's thread stays unmentioned (``Inbox.apply_batch``).
            changes = await self._writer.call(Inbox.apply_batch, batch, reread=True)
            refreshed[thread_id] = now
            result.new_posts += changes.new_posts
            result.changed_threads |= changes.thread_ids
            if changes.thread_ids:
                self._publish_changes(changes)

    async def _run_brand_watch(self, connector: Connector, result: SyncResult) -> str | None:
        """Search the account's network for the owner's brand words when due; returns what is wrong with the watch,
        if anything (the last run's failure, or queries the server refused), until a later run says otherwise.

        A watch is an extra: its failure (a search API down, its own rate limit) is reported but never fails the
        account's sync, so mentions keep flowing and the backoff of mentions is not driven by searches. The watch is
        read from the store each pass (one small query), so new terms are searched on the next pass without waiting
        out ``watch_every``.
        """
        account_id = connector.account.id
        fetch_watch = getattr(connector, "fetch_watch", None)
        if fetch_watch is None:
            return None
        now = self._clock()
        try:
            watch = await self._writer.call(self._brand_watch)
            if not watch.active:
                self._watch_problem.pop(account_id, None)
                return None
            due = self._watch_due.get(account_id)
            if due is not None and now < due and self._watched_terms.get(account_id) == watch.terms:
                return self._watch_problem.get(account_id)
            self._watch_due[account_id] = now + self._watch_every
            self._watched_terms[account_id] = watch.terms
            cursor = await self._writer.call(Inbox.cursor, account_id, WATCH_STREAM)
            async for batch in fetch_watch(watch, cursor):
                if batch.source != "watch" or batch.stream != WATCH_STREAM:
                    # Whatever the connector says, a search result is never a mention and its cursor is the watch's.
                    batch = replace(batch, source="watch", stream=WATCH_STREAM)
                changes = await self._writer.call(Inbox.apply_batch, batch)
                result.pages += 1
                result.watch_posts += changes.new_posts
                result.changed_threads |= changes.thread_ids
                if changes.thread_ids:
                    self._publish_changes(changes)
            # Some queries the server would not run (no search scope, search off): said, not failed.
            problem = str(getattr(connector, "watch_unavailable", "") or "") or None
        except ConnectorError as error:
            if error.retry_after:  # the search's own rate limit: wait it out, not just the usual interval
                later = now + timedelta(seconds=error.retry_after)
                self._watch_due[account_id] = max(self._watch_due.get(account_id, later), later)
            log.info("brand watch of %s failed: %s", account_id, error)
            problem = str(error)
        except InboxError as error:
            problem = str(error)
        except Exception:  # a bug in a connector's search must not stop the account's mentions
            log.exception("unexpected error in the brand watch of %s", account_id)
            problem = "Tend hit an unexpected problem; details are in the log."
        if problem is None:
            self._watch_problem.pop(account_id, None)
        else:
            self._watch_problem[account_id] = problem
        return problem

    async def sync_once(self) -> list[SyncResult]:
        """Sync every account once, concurrently; then bring back snoozed threads whose time has come."""
        results = await asyncio.gather(*(self.sync_account(c) for c in self._connectors))
        await self.wake_snoozed()
        return list(results)

    async def wake_snoozed(self) -> None:
        try:
            changes = await self._writer.call(Inbox.wake_snoozed)
        except InboxError as error:
            log.warning("could not wake snoozed threads: %s", error)
            return
        if changes.thread_ids:
            self._publish_changes(changes)

    # -- forever ---------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start one polling task per account on the running loop."""
        self._stop.clear()
        self._running = True
        self._tasks = []
        for connector in self._connectors:
            self._start_account(connector)
        if self.outbox is not None:
            self._tasks.append(asyncio.ensure_future(self._send_outbox(self.outbox)))

    def _start_account(self, connector: Connector) -> None:
        tasks = [asyncio.ensure_future(self._poll(connector))]
        if hasattr(connector, "watch"):
            tasks.append(asyncio.ensure_future(self._watch(connector)))
        self._account_tasks[connector.account.id] = tasks
        self._tasks += tasks

    def connector_for(self, account_id: str) -> Connector | None:
        """The connector syncing this account, if any: the outbox sends through it."""
        return next((c for c in self._connectors if c.account.id == account_id), None)

    @property
    def account_ids(self) -> list[str]:
        return [c.account.id for c in self._connectors]

    def add_connector(self, connector: Connector) -> None:
        """Sync one more account (just added by the owner); polling starts at once if the engine is running."""
        if connector.account.id in self.account_ids:
            raise ValueError(f"{connector.account.id} is already being synced")
        self._connectors.append(connector)
        if self._running:
            self._start_account(connector)

    async def remove_account(self, account_id: str) -> None:
        """Stop syncing an account and close its connector; a write already handed to the writer completes."""
        leaving = [c for c in self._connectors if c.account.id == account_id]
        self._connectors = [c for c in self._connectors if c.account.id != account_id]
        tasks = self._account_tasks.pop(account_id, [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks = [t for t in self._tasks if t not in tasks]
        for connector in leaving:
            await self._close(connector)
        self._wake.pop(account_id, None)
        self._failures.pop(account_id, None)
        self.statuses.pop(account_id, None)
        for schedule in (self._watch_due, self._watched_terms, self._watch_problem):
            schedule.pop(account_id, None)

    def wake(self, account_id: str) -> None:
        """Sync this account now instead of at its next interval (a stream said something new arrived)."""
        self._wake.setdefault(account_id, asyncio.Event()).set()

    async def stop(self) -> None:
        """Stop polling; a write already handed to the writer still completes."""
        self._stop.set()
        self._running = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._account_tasks = {}
        for connector in self._connectors:
            await self._close(connector)

    @staticmethod
    async def _close(connector: Connector) -> None:
        try:
            await connector.aclose()
        except Exception:
            log.exception("closing %s", connector.account.id)

    def next_delay(self, result: SyncResult, connector: Connector | None = None) -> float:
        """Wait the normal interval after success (longer when the network's rate budget runs low); after failures
        back off exponentially, honouring the server."""
        if result.error is None:
            budget = getattr(connector, "suggested_delay", None)
            return max(self._interval, budget(self._interval)) if budget is not None else self._interval
        failures = self._failures.get(result.account_id, 1)
        backoff = min(self._max_backoff, self._interval * (2 ** min(failures - 1, 10)))
        # Jitter: accounts that failed together (the network went away) do not all come back in the same second.
        backoff *= 1.0 + self._jitter()
        return max(backoff, result.retry_after or 0.0)

    async def _poll(self, connector: Connector) -> None:
        wake = self._wake.setdefault(connector.account.id, asyncio.Event())
        while not self._stop.is_set():
            wake.clear()
            result = await self.sync_account(connector)
            await self.wake_snoozed()
            delay = self.next_delay(result, connector)
            if result.error is not None:
                await self._sleep(delay)  # after a failure a stream event must not cut the backoff short
                continue
            sleeper = asyncio.ensure_future(self._sleep(delay))
            woken = asyncio.ensure_future(wake.wait())
            try:
                await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                woken.cancel()

    async def _send_outbox(self, outbox: DueSender) -> None:
        """Hand due replies to their networks every ``outbox_interval`` seconds; one failure never stops it."""
        while not self._stop.is_set():
            try:
                await outbox.send_due()
            except InboxError as error:
                log.warning("could not send queued replies: %s", error)
            except Exception:
                log.exception("sending queued replies failed")
            await self._sleep(self._outbox_interval)

    async def _watch(self, connector: Connector) -> None:
        """Follow a connector's live stream, if it has one; polling carries on alone while the stream is down."""
        failures = 0
        while not self._stop.is_set():
            try:
                async for _event in connector.watch():  # type: ignore[attr-defined]
                    failures = 0
                    self.wake(connector.account.id)
            except ConnectorError as error:
                log.info("live stream of %s dropped: %s", connector.account.id, error)
            except Exception:
                log.exception("live stream of %s failed", connector.account.id)
            failures += 1
            await self._sleep(min(self._max_backoff, 5.0 * 2 ** min(failures, 8)))

    # -- publishing ------------------------------------------------------------------------------------------------

    def _publish_changes(self, changes: ChangeSet) -> None:
        for listener in self.on_changes:
            listener(changes)

    def _publish_status(self, connector: Connector, state: SyncState, message: str, new_posts: int = 0) -> None:
        status = AccountStatus(connector.account.id, account_label(connector), state, message, new_posts, self._clock())
        self.statuses[status.account_id] = status
        for listener in self.on_status:
            listener(status)


__all__ = ["AccountStatus", "SyncEngine", "SyncResult", "SyncState"]
