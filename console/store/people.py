"""People in the inbox: one author's profile and history across all of the business's accounts, who reshared a
thread, and the owner's private notes and VIP flag.

An author id belongs to one network, but the same person can turn up in threads of several of the business's
accounts on that network; the history therefore follows the author, never the account. Every read starts from an
index (``posts_by_author``, ``reshares_by_author``, ``posts_by_thread``, the ``reshares`` primary key), so a
prolific customer costs their own rows, not a scan of the inbox.

Notes are the owner's private words about a customer: they stay in this file (no log line, export or network call
carries them). Write functions take the ``Inbox`` first so they run on the writer thread
(``writer.call(set_author_note, author_id, note)``), exactly like ``console.store.outbox``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from console.domain import InfluenceBreakdown, iso_utc
from console.domain import influence_breakdown as _influence_breakdown
from console.store.inbox import ChangeSet, Inbox
from console.store.thread_rows import refresh_priority


class UnknownAuthor(LookupError):
    """A note or flag for someone the inbox has never seen: a bug in the caller, not something the owner did."""


@dataclass(frozen=True, slots=True)
class AuthorProfile:
    """Everything the author panel's header shows, read in one go.

    ``first_seen``/``last_seen``/``post_count`` cover the author's customer posts stored in the inbox (not their
    whole life on the network); ``resharer_count`` is how many other people reshared those posts.
    """

    id: str
    network: str
    handle: str
    display_name: str
    url: str
    followers: int
    following: int
    posts: int
    engagement: int
    amplification: int
    influence: int
    note: str
    vip: bool
    first_seen: str | None
    last_seen: str | None
    post_count: int
    resharer_count: int
    note_updated_at: str | None = None

    def influence_breakdown(self) -> InfluenceBreakdown:
        """The stored score's reasons, recomputed from the same figures (``explain()`` gives owner-readable lines)."""
        return _influence_breakdown(self.followers, self.following, self.posts, self.engagement, self.amplification)


@dataclass(frozen=True, slots=True)
class AuthorThread:
    """One thread this author took part in, by posting in it, by resharing one of its posts, or both.

    ``text`` is the author's latest words in the thread ("" if they only reshared); ``reshared_text`` is the post
    they most recently reshared there ("" if they never did), so a reshare-only row still says what it was about.
    """

    thread_id: str
    account_id: str
    account_handle: str
    network: str
    status: str
    last_activity_at: str
    their_last_at: str
    text: str
    reshared_text: str
    reshare_total: int
    heat: int
    reach: int
    posted: bool
    reshared: bool

    @property
    def participation(self) -> str:
        """'posted', 'reshared', or 'posted, reshared': how they took part, in the owner's words."""
        return ", ".join(label for flag, label in ((self.posted, "posted"), (self.reshared, "reshared")) if flag)


@dataclass(frozen=True, slots=True)
class Resharer:
    """Someone who reshared posts of a thread; ``followers`` is the audience they carried it to."""

    author_id: str
    handle: str
    display_name: str
    followers: int
    influence: int
    vip: bool
    first_reshared_at: str
    posts_reshared: int


_PROFILE = """
SELECT a.id, a.network, a.handle, a.display_name, a.url, a.followers_count, a.following_count, a.posts_count,
       a.engagement, a.amplification, a.influence, coalesce(n.note, ''), coalesce(n.vip, 0),
       (SELECT min(created_at) FROM posts WHERE author_id = a.id AND direction = 'in'),
       (SELECT max(created_at) FROM posts WHERE author_id = a.id AND direction = 'in'),
       (SELECT count(*) FROM posts WHERE author_id = a.id AND direction = 'in'),
       (SELECT count(DISTINCT r.author_id) FROM posts p JOIN reshares r ON r.post_id = p.id
        WHERE p.author_id = a.id AND p.direction = 'in' AND r.author_id != a.id),
       n.updated_at
FROM authors a LEFT JOIN author_notes n ON n.author_id = a.id
WHERE a.id = ?
"""

# The thread ids an author took part in: their customer posts (posts_by_author) and their reshares
# (reshares_by_author, then each reshared post by primary key).
_THEIR_THREADS = """
SELECT thread_id FROM posts WHERE author_id = :author AND direction = 'in'
UNION
SELECT p.thread_id FROM reshares r JOIN posts p ON p.id = r.post_id WHERE r.author_id = :author
"""

