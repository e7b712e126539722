"""The derived thread row (activity, who is waiting, counts, first response, priority), kept in step with the posts.

Two ways to bring a thread row up to date, with identical results:

- ``refresh_threads`` recomputes the row from every post of the thread. It is the definition, and what any writer
  that removed or rewrote posts in its own way must call (``console.store.outbox``).
- ``advance_threads`` moves a stored row by what one ingest page changed (``console.store.ingest``), and starts the
  row of a thread the page brought in whole. New posts can only raise the maxima and add to the counts, and a
  post's thread, direction and creation time never change on upsert. Recomputing a 500-post thread for every page
  that adds one reply read all of its posts again, most of them long out of the page cache on a large inbox; the
  delta reads none of them. The two columns that name the post holding an extreme (``last_in_post_id``,
  ``waiting_since``) are still asked of ``posts_by_thread`` the way the full recompute asks, so ties between posts
  created at the same moment resolve identically. ``tests/store/test_ingest_deltas.py`` checks that both agree.

Split from inbox.py so that it stays about the inbox's operations, not the arithmetic of its derived columns.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

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

# A thread's first response: the first business post after the first customer post. Set once (a reply later
# undone is the one exception, see ``outbox.undo``), from a reply sent by Tend or one seen on the network.
_FIRST_RESPONSE = """(
    SELECT min(o.created_at) FROM posts o
    WHERE o.thread_id = {thread} AND o.direction = 'out'
      AND o.created_at > (SELECT min(i.created_at) FROM posts i WHERE i.thread_id = {thread} AND i.direction = 'in'))"""

_RECORD_FIRST_RESPONSE = f"""
UPDATE threads SET first_response_at = {_FIRST_RESPONSE.format(thread="threads.id")}
WHERE id IN (SELECT value FROM json_each(?)) AND first_response_at IS NULL
"""

_STORED_THREADS = """
SELECT id, last_activity_at, last_in_at, last_out_at, post_count, reshare_total, unmentioned FROM threads
WHERE id IN (SELECT value FROM json_each(?))
"""

# How many posts each thread holds (``posts_by_thread`` alone): a thread without a row may be computed from the batch
# only if the batch inserted every one of its posts.
_POST_COUNTS = """
SELECT thread_id, count(*) FROM posts WHERE thread_id IN (SELECT value FROM json_each(?)) GROUP BY thread_id
"""

# The two columns naming which post holds an extreme are asked of ``posts_by_thread`` exactly as
# ``_REFRESH_THREADS`` asks, so that ties between posts created at the same moment resolve the same way.
_LAST_IN_POST = """(SELECT id FROM posts WHERE thread_id = :id AND direction = 'in' ORDER BY created_at DESC LIMIT 1)"""
_WAITING_SINCE = """(SELECT min(created_at) FROM posts
                     WHERE thread_id = :id AND direction = 'in' AND created_at > coalesce(:last_out_at, ''))"""

# ``_REFRESH_THREADS``'s update, with the aggregates worked out from the stored row and the batch (every column on
# the right-hand side is the row's value before this update, as in the upsert), and the first response folded in.
_ADVANCE_THREAD = f"""
UPDATE threads SET
    last_activity_at = :last_activity_at,
    needs_reply = :needs_reply,
    last_out_at = :last_out_at,
    last_in_post_id = {_LAST_IN_POST},
    waiting_since = {_WAITING_SINCE},
    post_count = :post_count,
    reshare_total = :reshare_total,
    unmentioned = :unmentioned,
    status = CASE WHEN status != 'open' AND :last_in_at > coalesce(last_in_at, '') THEN 'open' ELSE status END,
    snooze_until = CASE WHEN status != 'open' AND :last_in_at > coalesce(last_in_at, '')
                   THEN NULL ELSE snooze_until END,
    status_changed_at = CASE WHEN status != 'open' AND :last_in_at > coalesce(last_in_at, '')
                        THEN :now ELSE status_changed_at END,
    last_in_at = :last_in_at,
    first_response_at = coalesce(first_response_at, {_FIRST_RESPONSE.format(thread=":id")})
WHERE id = :id
"""

# ``_REFRESH_THREADS``'s insert for a thread whose posts all came with this batch (one account, one network).
_START_THREAD = f"""
INSERT INTO threads (id, account_id, network, root_post_id, status, status_changed_at, last_activity_at,
                     needs_reply, last_in_at, last_out_at, last_in_post_id, waiting_since, post_count, reshare_total,
                     unmentioned, first_response_at)
VALUES (:id, :account_id, :network, :id, 'open', :now, :last_activity_at, :needs_reply, :last_in_at, :last_out_at,
        {_LAST_IN_POST}, {_WAITING_SINCE}, :post_count, :reshare_total, :unmentioned,
        {_FIRST_RESPONSE.format(thread=":id")})
"""

# Where a thread waiting for a reply ranks (console/domain/priority.py). Threads not waiting have no key (and a
# thread that already has none is not rewritten).
_REFRESH_PRIORITY = """
UPDATE threads SET priority_key = CASE WHEN threads.needs_reply
    THEN tend_priority(threads.account_id, threads.waiting_since, threads.heat, coalesce(a.influence, 0),
                       coalesce(n.vip, 0), threads.escalating_since IS NOT NULL) END
