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

from console.domain import Account, Batch, Post, ThreadStatus, influence_breakdown, iso_utc, utc_now
from console.store.database import open_database
from console.store.errors import translate_sqlite_error

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What a write changed, so the UI refreshes only what it shows."""

    thread_ids: frozenset[str] = frozenset()
    new_posts: int = 0
    account_id: str | None = None


_UPSERT_AUTHOR = """
INSERT INTO authors (id, network, handle, display_name, followers_count, following_count, posts_count, url,
                     observed_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET
    handle = excluded.handle, display_name = excluded.display_name, followers_count = excluded.followers_count,
    following_count = excluded.following_count, posts_count = excluded.posts_count, url = excluded.url,
    observed_at = excluded.observed_at
WHERE excluded.observed_at >= authors.observed_at
"""

# The WHERE clause is what keeps counts moving forward in time: an older observation of a post never replaces a
# newer one, whichever order pages arrive in.
_UPSERT_POST = """
INSERT INTO posts (id, network, account_id, thread_id, parent_id, author_id, url, text, created_at, observed_at,
                   reshare_count, quote_count, like_count, reply_count, visibility, direction, attachments,
                   edited_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET
    text = excluded.text, url = excluded.url, observed_at = excluded.observed_at,
    reshare_count = excluded.reshare_count, quote_count = excluded.quote_count, like_count = excluded.like_count,
    reply_count = excluded.reply_count, visibility = excluded.visibility, attachments = excluded.attachments,
    edited_at = excluded.edited_at
WHERE excluded.observed_at > posts.observed_at
"""

# Recompute the denormalised thread row from its posts. A done or snoozed thread reopens when a customer post newer
# than any it had before arrives.
_REFRESH_THREADS = """
WITH touched(id) AS (SELECT value FROM json_each(:ids)),
agg AS (
    SELECT p.thread_id AS id,
           max(p.created_at) AS last_activity_at,
           max(CASE WHEN p.direction = 'in' THEN p.created_at END) AS last_in_at,
           max(CASE WHEN p.direction = 'out' THEN p.created_at END) AS last_out_at,
           count(*) AS post_count,
           sum(p.reshare_count + p.quote_count) AS reshare_total
    FROM touched JOIN posts p ON p.thread_id = touched.id
    GROUP BY p.thread_id
)
INSERT INTO threads (id, account_id, network, root_post_id, status, status_changed_at, last_activity_at,
                     needs_reply, last_in_at, last_out_at, last_in_post_id, waiting_since, post_count, reshare_total)
SELECT agg.id,
       (SELECT account_id FROM posts WHERE thread_id = agg.id ORDER BY created_at LIMIT 1),
       (SELECT network FROM posts WHERE thread_id = agg.id LIMIT 1),
       agg.id,
       'open',
       :now,
       agg.last_activity_at,
       agg.last_in_at IS NOT NULL AND (agg.last_out_at IS NULL OR agg.last_in_at > agg.last_out_at),
       agg.last_in_at,
       agg.last_out_at,
       (SELECT id FROM posts WHERE thread_id = agg.id AND direction = 'in' ORDER BY created_at DESC LIMIT 1),
       (SELECT min(created_at) FROM posts
         WHERE thread_id = agg.id AND direction = 'in' AND created_at > coalesce(agg.last_out_at, '')),
       agg.post_count,
       agg.reshare_total
FROM agg WHERE true
ON CONFLICT(id) DO UPDATE SET
    last_activity_at = excluded.last_activity_at,
    needs_reply = excluded.needs_reply,
    last_out_at = excluded.last_out_at,
    last_in_post_id = excluded.last_in_post_id,
    waiting_since = excluded.waiting_since,
    post_count = excluded.post_count,
    reshare_total = excluded.reshare_total,
    status = CASE WHEN threads.status != 'open' AND excluded.last_in_at > coalesce(threads.last_in_at, '')
                  THEN 'open' ELSE threads.status END,
    snooze_until = CASE WHEN threads.status != 'open' AND excluded.last_in_at > coalesce(threads.last_in_at, '')
                  THEN NULL ELSE threads.snooze_until END,
    status_changed_at = CASE WHEN threads.status != 'open'
                              AND excluded.last_in_at > coalesce(threads.last_in_at, '')
                  THEN excluded.status_changed_at ELSE threads.status_changed_at END,
    last_in_at = excluded.last_in_at
"""

# Engagement moves by exactly what this batch changed: the customer-post counts of its posts after the write minus
# before (a post's author and direction never change on upsert, so the difference belongs to one author).
_ENGAGEMENT_OF_POSTS = """
SELECT author_id, sum(reshare_count + quote_count + like_count) FROM posts
WHERE id IN (SELECT value FROM json_each(?)) AND direction = 'in'
GROUP BY author_id
"""

_ADD_ENGAGEMENT = """
UPDATE authors SET engagement = engagement + delta.value
FROM json_each(?) AS delta
WHERE authors.id = delta.key
"""

_RESUM_ENGAGEMENT = """
UPDATE authors SET
    engagement = coalesce((SELECT sum(reshare_count + quote_count + like_count) FROM posts
                           WHERE posts.author_id = authors.id AND posts.direction = 'in'), 0)
WHERE id IN (SELECT value FROM json_each(?))
"""

_REFRESH_INFLUENCE_IF_CHANGED = """
UPDATE authors SET influence = tend_influence(followers_count, following_count, posts_count, engagement)
WHERE id IN (SELECT value FROM json_each(?))
  AND influence != tend_influence(followers_count, following_count, posts_count, engagement)
"""

_REFRESH_INFLUENCE = """
UPDATE authors SET influence = tend_influence(followers_count, following_count, posts_count, engagement)
WHERE id IN (SELECT value FROM json_each(?))
"""


# A thread's first response: the first business post after the first customer post. Set once (a reply later
# undone is the one exception, see ``outbox.undo``), from a reply sent by Tend or one seen on the network.
_RECORD_FIRST_RESPONSE = """
UPDATE threads SET first_response_at = (
    SELECT min(o.created_at) FROM posts o
    WHERE o.thread_id = threads.id AND o.direction = 'out'
      AND o.created_at > (SELECT min(i.created_at) FROM posts i WHERE i.thread_id = threads.id AND i.direction = 'in'))
WHERE id IN (SELECT value FROM json_each(?)) AND first_response_at IS NULL
"""


def refresh_threads(conn: sqlite3.Connection, thread_ids: frozenset[str] | set[str], now: str) -> None:
    """Recompute the derived columns of these threads from their posts (inside the caller's transaction)."""
    ids = json.dumps(sorted(thread_ids))
    conn.execute(_REFRESH_THREADS, {"ids": ids, "now": now})
    conn.execute(_RECORD_FIRST_RESPONSE, (ids,))


def _attachments_json(post: Post) -> str:
    if not post.attachments:
        return "[]"
    return json.dumps(
        [{"kind": a.kind, "url": a.url, "description": a.description} for a in post.attachments], ensure_ascii=False
    )


def _influence_sql(followers: int, following: int, posts: int, engagement: int) -> int:
    return influence_breakdown(followers, following, posts, engagement).score


class Inbox:
    """A connection to one inbox file with the operations Tend performs on it."""

    def __init__(self, db: sqlite_utils.Database, path: Path, clock: Clock = utc_now) -> None:
        self.db = db
        self.path = path
        self._clock = clock
        db.conn.create_function("tend_influence", 4, _influence_sql, deterministic=True)

    @classmethod
    def open(cls, path: Path | str, clock: Clock = utc_now) -> Inbox:
        path = Path(path)
        return cls(open_database(path), path, clock)

    def close(self) -> None:
        self.db.close()

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

    def write_records(self, db: sqlite_utils.Database, batch: Batch, now: str) -> frozenset[str]:
        """Store a batch's authors and posts inside an open transaction, exactly as ``apply_batch`` does."""
        return self._write_records(db, batch, now)

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
        """Forget an account; with ``keep_history`` it is archived (no longer synced) and its threads stay readable."""
        with self._writing() as db:
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
            db.execute(_RESUM_ENGAGEMENT, (authors,))
            db.execute(_REFRESH_INFLUENCE, (authors,))

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

    def apply_batch(self, batch: Batch) -> ChangeSet:
        """Store one connector page and move its cursor, all or nothing."""
        now = iso_utc(self._clock())
        with self._writing() as db:
            new_posts = self._count_unknown_posts(db, batch)
            changes = self._write_records(db, batch, now)
            if batch.cursor is not None:
                db.execute(
                    """INSERT INTO sync_cursors (account_id, stream, cursor, updated_at) VALUES (?, ?, ?, ?)
                       ON CONFLICT(account_id, stream) DO UPDATE SET cursor = excluded.cursor,
                                                                     updated_at = excluded.updated_at""",
                    (batch.account_id, batch.stream, batch.cursor, now),
                )
        return ChangeSet(changes, new_posts, batch.account_id)

    @staticmethod
    def _count_unknown_posts(db: sqlite_utils.Database, batch: Batch) -> int:
        ids = {p.id for p in batch.posts}
        if not ids:
            return 0
        known = db.execute(
            "SELECT count(*) FROM posts WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),)
        ).fetchone()[0]
        return len(ids) - known

    def _write_records(self, db: sqlite_utils.Database, batch: Batch, now: str) -> frozenset[str]:
        conn = db.conn
        if batch.authors:
            conn.executemany(
                _UPSERT_AUTHOR,
                [
                    (a.id, a.network, a.handle, a.display_name, a.followers_count, a.following_count,
                     a.posts_count, a.url, a.observed_at or now)
                    for a in batch.authors
                ],
            )
        deleted = self._mark_deleted(conn, batch.deleted_post_ids, now)
        if not batch.posts:
            author_ids = json.dumps([a.id for a in batch.authors])
            conn.execute(_REFRESH_INFLUENCE, (author_ids,))
            return deleted
        post_ids = json.dumps([p.id for p in batch.posts])
        before = dict(conn.execute(_ENGAGEMENT_OF_POSTS, (post_ids,)).fetchall())
        conn.executemany(
            _UPSERT_POST,
            [
                (p.id, p.network, p.account_id, p.thread_id, p.parent_id, p.author_id, p.url, p.text, p.created_at,
                 p.observed_at or now, p.reshare_count, p.quote_count, p.like_count, p.reply_count,
                 str(p.visibility), str(p.direction), _attachments_json(p), p.edited_at)
                for p in batch.posts
            ],
        )
        thread_ids = frozenset(p.thread_id for p in batch.posts)
        refresh_threads(conn, thread_ids, now)
        after = conn.execute(_ENGAGEMENT_OF_POSTS, (post_ids,)).fetchall()
        deltas = {author: total - before.get(author, 0) for author, total in after}
        deltas = {author: delta for author, delta in deltas.items() if delta}
        if deltas:
            conn.execute(_ADD_ENGAGEMENT, (json.dumps(deltas),))
        author_ids = {p.author_id for p in batch.posts} | {a.id for a in batch.authors}
        conn.execute(_REFRESH_INFLUENCE_IF_CHANGED, (json.dumps(sorted(author_ids)),))
        return thread_ids | deleted

    @staticmethod
    def _mark_deleted(conn: sqlite3.Connection, post_ids: tuple[str, ...], now: str) -> frozenset[str]:
        """Keep deleted posts (the owner may need the history) but mark them; returns the threads touched."""
        if not post_ids:
            return frozenset()
        ids = json.dumps(list(post_ids))
        rows = conn.execute(
            "SELECT DISTINCT thread_id FROM posts WHERE id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL",
            (ids,),
        ).fetchall()
        conn.execute(
            "UPDATE posts SET deleted_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL",
            (now, ids),
        )
        return frozenset(r[0] for r in rows)

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
