"""Writing one connector page: authors, posts, reshares and deletions, and every derived column they move.

The page is written with a fixed number of set-based statements whatever its size. What it changed is worked out
in Python from one read of the page's posts as they were stored before (``_KNOWN_POSTS``) and the upsert's own
rule (a copy replaces the stored counts only when observed later), rather than by asking SQLite again afterwards:
which posts are new, how each customer's engagement moved, what each thread gained (``console.store.thread_rows``),
and whether any post needs promoting to a mention. A page of new posts, the usual case, then costs its inserts plus
index seeks; nothing re-reads the older posts of the threads it touches. The one exception is a customer whose
influence the page moved: their other threads waiting for a reply rank by it too, and are found from their customer
posts (``_WAITING_ON_MOVED``), one index range per such customer.

Split from inbox.py, which keeps the inbox's operations (accounts, cursors, owner actions) and calls ``write_page``.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, replace

from console.domain import Batch, Direction, Post, influence_breakdown
from console.store.thread_rows import ThreadDelta, advance_threads, refresh_priority, refresh_threads

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

# ``_UPSERT_AUTHOR`` with the page's engagement change (?10) and the influence that follows, in one write: a profile
# observed earlier than the stored one changes nothing but engagement and influence; influence is rewritten only
# where it moves. The same result as the upsert followed by ``_ADD_ENGAGEMENT_AND_RATE``, one seek and write fewer.
_UPSERT_AUTHOR_RATED = """
INSERT INTO authors (id, network, handle, display_name, followers_count, following_count, posts_count, url,
                     observed_at, engagement, influence)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, tend_influence(?5, ?6, ?7, ?10, 0))
ON CONFLICT(id) DO UPDATE SET
    handle = iif(?9 >= observed_at, ?3, handle),
    display_name = iif(?9 >= observed_at, ?4, display_name),
    followers_count = iif(?9 >= observed_at, ?5, followers_count),
    following_count = iif(?9 >= observed_at, ?6, following_count),
    posts_count = iif(?9 >= observed_at, ?7, posts_count),
    url = iif(?9 >= observed_at, ?8, url),
    observed_at = iif(?9 >= observed_at, ?9, observed_at),
    engagement = engagement + ?10,
    influence = tend_influence(iif(?9 >= observed_at, ?5, followers_count), iif(?9 >= observed_at, ?6, following_count),
                               iif(?9 >= observed_at, ?7, posts_count), engagement + ?10, amplification)
WHERE ?9 >= observed_at OR ?10 != 0
   OR influence != tend_influence(followers_count, following_count, posts_count, engagement, amplification)
"""

# The WHERE clause is what keeps counts moving forward in time: an older observation of a post never replaces a
# newer one, whichever order pages arrive in (``_simulate_upsert`` applies the same rule to know what changed).
# ``source`` is set on insert only: a later copy from a brand watch never demotes a mention, and a mention's
# promotion (``_PROMOTE_TO_MENTION``) must not wait for a newer observation.
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

_INSERT_POST = _UPSERT_POST[: _UPSERT_POST.index("ON CONFLICT")]

# The page's posts as stored before it: which are new, and what their counts, thread and source were.
_KNOWN_POSTS = """
SELECT id, thread_id, author_id, direction, observed_at, reshare_count + quote_count, like_count, source FROM posts
WHERE id IN (SELECT value FROM json_each(?))
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

# Engagement moves by exactly what this batch changed (its customer posts' counts after the write minus before),
# and influence follows every author of the batch, rewritten only where it differs. One seek per author.
_ADD_ENGAGEMENT_AND_RATE = """
UPDATE authors SET
    engagement = engagement + ?1,
    influence = tend_influence(followers_count, following_count, posts_count, engagement + ?1, amplification)
WHERE id = ?2
  AND (?1 != 0 OR influence != tend_influence(followers_count, following_count, posts_count, engagement, amplification))
"""

_ADD_ENGAGEMENT = "UPDATE authors SET engagement = engagement + ?1 WHERE id = ?2"

RESUM_ENGAGEMENT = """
UPDATE authors SET
    engagement = coalesce((SELECT sum(reshare_count + quote_count + like_count) FROM posts
                           WHERE posts.author_id = authors.id AND posts.direction = 'in'), 0)
WHERE id IN (SELECT value FROM json_each(?))
"""

REFRESH_INFLUENCE = """
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

# Threads waiting for a reply whose latest customer post is by one of these authors: from each author's customer
# posts (``posts_by_author``) to their own thread by primary key. A thread's latest customer post is always one of
# its own posts, so this is the same set as joining on ``last_in_post_id`` alone, which read every thread.
_WAITING_ON = """
SELECT t.id FROM posts p JOIN threads t ON t.id = p.thread_id
WHERE p.author_id IN (SELECT value FROM json_each(?)) AND p.direction = 'in'
  AND t.last_in_post_id = p.id AND t.needs_reply = 1
