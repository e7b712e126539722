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
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import sqlite_utils

from console.domain import (
    Account,
    Batch,
    Direction,
    Post,
    ThreadStatus,
    influence_breakdown,
    iso_utc,
    parse_iso,
    utc_now,
)
from console.domain.hours import BusinessHours
from console.domain.priority import priority_key
from console.store.database import check_inbox_file, open_database
from console.store.errors import translate_sqlite_error
from console.store.lock import InboxLock, acquire_inbox_lock

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
# newer one, whichever order pages arrive in. ``source`` is set on insert only: a later copy from a brand watch
# never demotes a mention, and a mention's promotion (``_PROMOTE_TO_MENTION``) must not wait for a newer observation.
_UPSERT_POST = """
INSERT INTO posts (id, network, account_id, thread_id, parent_id, author_id, url, text, created_at, observed_at,
                   reshare_count, quote_count, like_count, reply_count, visibility, direction, attachments,
                   edited_at, source)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET
    text = excluded.text, url = excluded.url, observed_at = excluded.observed_at,
    reshare_count = excluded.reshare_count, quote_count = excluded.quote_count, like_count = excluded.like_count,
    reply_count = excluded.reply_count, visibility = excluded.visibility, attachments = excluded.attachments,
    edited_at = excluded.edited_at
WHERE excluded.observed_at > posts.observed_at
"""

# De-duplication against mentions: a post a brand watch found first and a mention stream delivered since is a
# mention (whichever copy is newer). Only posts still marked 'watch' are touched.
_PROMOTE_TO_MENTION = """
UPDATE posts SET source = 'mention' WHERE source = 'watch' AND id IN (SELECT value FROM json_each(?))
"""

# Posts a brand watch must not bring in: the business's own, and those of people the owner muted.
_MUTED_AUTHORS = """
SELECT author_id FROM author_notes WHERE muted = 1 AND author_id IN (SELECT value FROM json_each(?))
"""

# A re-read of stored threads is no evidence of a mention: a post it finds for the first time takes the source of
# its thread (a watch's thread stays unmentioned until a mention stream says otherwise).
_UNMENTIONED_OF = """
SELECT id FROM threads WHERE unmentioned = 1 AND id IN (SELECT value FROM json_each(?))
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
           sum(p.reshare_count + p.quote_count) AS reshare_total,
           -- unmentioned: customer posts exist and none came from a mention stream (the business's own replies
           -- say nothing about whether the customer tagged it)
           coalesce(min(CASE WHEN p.direction = 'in' THEN p.source = 'watch' END), 0) AS unmentioned
    FROM touched JOIN posts p ON p.thread_id = touched.id
    GROUP BY p.thread_id
)
INSERT INTO threads (id, account_id, network, root_post_id, status, status_changed_at, last_activity_at,
                     needs_reply, last_in_at, last_out_at, last_in_post_id, waiting_since, post_count, reshare_total,
                     unmentioned)
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
       agg.reshare_total,
       agg.unmentioned
FROM agg WHERE true
ON CONFLICT(id) DO UPDATE SET
    last_activity_at = excluded.last_activity_at,
    needs_reply = excluded.needs_reply,
    last_out_at = excluded.last_out_at,
    last_in_post_id = excluded.last_in_post_id,
    waiting_since = excluded.waiting_since,
    post_count = excluded.post_count,
    reshare_total = excluded.reshare_total,
    unmentioned = excluded.unmentioned,
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
UPDATE authors SET influence = tend_influence(followers_count, following_count, posts_count, engagement,
                                              amplification)
WHERE id IN (SELECT value FROM json_each(?))
  AND influence != tend_influence(followers_count, following_count, posts_count, engagement, amplification)
"""

_REFRESH_INFLUENCE = """
UPDATE authors SET influence = tend_influence(followers_count, following_count, posts_count, engagement,
                                              amplification)
WHERE id IN (SELECT value FROM json_each(?))
"""

# Who reshared what: the first sighting wins (a reshare happens once; a later page saying the same adds nothing).
_INSERT_RESHARE = """
INSERT INTO reshares (post_id, author_id, reshared_at, observed_at) VALUES (?, ?, ?, ?)
ON CONFLICT(post_id, author_id) DO NOTHING
"""

