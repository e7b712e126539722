"""The owner's brand watch: the words to search for, the words that rule a post out, and the people to leave out.

One watch serves the whole inbox (the business has one name, whichever account hears it); each connector that can
search its network runs it (``SyncEngine``). The words are rows of ``brand_watch``; muting is a flag on the person's
``author_notes`` row, next to the owner's note and VIP flag.

Read functions accept the ``Inbox`` as well as a bare database, so the sync engine can read the watch on the writer
thread (``writer.call(brand_watch)``) and a dialog from the reader connection. Write functions take the ``Inbox``
first so they run on the writer thread, like ``console.store.people``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from console.domain import iso_utc
from console.domain.watches import WATCH_STREAM, BrandWatch
from console.store.inbox import ChangeSet, Inbox
from console.store.people import UnknownAuthor, author_thread_ids


@dataclass(frozen=True, slots=True)
class MutedAuthor:
    """Someone whose posts brand watches leave out, as the watch dialog lists them."""

    id: str
    network: str
    handle: str
    display_name: str


def _db(source: Inbox | sqlite_utils.Database) -> sqlite_utils.Database:
    return source.db if isinstance(source, Inbox) else source


def brand_watch(source: Inbox | sqlite_utils.Database) -> BrandWatch:
    """The inbox's watch: terms and exclude words in the owner's order, and the ids of muted people."""
    db = _db(source)
    words: dict[str, list[str]] = {"term": [], "exclude": []}
    for kind, word in db.execute("SELECT kind, word FROM brand_watch ORDER BY kind, position, word").fetchall():
        words[kind].append(word)
    muted = frozenset(row[0] for row in db.execute("SELECT author_id FROM author_notes WHERE muted = 1").fetchall())
    return BrandWatch(tuple(words["term"]), tuple(words["exclude"]), muted)


def save_brand_watch(inbox: Inbox, terms: Iterable[str], exclude: Iterable[str]) -> None:
    """Replace the watch's words (blank lines and repeats dropped, as ``BrandWatch`` cleans them).

    When the search terms change, every account's watch cursor is forgotten in the same transaction: a cursor
    says how far the *old* searches got, and a new term must be searched from the start (the recent past each
    network's search allows). Posts found again are absorbed by the upsert. Exclude words only filter, so changing
    them keeps the cursors.
    """
    watch = BrandWatch(tuple(terms), tuple(exclude))
    with inbox.transaction() as db:
        before = [row[0] for row in db.execute(
            "SELECT word FROM brand_watch WHERE kind = 'term' ORDER BY position, word").fetchall()]
        db.execute("DELETE FROM brand_watch")
        db.conn.executemany(
            "INSERT INTO brand_watch (kind, word, position) VALUES (?, ?, ?)",
            [("term", word, n) for n, word in enumerate(watch.terms)]
            + [("exclude", word, n) for n, word in enumerate(watch.exclude)],
        )
        if set(before) != set(watch.terms):
            db.execute("DELETE FROM sync_cursors WHERE stream = ?", (WATCH_STREAM,))


def set_author_muted(inbox: Inbox, author_id: str, muted: bool) -> ChangeSet:
    """Leave this person's posts out of brand watches from now on (or bring them back).

    Conversations already in the inbox stay: muting is about what comes in, and the owner may be mid-conversation.
    Mentions are never muted (someone who tags the business reaches it). Their threads are reported as changed so
    an open author panel shows the flag.
    """
    with inbox.transaction() as db:
        if db.execute("SELECT 1 FROM authors WHERE id = ?", (author_id,)).fetchone() is None:
            raise UnknownAuthor(f"no author {author_id!r} in the inbox")
        db.execute(
            """INSERT INTO author_notes (author_id, note, vip, muted, updated_at) VALUES (?, '', 0, ?, ?)
               ON CONFLICT(author_id) DO UPDATE SET muted = excluded.muted, updated_at = excluded.updated_at""",
            (author_id, int(muted), iso_utc(inbox.clock())),
        )
        threads = author_thread_ids(db, author_id)
    return ChangeSet(threads)


def author_muted(source: Inbox | sqlite_utils.Database, author_id: str) -> bool:
    row = _db(source).execute("SELECT muted FROM author_notes WHERE author_id = ?", (author_id,)).fetchone()
    return bool(row and row[0])


def muted_authors(source: Inbox | sqlite_utils.Database) -> list[MutedAuthor]:
    """Everyone muted in brand watches, by handle (the watch dialog lists them with Unmute)."""
    rows = _db(source).execute(
        """SELECT n.author_id, coalesce(a.network, ''), coalesce(a.handle, n.author_id), coalesce(a.display_name, '')
           FROM author_notes n LEFT JOIN authors a ON a.id = n.author_id
           WHERE n.muted = 1 ORDER BY coalesce(a.handle, n.author_id)"""
    ).fetchall()
    return [MutedAuthor(*row) for row in rows]


__all__ = [
    "MutedAuthor",
    "author_muted",
    "brand_watch",
    "muted_authors",
    "save_brand_watch",
    "set_author_muted",
]