"""

# The authors' influence as stored, read before a page rates them: what ``_WAITING_ON_MOVED`` compares against.
_INFLUENCE_OF = "SELECT id, influence FROM authors WHERE id IN (SELECT value FROM json_each(?))"

# ``_WAITING_ON`` for the authors whose influence is no longer what it was (``?`` maps author to former influence;
# null for one known to have moved): one seek per author, and only those whose influence moved go on to their
# customer posts. CROSS JOIN keeps that order: authors first, never a walk of posts or threads.
_WAITING_ON_MOVED = """
SELECT t.id FROM json_each(?) AS was
CROSS JOIN authors a ON a.id = was.key AND a.influence IS NOT was.value
CROSS JOIN posts p ON p.author_id = a.id AND p.direction = 'in'
CROSS JOIN threads t ON t.id = p.thread_id
WHERE t.last_in_post_id = p.id AND t.needs_reply = 1
"""

# ``REFRESH_INFLUENCE`` writing only the rows it moves, and naming them.
_REFRESH_INFLUENCE_MOVED = """
UPDATE authors SET influence = tend_influence(followers_count, following_count, posts_count, engagement,
                                              amplification)
WHERE id IN (SELECT value FROM json_each(?))
  AND influence != tend_influence(followers_count, following_count, posts_count, engagement, amplification)
RETURNING id
"""


def rerank_waiting_on(conn: sqlite3.Connection, author_ids: str) -> frozenset[str]:
    """Re-rank the threads waiting for a reply on these customers (a JSON array of author ids) once their influence
    has been recomputed; returns those threads."""
    waiting = frozenset(row[0] for row in conn.execute(_WAITING_ON, (author_ids,)).fetchall())
    refresh_priority(conn, waiting)
    return waiting


def influence_sql(followers: int, following: int, posts: int, engagement: int, amplification: int) -> int:
    """``tend_influence`` for SQLite (registered by ``Inbox``)."""
    return influence_breakdown(followers, following, posts, engagement, amplification).score


def admit(conn: sqlite3.Connection, batch: Batch) -> Batch:
    """The batch as it may be stored: a brand watch never brings in the business's own posts or muted people's
    (noise the owner asked to leave out). Mention batches pass untouched, at no cost."""
    if batch.source == "mention":
        return batch
    if batch.source != "watch":
        raise ValueError(f"unknown batch source {batch.source!r} (expected 'mention' or 'watch')")
    if not batch.posts:
        return batch
    authors = json.dumps(sorted({p.author_id for p in batch.posts}))
    muted = {row[0] for row in conn.execute(_MUTED_AUTHORS, (authors,)).fetchall()}
    kept = tuple(p for p in batch.posts if p.direction != Direction.OUT and p.author_id not in muted)
    return batch if len(kept) == len(batch.posts) else replace(batch, posts=kept)


@dataclass(slots=True)
class _StoredPost:
    """A post's row as far as the derived columns care: as stored before the batch, or as the batch leaves it."""

    thread_id: str
    author_id: str
    incoming: bool
    observed_at: str
    reshares: int  # reshare_count + quote_count: the thread's reshare total
    likes: int
    source: str

    @property
    def engagement(self) -> int:
        return self.reshares + self.likes


def _attachments_json(post: Post) -> str:
    if not post.attachments:
        return "[]"
    return json.dumps(
        [{"kind": a.kind, "url": a.url, "description": a.description} for a in post.attachments], ensure_ascii=False
    )