# An author's amplification: the audiences of everyone who reshared their posts about the business, each person
# once, themselves excluded. Recomputed only for the authors whose posts gained a named resharer.
_REFRESH_AMPLIFICATION = """
UPDATE authors SET amplification = coalesce((
    SELECT sum(followers_count) FROM authors r WHERE r.id IN (
        SELECT rs.author_id FROM posts p JOIN reshares rs ON rs.post_id = p.id
        WHERE p.author_id = authors.id AND p.direction = 'in' AND rs.author_id != authors.id)), 0)
WHERE id IN (SELECT DISTINCT p.author_id FROM posts p
             WHERE p.id IN (SELECT value FROM json_each(?)) AND p.direction = 'in')
RETURNING id
"""

# Threads waiting for a reply whose latest customer post is by one of these authors.
_WAITING_ON = """
SELECT t.id FROM posts p JOIN threads t ON t.last_in_post_id = p.id
WHERE p.author_id IN (SELECT value FROM json_each(?)) AND p.direction = 'in' AND t.needs_reply = 1
"""

# Where a thread waiting for a reply ranks (console/domain/priority.py). Threads not waiting have no key.
_REFRESH_PRIORITY = """
UPDATE threads SET priority_key = CASE WHEN threads.needs_reply
    THEN tend_priority(threads.account_id, threads.waiting_since, threads.heat, coalesce(a.influence, 0),
                       coalesce(n.vip, 0), threads.escalating_since IS NOT NULL) END
FROM (SELECT t.id AS thread_id, p.author_id AS author_id FROM threads t LEFT JOIN posts p ON p.id = t.last_in_post_id
      WHERE t.id IN (SELECT value FROM json_each(?))) AS latest
LEFT JOIN authors a ON a.id = latest.author_id
LEFT JOIN author_notes n ON n.author_id = latest.author_id
WHERE threads.id = latest.thread_id
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


def refresh_threads(
    conn: sqlite3.Connection, thread_ids: frozenset[str] | set[str], now: str, *, rank: bool = True
) -> None:
    """Recompute the derived columns of these threads from their posts (inside the caller's transaction).

    ``rank=False`` leaves the priority to the caller, who re-ranks once influence has been brought up to date.
    """
    ids = json.dumps(sorted(thread_ids))
    conn.execute(_REFRESH_THREADS, {"ids": ids, "now": now})
    conn.execute(_RECORD_FIRST_RESPONSE, (ids,))
    if rank:
        conn.execute(_REFRESH_PRIORITY, (ids,))


def refresh_priority(conn: sqlite3.Connection, thread_ids: frozenset[str] | set[str]) -> None:
    """Re-rank these threads (their heat, their customer's influence or VIP flag, or business hours changed)."""
    conn.execute(_REFRESH_PRIORITY, (json.dumps(sorted(thread_ids)),))


def _attachments_json(post: Post) -> str:
    if not post.attachments:
        return "[]"
    return json.dumps(
        [{"kind": a.kind, "url": a.url, "description": a.description} for a in post.attachments], ensure_ascii=False
    )


def _influence_sql(followers: int, following: int, posts: int, engagement: int, amplification: int) -> int:
    return influence_breakdown(followers, following, posts, engagement, amplification).score


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
        db.conn.create_function("tend_influence", 5, _influence_sql, deterministic=True)
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
        """Store a batch's authors and posts inside an open transaction, exactly as ``apply_batch`` does."""
        return self._write_records(db, self._admit(db, batch), now, reread=reread)

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

    def apply_batch(self, batch: Batch, *, reread: bool = False) -> ChangeSet:
        """Store one connector page and move its cursor, all or nothing.

        ``batch.source`` says how its posts reached the business: ``"mention"`` (the default) or ``"watch"`` (a
        brand-watch search; the business's own posts and muted people's are left out). ``reread`` marks a re-read
        of stored threads (``SyncEngine`` refreshing open threads): it is no evidence that anyone mentioned the
        business, so it promotes nothing to a mention and its new posts take their thread's source.
        """
        now = iso_utc(self._clock())
        with self._writing() as db:
            batch = self._admit(db, batch)
            new_posts = self._count_unknown_posts(db, batch)
            changes = self._write_records(db, batch, now, reread=reread)
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

    @staticmethod
    def _admit(db: sqlite_utils.Database, batch: Batch) -> Batch:
        """The batch as it may be stored: a brand watch never brings in the business's own posts or muted people's
        (noise the owner asked to leave out). Mention batches pass untouched, at no cost."""
        if batch.source == "mention":
            return batch
        if batch.source != "watch":
            raise ValueError(f"unknown batch source {batch.source!r} (expected 'mention' or 'watch')")
        if not batch.posts:
            return batch
        authors = json.dumps(sorted({p.author_id for p in batch.posts}))
        muted = {row[0] for row in db.execute(_MUTED_AUTHORS, (authors,)).fetchall()}
        kept = tuple(p for p in batch.posts if p.direction != Direction.OUT and p.author_id not in muted)
        return batch if len(kept) == len(batch.posts) else replace(batch, posts=kept)

    def _write_records(
        self, db: sqlite_utils.Database, batch: Batch, now: str, *, reread: bool = False
    ) -> frozenset[str]:
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
            amplified = self._write_reshares(conn, batch, now)
            # Fresh profiles may have moved someone's influence: re-rank the threads waiting on them.
            waiting = {row[0] for row in conn.execute(_WAITING_ON, (author_ids,)).fetchall()}
            refresh_priority(conn, amplified | waiting)
            return deleted | amplified | waiting
        post_ids = json.dumps([p.id for p in batch.posts])
        thread_ids = frozenset(p.thread_id for p in batch.posts)
        before = dict(conn.execute(_ENGAGEMENT_OF_POSTS, (post_ids,)).fetchall())
        source = batch.source
        watched: frozenset[str] = frozenset()
        if reread:
            rows = conn.execute(_UNMENTIONED_OF, (json.dumps(sorted(thread_ids)),)).fetchall()
            watched = frozenset(row[0] for row in rows)
        conn.executemany(
            _UPSERT_POST,
            [
                (p.id, p.network, p.account_id, p.thread_id, p.parent_id, p.author_id, p.url, p.text, p.created_at,
                 p.observed_at or now, p.reshare_count, p.quote_count, p.like_count, p.reply_count,
                 str(p.visibility), str(p.direction), _attachments_json(p), p.edited_at,
                 "watch" if p.thread_id in watched else source)
                for p in batch.posts
            ],
        )
        if source == "mention" and not reread:
            conn.execute(_PROMOTE_TO_MENTION, (post_ids,))
        refresh_threads(conn, thread_ids, now, rank=False)
        after = conn.execute(_ENGAGEMENT_OF_POSTS, (post_ids,)).fetchall()
        deltas = {author: total - before.get(author, 0) for author, total in after}
        deltas = {author: delta for author, delta in deltas.items() if delta}
        if deltas:
            conn.execute(_ADD_ENGAGEMENT, (json.dumps(deltas),))
        author_ids = {p.author_id for p in batch.posts} | {a.id for a in batch.authors}
        conn.execute(_REFRESH_INFLUENCE_IF_CHANGED, (json.dumps(sorted(author_ids)),))
        touched = thread_ids | deleted | self._write_reshares(conn, batch, now)
        refresh_priority(conn, touched)
        return touched

    @staticmethod
    def _write_reshares(conn: sqlite3.Connection, batch: Batch, now: str) -> frozenset[str]:
        """Record who reshared stored posts (a reshare of a post not in the inbox is not ours to keep) and refresh
        the amplification and influence of the authors they amplified; returns the threads touched."""
        if not batch.reshares:
            return frozenset()
        post_ids = json.dumps(sorted({r.post_id for r in batch.reshares}))
        known = {row[0]: row[1] for row in conn.execute(
            "SELECT id, thread_id FROM posts WHERE id IN (SELECT value FROM json_each(?))", (post_ids,)).fetchall()}
        rows = [(r.post_id, r.author_id, r.reshared_at or now, now) for r in batch.reshares if r.post_id in known]
        if not rows:
            return frozenset()
        conn.executemany(_INSERT_RESHARE, rows)
        amplified = [row[0] for row in conn.execute(_REFRESH_AMPLIFICATION, (post_ids,)).fetchall()]
        conn.execute(_REFRESH_INFLUENCE, (json.dumps(amplified),))
        return frozenset(known[row[0]] for row in rows)

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
