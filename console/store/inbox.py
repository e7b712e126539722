"""The inbox: the only place that writes SQL.

One ``Inbox`` per connection. The app keeps one for the sync writer (used from a single worker thread, so the Qt
thread never waits on a write) and one read-only for the Qt models.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlite_utils

from console.domain import Account, Batch, ThreadStatus, iso_utc, parse_iso, utc_now
from console.domain.hours import BusinessHours
from console.domain.priority import priority_key
from console.store.database import check_inbox_file, open_database, synchronous_full
from console.store.errors import translate_sqlite_error
from console.store.ingest import (
    REFRESH_INFLUENCE, RESUM_ENGAGEMENT, admit, influence_sql, rerank_waiting_on, write_page,
)
from console.store.lock import InboxLock, acquire_inbox_lock
from console.store.thread_rows import refresh_priority, refresh_threads

# ``refresh_threads`` is re-exported: the store's other modules recompute the threads whose posts they change.
__all__ = ["ChangeSet", "Clock", "Inbox", "refresh_priority", "refresh_threads"]

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What a write changed, so the UI refreshes only what it shows."""

    thread_ids: frozenset[str] = frozenset()
    new_posts: int = 0
    account_id: str | None = None


def _load_business_hours(db: sqlite_utils.Database) -> dict[str, BusinessHours]:
    """Each account's business hours; settings that cannot be read count as "no hours" (the settings dialog says
    what is wrong with them, ranking must not fail over it)."""
    hours = {}
    try:
        rows = db.execute("SELECT account_id, business_hours FROM account_settings WHERE business_hours IS NOT NULL")
    except sqlite3.OperationalError:  # an inbox not yet migrated to v4
        return {}
    for account_id, text in rows.fetchall():
        try:
            hours[account_id] = BusinessHours.from_dict(json.loads(text))
        except (ValueError, TypeError):
            continue
    return hours