def write_page(
    conn: sqlite3.Connection, batch: Batch, now: str, *, reread: bool = False, trust_threads: bool = True
) -> tuple[frozenset[str], int]:
    """Store an admitted batch inside an open transaction; returns (threads touched, posts not stored before).

    ``trust_threads`` moves thread rows by the batch's changes (their stored aggregates are taken as matching their
    posts, which every writer keeps true); ``False`` recomputes them from their posts, for a caller that has just
    removed or rewritten posts itself.
    """
    if not batch.posts:
        return _write_profiles(conn, batch, now), 0
    thread_ids = frozenset(p.thread_id for p in batch.posts)
    before = {
        row[0]: _StoredPost(row[1], row[2], row[3] == "in", row[4], row[5], row[6], row[7])
        for row in conn.execute(_KNOWN_POSTS, (json.dumps([p.id for p in batch.posts]),)).fetchall()
    }
    source = batch.source
    watched: frozenset[str] = frozenset()
    if reread:
        rows = conn.execute(_UNMENTIONED_OF, (json.dumps(sorted(thread_ids)),)).fetchall()
        watched = frozenset(row[0] for row in rows)
    sources = ["watch" if p.thread_id in watched else source for p in batch.posts]
    after, deltas = _simulate_upsert(batch, sources, before, now)
    # The influence the page's authors had, to re-rank their other waiting threads if it moves. An author not stored
    # yet has no other thread: every post of theirs is in this page.
    page_authors = json.dumps(list({a.id for a in batch.authors} | {p.author_id for p in batch.posts}))
    influence_was = dict(conn.execute(_INFLUENCE_OF, (page_authors,)).fetchall())
    _rate_authors(conn, batch, _engagement_changes(before, after), now)
    deleted = _mark_deleted(conn, batch.deleted_post_ids, now)
    _write_posts(conn, batch, sources, before, now)
    if source == "mention" and not reread:
        promoted = [post_id for post_id, post in before.items() if post.source == "watch"]
        if promoted:
            conn.execute(_PROMOTE_TO_MENTION, (json.dumps(promoted),))
            for post_id in promoted:
                after[post_id].source = "mention"
    _account_threads(before, after, deltas)
    # Threads a contradicting page touched (see ``_simulate_upsert``) are recomputed, including the one a post is
    # stored in when the page names another: its counts may have moved.
    recompute = {t for t, d in deltas.items() if d is None}
    if trust_threads:
        advance_threads(conn, {t: d for t, d in deltas.items() if d is not None}, now)
    else:
        recompute |= thread_ids
    if recompute:
        refresh_threads(conn, recompute, now, rank=False)
    reshared, amplified = _write_reshares(conn, batch, now)
    touched = thread_ids | recompute | deleted | reshared
    # A customer's priority follows their influence in every thread waiting on them, not only in this page's.
    waiting = _waiting_on_moved(conn, influence_was, amplified) - touched
    refresh_priority(conn, touched | waiting)
    return touched | waiting, len(after) - len(before)


def _write_profiles(conn: sqlite3.Connection, batch: Batch, now: str) -> frozenset[str]:
    """A page without posts: profiles, deletions and reshares; returns the threads touched."""
    if batch.authors:
        conn.executemany(
            _UPSERT_AUTHOR,
            [
                (a.id, a.network, a.handle, a.display_name, a.followers_count, a.following_count,
                 a.posts_count, a.url, a.observed_at or now)
                for a in batch.authors
            ],
        )
    deleted = _mark_deleted(conn, batch.deleted_post_ids, now)
    profiled = [a.id for a in batch.authors]
    conn.execute(REFRESH_INFLUENCE, (json.dumps(profiled),))
    reshared, amplified = _write_reshares(conn, batch, now)
    # Fresh profiles or resharers may have moved someone's influence: re-rank the threads waiting on them.
    waiting_on = json.dumps(list(set(profiled) | amplified))
    waiting = {row[0] for row in conn.execute(_WAITING_ON, (waiting_on,)).fetchall()}
    refresh_priority(conn, reshared | waiting)
    return deleted | reshared | waiting


def _write_posts(
    conn: sqlite3.Connection, batch: Batch, sources: list[str], before: dict[str, _StoredPost], now: str
) -> None:
    """``_UPSERT_POST`` every post in page order. The first copy of a post not stored yet cannot conflict, so it goes
    through the plain insert (rowids, triggers and constraint checks are the same; measured 5-10% faster per row
    than the upsert, the largest statement of a page). Later copies of a post follow its insert, in page order."""
    fresh, again, seen = [], [], set(before)
    for p, post_source in zip(batch.posts, sources):
        row = (p.id, p.network, p.account_id, p.thread_id, p.parent_id, p.author_id, p.url, p.text, p.created_at,
               p.observed_at or now, p.reshare_count, p.quote_count, p.like_count, p.reply_count,
               str(p.visibility), str(p.direction), _attachments_json(p), p.edited_at, post_source)
        if p.id in seen:
            again.append(row)
        else:
            seen.add(p.id)
            fresh.append(row)
    if fresh:
        conn.executemany(_INSERT_POST, fresh)
    if again:
        conn.executemany(_UPSERT_POST, again)