# SQLite fills the bare columns (``text``) of a ``max()`` aggregate from the row holding the maximum: the latest
# words per thread without a window function. ``CROSS JOIN`` keeps the author's own threads driving the query
# (SQLite never reorders it); left free, the planner may walk every thread in activity order to skip the sort.
_AUTHOR_THREADS = """
WITH posted AS (
    SELECT thread_id, max(created_at) AS at, text FROM posts
    WHERE author_id = :author AND direction = 'in' GROUP BY thread_id
),
reshared AS (
    SELECT p.thread_id, max(r.reshared_at) AS at, p.text FROM reshares r JOIN posts p ON p.id = r.post_id
    WHERE r.author_id = :author GROUP BY p.thread_id
),
part AS (
    SELECT thread_id FROM posted UNION SELECT thread_id FROM reshared
)
SELECT t.id, t.account_id, coalesce(ac.handle, ''), t.network, t.status, t.last_activity_at,
       max(coalesce(po.at, ''), coalesce(rs.at, '')), coalesce(po.text, ''), coalesce(rs.text, ''),
       t.reshare_total, t.heat, t.reach, po.thread_id IS NOT NULL, rs.thread_id IS NOT NULL
FROM part
CROSS JOIN threads t ON t.id = part.thread_id
LEFT JOIN posted po ON po.thread_id = part.thread_id
LEFT JOIN reshared rs ON rs.thread_id = part.thread_id
LEFT JOIN accounts ac ON ac.id = t.account_id
ORDER BY t.last_activity_at DESC, t.id DESC
LIMIT :limit
"""

_RESHARERS = """
SELECT r.author_id, coalesce(a.handle, ''), coalesce(a.display_name, ''), coalesce(a.followers_count, 0),
       coalesce(a.influence, 0), coalesce(n.vip, 0), min(r.reshared_at), count(*)
FROM posts p
JOIN reshares r ON r.post_id = p.id
LEFT JOIN authors a ON a.id = r.author_id
LEFT JOIN author_notes n ON n.author_id = r.author_id
WHERE p.thread_id = ?
GROUP BY r.author_id
ORDER BY coalesce(a.followers_count, 0) DESC, r.author_id
LIMIT ?
"""


def author_profile(db: sqlite_utils.Database, author_id: str) -> AuthorProfile | None:
    """The author's figures, influence, notes and inbox history; ``None`` if the inbox does not know them."""
    row = db.execute(_PROFILE, (author_id,)).fetchone()
    if row is None:
        return None
    values = list(row)
    values[12] = bool(values[12])
    return AuthorProfile(*values)


def author_threads(db: sqlite_utils.Database, author_id: str, limit: int = 200) -> list[AuthorThread]:
    """Every thread the author posted in or reshared from, on any of the business's accounts and in any status,
    newest activity first."""
    rows = db.execute(_AUTHOR_THREADS, {"author": author_id, "limit": limit}).fetchall()
    return [AuthorThread(*row[:12], bool(row[12]), bool(row[13])) for row in rows]


def people_resharing(db: sqlite_utils.Database, thread_id: str, limit: int = 100) -> list[Resharer]:
    """Who reshared posts of this thread, biggest audience first: the people carrying it furthest."""
    rows = db.execute(_RESHARERS, (thread_id, limit)).fetchall()
    return [Resharer(*row[:5], bool(row[5]), *row[6:]) for row in rows]  # type: ignore[arg-type]


def _their_thread_ids(conn: Any, author_id: str) -> frozenset[str]:
    return frozenset(row[0] for row in conn.execute(_THEIR_THREADS, {"author": author_id}).fetchall())


def _require_author(conn: Any, author_id: str) -> None:
    if conn.execute("SELECT 1 FROM authors WHERE id = ?", (author_id,)).fetchone() is None:
        raise UnknownAuthor(f"no author {author_id!r} in the inbox")


def set_author_note(inbox: Inbox, author_id: str, note: str) -> ChangeSet:
    """Keep the owner's note on this person (replacing the previous one); their threads are reported as changed so
    any list or view showing the note refreshes."""
    with inbox.transaction() as db:
        _require_author(db, author_id)
        db.execute(
            """INSERT INTO author_notes (author_id, note, vip, updated_at) VALUES (?, ?, 0, ?)
               ON CONFLICT(author_id) DO UPDATE SET note = excluded.note, updated_at = excluded.updated_at""",
            (author_id, note, iso_utc(inbox.clock())),
        )
        threads = _their_thread_ids(db, author_id)
    return ChangeSet(threads)


def set_author_vip(inbox: Inbox, author_id: str, vip: bool) -> ChangeSet:
    """Flag or unflag this person as a VIP. A VIP's waiting threads move up "Needs reply", so their threads are
    re-ranked in the same transaction and reported as changed."""
    with inbox.transaction() as db:
        _require_author(db, author_id)
        db.execute(
            """INSERT INTO author_notes (author_id, note, vip, updated_at) VALUES (?, '', ?, ?)
               ON CONFLICT(author_id) DO UPDATE SET vip = excluded.vip, updated_at = excluded.updated_at""",
            (author_id, int(vip), iso_utc(inbox.clock())),
        )
        threads = _their_thread_ids(db, author_id)
        conn: sqlite3.Connection = db.conn
        refresh_priority(conn, threads)
    return ChangeSet(threads)


def author_thread_ids(db: sqlite_utils.Database, author_id: str) -> frozenset[str]:
    """The ids of every thread the author took part in (unbounded but index-backed): for callers that refresh."""
    return _their_thread_ids(db, author_id)