class Inbox:
    """A connection to one inbox file with the operations Tend performs on it."""

    def __init__(self, db: sqlite_utils.Database, path: Path, clock: Clock = utc_now) -> None:
        self.db = db
        self.path = path
        self._clock = clock
        self._lock: InboxLock | None = None  # only the writer opened by ``open`` holds one
        self._business_hours = _load_business_hours(db)
        db.conn.create_function("tend_influence", 5, influence_sql, deterministic=True)
        db.conn.create_function("tend_priority", 6, self._priority_sql, deterministic=True)

    def _priority_sql(
        self, account_id: str, waiting_since: str | None, heat: int, influence: int, vip: int, escalating: int
    ) -> float | None:
        if not waiting_since:
            return None
        waiting = parse_iso(waiting_since)
        hours = self._business_hours.get(account_id)
        opening = hours.next_opening(waiting) if hours is not None else None
        return priority_key(
            waiting, heat=heat, influence=influence, vip=bool(vip), opening=opening, escalating=bool(escalating)
        )

    def reload_business_hours(self) -> None:
        """Business hours changed: rank every waiting thread again (waiting counts from the opening)."""
        self._business_hours = _load_business_hours(self.db)
        with self._writing() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM threads WHERE needs_reply = 1").fetchall()]
            refresh_priority(db.conn, set(ids))

    @classmethod
    def open(cls, path: Path | str, clock: Clock = utc_now, *, lock: bool = True) -> Inbox:
        """Open the inbox for writing. ``lock`` claims it for this process first (``console.store.lock``): a second
        Tend gets ``InboxLocked`` instead of sending the same replies or migrating the same file at the same time."""
        path = Path(path)
        if not lock:
            return cls(open_database(path), path, clock)
        check_inbox_file(path)  # refuse someone else's file before leaving a lock file next to it
        held = acquire_inbox_lock(path)
        try:
            inbox = cls(open_database(path), path, clock)
        except BaseException:
            held.release()
            raise
        inbox._lock = held
        return inbox

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            if self._lock is not None:
                self._lock.release()

    def clock(self) -> datetime:
        """The inbox's notion of now (injected in tests, so spread and cool-offs run on a fake clock)."""
        return self._clock()

    @contextmanager
    def _writing(self) -> Iterator[sqlite_utils.Database]:
        """One transaction; SQLite errors the owner can act on come out as ``InboxError``."""
        try:
            with self.db.atomic() as db:
                yield db
        except sqlite3.Error as error:
            translated = translate_sqlite_error(error, str(self.path))
            if translated is error:
                raise
            raise translated from error

    def transaction(self) -> contextlib.AbstractContextManager[sqlite_utils.Database]:
        """The same all-or-nothing write, for the store's other modules (``console.store.outbox``)."""
        return self._writing()

    def write_records(
        self, db: sqlite_utils.Database, batch: Batch, now: str, *, reread: bool = False
    ) -> frozenset[str]:
        """Store a batch's authors and posts inside an open transaction, as ``apply_batch`` does. The caller may
        have removed or rewritten posts in the same transaction (``outbox.mark_sent``), so the threads are
        recomputed from their posts rather than moved by the batch's changes."""
        batch = admit(db.conn, batch)
        return write_page(db.conn, batch, now, reread=reread, trust_threads=False)[0]

    # -- accounts and cursors -------------------------------------------------------------------------------------

    def ensure_account(self, account: Account) -> None:
        """Add an account, or update its details (a reconnect clears ``needs_reconnect``)."""
        with self._writing() as db:
            db.execute(
                """INSERT INTO accounts (id, network, handle, server_url, display_name, created_at, remote_id,
                                         char_limit, needs_reconnect)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(id) DO UPDATE SET handle = excluded.handle, server_url = excluded.server_url,
                       display_name = excluded.display_name, remote_id = excluded.remote_id,
                       char_limit = excluded.char_limit, needs_reconnect = excluded.needs_reconnect,
                       archived_at = NULL""",
                (account.id, account.network, account.handle, account.server_url, account.display_name,
                 iso_utc(self._clock()), account.remote_id, account.char_limit, int(account.needs_reconnect)),
            )

    def accounts(self) -> list[Account]:
        rows = self.db.execute(
            """SELECT id, network, handle, server_url, display_name, remote_id, char_limit, needs_reconnect
               FROM accounts WHERE archived_at IS NULL ORDER BY id"""
        )
        return [Account(*row[:7], needs_reconnect=bool(row[7])) for row in rows.fetchall()]

    def set_needs_reconnect(self, account_id: str, needs: bool) -> None:
        with self._writing() as db:
            db.execute("UPDATE accounts SET needs_reconnect = ? WHERE id = ?", (int(needs), account_id))

    def remove_account(self, account_id: str, *, keep_history: bool) -> None:
        """Forget an account; with ``keep_history`` it is archived (no longer synced) and its threads stay readable.
        Durable like the outbox's own changes (its replies go with it): a power cut must not bring back a removed
        account with a reply that was being sent, to be sent again."""
        with synchronous_full(self.db.conn), self._writing() as db:
            db.execute("DELETE FROM sync_cursors WHERE account_id = ?", (account_id,))
            if keep_history:
                db.execute(
                    "UPDATE accounts SET archived_at = ? WHERE id = ?", (iso_utc(self._clock()), account_id)
                )
                return
            db.execute(
                """DELETE FROM count_samples WHERE post_id IN (SELECT id FROM posts WHERE account_id = ?)""",
                (account_id,),
            )
            authors = db.execute(
                "SELECT json_group_array(DISTINCT author_id) FROM posts WHERE account_id = ?", (account_id,)
            ).fetchone()[0]
            db.execute("DELETE FROM threads WHERE account_id = ?", (account_id,))
            db.execute("DELETE FROM posts WHERE account_id = ?", (account_id,))
            db.execute("DELETE FROM accounts WHERE id = ?", (account_id,))
            # Engagement is kept up by differences on ingest; after deleting posts, re-sum it for their authors.
            db.execute(RESUM_ENGAGEMENT, (authors,))
            db.execute(REFRESH_INFLUENCE, (authors,))
            # Their threads with the other accounts rank by that influence too.
            rerank_waiting_on(db.conn, authors)

    def cursor(self, account_id: str, stream: str) -> str | None:
        row = self.db.execute(
            "SELECT cursor FROM sync_cursors WHERE account_id = ? AND stream = ?", (account_id, stream)
        ).fetchone()
        return row[0] if row else None

    def open_threads_since(self, account_id: str, since: str) -> list[tuple[str, list[str]]]:
        """Open threads of an account active since ``since``, newest first, with the ids of the posts they hold."""
        rows = self.db.execute(
            """SELECT t.id, json_group_array(p.id) FROM threads t JOIN posts p ON p.thread_id = t.id
               WHERE t.account_id = ? AND t.status = 'open' AND t.last_activity_at >= ?
               GROUP BY t.id ORDER BY t.last_activity_at DESC""",
            (account_id, since),
        ).fetchall()
        return [(thread_id, json.loads(ids)) for thread_id, ids in rows]

    # -- ingest ----------------------------------------------------------------------------------------------------

    def apply_batch(self, batch: Batch, *, reread: bool = False) -> ChangeSet:
        """Store one connector page and move its cursor, all or nothing.

        ``batch.source`` says how its posts reached the business: ``"mention"`` (the default) or ``"watch"`` (a
        brand-watch search; the business's own posts and muted people's are left out). ``reread`` marks a re-read
        of stored threads (``SyncEngine`` refreshing open threads): it is no evidence that anyone mentioned the
        business, so it promotes nothing to a mention and its new posts take their thread's source.
        """
        now = iso_utc(self._clock())
        with self._writing() as db:
            batch = admit(db.conn, batch)
            changes, new_posts = write_page(db.conn, batch, now, reread=reread)
            if batch.cursor is not None:
                db.execute(
                    """INSERT INTO sync_cursors (account_id, stream, cursor, updated_at) VALUES (?, ?, ?, ?)
                       ON CONFLICT(account_id, stream) DO UPDATE SET cursor = excluded.cursor,
                                                                     updated_at = excluded.updated_at""",
                    (batch.account_id, batch.stream, batch.cursor, now),
                )
        return ChangeSet(changes, new_posts, batch.account_id)

    # -- owner actions ---------------------------------------------------------------------------------------------

    def set_thread_status(self, thread_id: str, status: ThreadStatus, snooze_until: datetime | None = None) -> ChangeSet:
        """Mark a thread done, reopen it, or snooze it until a moment (which must be given for snoozing)."""
        if status is ThreadStatus.SNOOZED and snooze_until is None:
            raise ValueError("snoozing needs a time to come back")
        until = iso_utc(snooze_until) if status is ThreadStatus.SNOOZED and snooze_until else None
        with self._writing() as db:
            db.execute(
                "UPDATE threads SET status = ?, snooze_until = ?, status_changed_at = ? WHERE id = ?",
                (str(status), until, iso_utc(self._clock()), thread_id),
            )
        return ChangeSet(frozenset({thread_id}))

    def wake_snoozed(self) -> ChangeSet:
        """Bring back every snoozed thread whose time has come."""
        now = iso_utc(self._clock())
        with self._writing() as db:
            rows = db.execute(
                "SELECT id FROM threads WHERE status = 'snoozed' AND snooze_until <= ?", (now,)
            ).fetchall()
            ids = [r[0] for r in rows]
            if ids:
                db.execute(
                    """UPDATE threads SET status = 'open', snooze_until = NULL, status_changed_at = ?
                       WHERE id IN (SELECT value FROM json_each(?))""",
                    (now, json.dumps(ids)),
                )
        return ChangeSet(frozenset(ids))