def _simulate_upsert(
    batch: Batch, sources: list[str], before: dict[str, _StoredPost], now: str
) -> tuple[dict[str, _StoredPost], dict[str, ThreadDelta | None]]:
    """Each of the batch's posts as ``_UPSERT_POST`` leaves it (same rule, same order), and per thread what it
    inserted. A post never moves to another thread on upsert; when a page names another thread than the one a post
    is stored in, both threads map to ``None``: they are recomputed from their posts."""
    after = {post_id: replace(post) for post_id, post in before.items()}
    deltas: dict[str, ThreadDelta | None] = {p.thread_id: ThreadDelta() for p in batch.posts}
    for post, post_source in zip(batch.posts, sources):
        observed_at = post.observed_at or now
        stored = after.get(post.id)
        if stored is None:
            incoming = str(post.direction) == "in"
            after[post.id] = _StoredPost(post.thread_id, post.author_id, incoming, observed_at,
                                         post.reshare_count + post.quote_count, post.like_count, post_source)
            delta = deltas[post.thread_id]
            if delta is not None:
                delta.add_inserted(post.created_at, incoming, post.account_id, post.network)
            continue
        if stored.thread_id != post.thread_id:
            deltas[post.thread_id] = deltas[stored.thread_id] = None
        if observed_at > stored.observed_at:
            stored.observed_at = observed_at
            stored.reshares = post.reshare_count + post.quote_count
            stored.likes = post.like_count
    return after, deltas


def _account_threads(
    before: dict[str, _StoredPost], after: dict[str, _StoredPost], deltas: dict[str, ThreadDelta | None]
) -> None:
    """Add the count changes and the customer posts' sources to the thread deltas (posts already stored included)."""
    for post_id, post in after.items():
        delta = deltas.get(post.thread_id)
        if delta is None:
            continue
        old = before.get(post_id)
        delta.reshare_change += post.reshares - (old.reshares if old is not None else 0)
        if post.incoming and post.source != "watch":
            delta.watch_only = 0


def _engagement_changes(before: dict[str, _StoredPost], after: dict[str, _StoredPost]) -> dict[str, int]:
    """How the page moves each author's engagement: their customer posts' counts after it minus before."""
    change: dict[str, int] = defaultdict(int)
    for post_id, post in after.items():
        if post.incoming:
            old = before.get(post_id)
            change[post.author_id] += post.engagement - (old.engagement if old is not None else 0)
    return change


def _rate_authors(conn: sqlite3.Connection, batch: Batch, change: dict[str, int], now: str) -> None:
    """Store the page's profiles and move engagement by what its posts change, bringing the influence of every
    author it names up to date (before the posts: they need their authors)."""
    profiled = {a.id for a in batch.authors}
    if batch.authors:
        conn.executemany(
            _UPSERT_AUTHOR_RATED,
            [
                (a.id, a.network, a.handle, a.display_name, a.followers_count, a.following_count,
                 a.posts_count, a.url, a.observed_at or now, change.pop(a.id, 0))  # a repeated profile adds it once
                for a in batch.authors
            ],
        )
    named = {p.author_id for p in batch.posts} - profiled
    if named:
        conn.executemany(_ADD_ENGAGEMENT_AND_RATE, [(change.pop(a, 0), a) for a in sorted(named)])
    # A stored post names its author for good; only a page contradicting that leaves a change to anyone else.
    unnamed = [(c, a) for a, c in change.items() if c]
    if unnamed:
        conn.executemany(_ADD_ENGAGEMENT, unnamed)


def _waiting_on_moved(
    conn: sqlite3.Connection, influence_was: dict[str, int], moved: frozenset[str]
) -> frozenset[str]:
    """Threads waiting for a reply on an author whose influence is not what ``influence_was`` says any more, or on
    one of ``moved`` (authors known to have moved, compared with their former influence when it is known)."""
    if not influence_was and not moved:
        return frozenset()
    compared: dict[str, int | None] = dict.fromkeys(moved)
    compared.update(influence_was)
    return frozenset(row[0] for row in conn.execute(_WAITING_ON_MOVED, (json.dumps(compared),)).fetchall())


def _write_reshares(conn: sqlite3.Connection, batch: Batch, now: str) -> tuple[frozenset[str], frozenset[str]]:
    """Record who reshared stored posts (a reshare of a post not in the inbox is not ours to keep) and refresh
    the amplification and influence of the authors they amplified; returns the threads touched and the authors
    whose influence moved."""
    if not batch.reshares:
        return frozenset(), frozenset()
    post_ids = json.dumps(sorted({r.post_id for r in batch.reshares}))
    known = {row[0]: row[1] for row in conn.execute(
        "SELECT id, thread_id FROM posts WHERE id IN (SELECT value FROM json_each(?))", (post_ids,)).fetchall()}
    rows = [(r.post_id, r.author_id, r.reshared_at or now, now) for r in batch.reshares if r.post_id in known]
    if not rows:
        return frozenset(), frozenset()
    conn.executemany(_INSERT_RESHARE, rows)
    amplified = [row[0] for row in conn.execute(_REFRESH_AMPLIFICATION, (post_ids,)).fetchall()]
    moved = frozenset(row[0] for row in conn.execute(_REFRESH_INFLUENCE_MOVED, (json.dumps(amplified),)).fetchall())
    return frozenset(known[row[0]] for row in rows), moved


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