FROM (SELECT t.id AS thread_id, p.author_id AS author_id FROM threads t LEFT JOIN posts p ON p.id = t.last_in_post_id
      WHERE t.id IN (SELECT value FROM json_each(?))) AS latest
LEFT JOIN authors a ON a.id = latest.author_id
LEFT JOIN author_notes n ON n.author_id = latest.author_id
WHERE threads.id = latest.thread_id AND (threads.needs_reply OR threads.priority_key IS NOT NULL)
"""


def refresh_threads(
    conn: sqlite3.Connection, thread_ids: Iterable[str], now: str, *, rank: bool = True
) -> None:
    """Recompute the derived columns of these threads from their posts (inside the caller's transaction).

    ``rank=False`` leaves the priority to the caller, who re-ranks once influence has been brought up to date.
    """
    ids = json.dumps(sorted(thread_ids))
    conn.execute(_REFRESH_THREADS, {"ids": ids, "now": now})
    conn.execute(_RECORD_FIRST_RESPONSE, (ids,))
    if rank:
        conn.execute(_REFRESH_PRIORITY, (ids,))


def refresh_priority(conn: sqlite3.Connection, thread_ids: Iterable[str]) -> None:
    """Re-rank these threads (their heat, their customer's influence or VIP flag, or business hours changed)."""
    conn.execute(_REFRESH_PRIORITY, (json.dumps(sorted(thread_ids)),))


@dataclass(slots=True)
class ThreadDelta:
    """What one batch did to a thread's posts: the posts it inserted, and the count changes of all its posts.

    ``watch_only`` is the batch's part of the ``unmentioned`` minimum: 0 once one of its customer posts in this
    thread is (now) from a mention stream, 1 otherwise (also when it has none, the minimum's neutral value).
    ``account_id`` and ``network`` are those of the inserted posts while they agree, ``None`` once they do not.
    """

    inserted: int = 0
    last_in_at: str | None = None  # newest inserted customer post
    last_out_at: str | None = None  # newest inserted business post
    reshare_change: int = 0
    watch_only: int = 1
    account_id: str | None = None
    network: str | None = None

    def add_inserted(self, created_at: str, incoming: bool, account_id: str, network: str) -> None:
        if self.inserted == 0:
            self.account_id, self.network = account_id, network
        elif (account_id, network) != (self.account_id, self.network):
            self.account_id = self.network = None
        self.inserted += 1
        if incoming:
            if self.last_in_at is None or created_at > self.last_in_at:
                self.last_in_at = created_at
        elif self.last_out_at is None or created_at > self.last_out_at:
            self.last_out_at = created_at


# A thread without a row, as ``advance_threads`` merges into it: no posts, no customer posts to take a minimum over.
_EMPTY_ROW = (None, None, None, 0, 0, 1)


def _latest(*moments: str | None) -> str | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def _advanced(thread_id: str, row: tuple, delta: ThreadDelta, now: str) -> dict[str, object]:
    """The thread's aggregates once the batch's changes are added to its stored ones (``row``, or ``_EMPTY_ROW``)."""
    activity, last_in, last_out, post_count, reshare_total, unmentioned = row
    new_in = _latest(last_in, delta.last_in_at)
    new_out = _latest(last_out, delta.last_out_at)
    # The minimum over the thread's customer posts; a thread that had none contributes the neutral 1.
    stored_part = unmentioned if last_in is not None else 1
    return {
        "id": thread_id,
        "now": now,
        "account_id": delta.account_id,
        "network": delta.network,
        "last_activity_at": _latest(activity, delta.last_in_at, delta.last_out_at),
        "needs_reply": new_in is not None and (new_out is None or new_in > new_out),
        "last_in_at": new_in,
        "last_out_at": new_out,
        "post_count": post_count + delta.inserted,
        "reshare_total": reshare_total + delta.reshare_change,
        "unmentioned": min(stored_part, delta.watch_only) if new_in is not None else 0,
    }


def advance_threads(conn: sqlite3.Connection, deltas: dict[str, ThreadDelta], now: str) -> None:
    """Bring these threads up to date with what a batch changed (inside its transaction, after its posts).

    A thread without a row starts from the batch's posts when they are all of its posts; otherwise (posts left
    without a thread, or posts of several accounts, where "the earliest post's account" needs them all) it is
    computed from its posts as ``refresh_threads`` does.
    """
    if not deltas:
        return
    stored = {row[0]: row[1:] for row in conn.execute(_STORED_THREADS, (json.dumps(sorted(deltas)),)).fetchall()}
    if stored:
        conn.executemany(_ADVANCE_THREAD, [_advanced(t, row, deltas[t], now) for t, row in stored.items()])
    missing = sorted(set(deltas) - set(stored))
    if not missing:
        return
    counts = dict(conn.execute(_POST_COUNTS, (json.dumps(missing),)).fetchall())
    fresh = [t for t in missing if deltas[t].account_id is not None and counts.get(t) == deltas[t].inserted]
    if fresh:
        conn.executemany(_START_THREAD, [_advanced(t, _EMPTY_ROW, deltas[t], now) for t in fresh])
    if len(fresh) < len(missing):
        refresh_threads(conn, set(missing) - set(fresh), now, rank=False)
