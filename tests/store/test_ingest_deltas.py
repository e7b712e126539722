"""Ingest moves derived columns by what a page changed; it must land exactly where recomputing everything lands.

``apply_batch`` works out new posts, engagement changes and thread aggregates from one read of the page's stored
posts plus the upsert's own rule, and moves thread rows by a delta (``console.store.thread_rows``). The reference
below is the previous implementation, which asked SQLite before and after the write, recomputed every touched
thread from all of its posts and re-ranked every touched thread. Two differences are deliberate: when a page names
another thread for a stored post (which stays where it is), the thread it is stored in is recomputed and reported
too, since its counts may have moved (the previous implementation left it stale until a later page touched it); and
every thread waiting for a reply from someone whose influence the page moved (found by comparing every author's
influence before and after) is re-ranked and reported, so that a thread's priority always follows its customer's
current influence (the previous implementation re-ranked only the threads the page touched).

Random page sequences (repeated posts, stale and newer copies, ties, posts that contradict their stored thread,
author, direction, time or account, watches, re-reads, deletions, reshares, owners closing threads) go through both
on two inbox files, and every table and change set must match after every step.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.domain import Author, Batch, Direction, Post, Reshare, ThreadStatus, iso_utc
from console.store import ChangeSet, Inbox
from console.store.ingest import (
    _PROMOTE_TO_MENTION,
    _UNMENTIONED_OF,
    _UPSERT_AUTHOR,
    _UPSERT_POST,
    REFRESH_INFLUENCE,
    RESUM_ENGAGEMENT,
    _attachments_json,
    _mark_deleted,
    _write_reshares,
    admit,
)
from console.store.thread_rows import refresh_threads

NETWORK = "mastodon"
ACCOUNT_ID = "mastodon:biz"
OTHER_ACCOUNT_ID = "mastodon:shop"
POST_COUNT = 9
THREADS = ("t0", "t1", "t2", "t3")
PEOPLE = ("alice", "bob", "carol", "biz")
TABLES = ("posts", "authors", "threads", "count_samples", "reshares", "posts_fts", "authors_fts", "sync_cursors")

# -- the reference: ingest as it was before deltas ---------------------------------------------------------------------

_REF_ENGAGEMENT_OF_POSTS = """
SELECT author_id, sum(reshare_count + quote_count + like_count) FROM posts
WHERE id IN (SELECT value FROM json_each(?)) AND direction = 'in'
GROUP BY author_id
"""
_REF_ADD_ENGAGEMENT = """
UPDATE authors SET engagement = engagement + delta.value FROM json_each(?) AS delta WHERE authors.id = delta.key
"""
_REF_REFRESH_INFLUENCE_IF_CHANGED = """
UPDATE authors SET influence = tend_influence(followers_count, following_count, posts_count, engagement,
                                              amplification)
WHERE id IN (SELECT value FROM json_each(?))
  AND influence != tend_influence(followers_count, following_count, posts_count, engagement, amplification)
"""
_REF_REFRESH_PRIORITY = """
UPDATE threads SET priority_key = CASE WHEN threads.needs_reply
    THEN tend_priority(threads.account_id, threads.waiting_since, threads.heat, coalesce(a.influence, 0),
                       coalesce(n.vip, 0), threads.escalating_since IS NOT NULL) END
FROM (SELECT t.id AS thread_id, p.author_id AS author_id FROM threads t LEFT JOIN posts p ON p.id = t.last_in_post_id
      WHERE t.id IN (SELECT value FROM json_each(?))) AS latest
LEFT JOIN authors a ON a.id = latest.author_id
LEFT JOIN author_notes n ON n.author_id = latest.author_id
WHERE threads.id = latest.thread_id
"""
_REF_WAITING_ON = """
SELECT t.id FROM posts p JOIN threads t ON t.last_in_post_id = p.id
WHERE p.author_id IN (SELECT value FROM json_each(?)) AND p.direction = 'in' AND t.needs_reply = 1
"""


def reference_apply_batch(inbox: Inbox, batch: Batch, *, reread: bool = False) -> ChangeSet:
    now = iso_utc(inbox.clock())
    with inbox.transaction() as db:
        conn = db.conn
        batch = admit(conn, batch)
        ids = {p.id for p in batch.posts}
        known = conn.execute(
            "SELECT count(*) FROM posts WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),)
        ).fetchone()[0] if ids else 0
        changes = _reference_write_records(conn, batch, now, reread=reread)
        if batch.cursor is not None:
            conn.execute(
                """INSERT INTO sync_cursors (account_id, stream, cursor, updated_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT(account_id, stream) DO UPDATE SET cursor = excluded.cursor,
                                                                 updated_at = excluded.updated_at""",
                (batch.account_id, batch.stream, batch.cursor, now),
            )
    return ChangeSet(changes, len(ids) - known, batch.account_id)


_REF_INFLUENCE = "SELECT id, influence FROM authors"


def _reference_write_records(conn: sqlite3.Connection, batch: Batch, now: str, *, reread: bool) -> frozenset[str]:
    influence_was = dict(conn.execute(_REF_INFLUENCE).fetchall())
    touched = _reference_write_page(conn, batch, now, reread=reread)
    # The second deliberate difference. An author not stored before counts as moved (all their threads are the page's).
    moved = [author for author, influence in conn.execute(_REF_INFLUENCE) if influence_was.get(author) != influence]
    waiting = {row[0] for row in conn.execute(_REF_WAITING_ON, (json.dumps(moved),)).fetchall()}
    _reference_rank(conn, waiting)  # a page of profiles reports the threads it deleted posts in without ranking them
    return touched | waiting


def _reference_write_page(conn: sqlite3.Connection, batch: Batch, now: str, *, reread: bool) -> frozenset[str]:
    if batch.authors:
        conn.executemany(_UPSERT_AUTHOR, [
            (a.id, a.network, a.handle, a.display_name, a.followers_count, a.following_count, a.posts_count, a.url,
             a.observed_at or now) for a in batch.authors])
    deleted = _mark_deleted(conn, batch.deleted_post_ids, now)
    if not batch.posts:
        author_ids = json.dumps([a.id for a in batch.authors])
        conn.execute(REFRESH_INFLUENCE, (author_ids,))
        amplified = _write_reshares(conn, batch, now)[0]
        waiting = {row[0] for row in conn.execute(_REF_WAITING_ON, (author_ids,)).fetchall()}
        _reference_rank(conn, amplified | waiting)
        return deleted | amplified | waiting
    post_ids = json.dumps([p.id for p in batch.posts])
    stored_in = "SELECT DISTINCT thread_id FROM posts WHERE id IN (SELECT value FROM json_each(?))"
    page_threads = frozenset(p.thread_id for p in batch.posts)
    thread_ids = page_threads | {row[0] for row in conn.execute(stored_in, (post_ids,))}  # the deliberate difference
    before = dict(conn.execute(_REF_ENGAGEMENT_OF_POSTS, (post_ids,)).fetchall())
    watched: frozenset[str] = frozenset()
    if reread:
        watched = frozenset(r[0] for r in conn.execute(_UNMENTIONED_OF, (json.dumps(sorted(page_threads)),)))
    conn.executemany(_UPSERT_POST, [
        (p.id, p.network, p.account_id, p.thread_id, p.parent_id, p.author_id, p.url, p.text, p.created_at,
         p.observed_at or now, p.reshare_count, p.quote_count, p.like_count, p.reply_count, str(p.visibility),
         str(p.direction), _attachments_json(p), p.edited_at, "watch" if p.thread_id in watched else batch.source)
        for p in batch.posts])
    if batch.source == "mention" and not reread:
        conn.execute(_PROMOTE_TO_MENTION, (post_ids,))
    refresh_threads(conn, thread_ids, now, rank=False)  # unchanged: the definition of a thread row
    after = conn.execute(_REF_ENGAGEMENT_OF_POSTS, (post_ids,)).fetchall()
    deltas = {author: total - before.get(author, 0) for author, total in after}
    deltas = {author: delta for author, delta in deltas.items() if delta}
    if deltas:
        conn.execute(_REF_ADD_ENGAGEMENT, (json.dumps(deltas),))
    author_ids = {p.author_id for p in batch.posts} | {a.id for a in batch.authors}
    conn.execute(_REF_REFRESH_INFLUENCE_IF_CHANGED, (json.dumps(sorted(author_ids)),))
    touched = thread_ids | deleted | _write_reshares(conn, batch, now)[0]
    _reference_rank(conn, touched)
    return touched


def _reference_rank(conn: sqlite3.Connection, thread_ids: frozenset[str] | set[str]) -> None:
    conn.execute(_REF_REFRESH_PRIORITY, (json.dumps(sorted(thread_ids)),))


# -- random pages ---------------------------------------------------------------------------------------------------


def _at(minute: int) -> str:
    return f"2026-11-25T09:{minute:02d}:00.000Z"


def _author(name: str, followers: int, minute: int) -> Author:
    """A profile as observed at ``minute``; the display name changes now and then (re-indexed for search)."""
    return Author(f"{NETWORK}:{name}", NETWORK, f"{name}@example.social", f"{name.title()} {'AB'[minute % 2]}",
                  followers_count=followers, following_count=followers // 3, posts_count=followers * 2,
                  observed_at=_at(minute))


@st.composite
def posts(draw: st.DrawFn, contradict: bool = True) -> Post:
    """Post ``n`` has a usual thread, author, direction and time; now and then a page says otherwise. A customer's
    posts spread over several threads (so a page about one moves their priority in the others)."""
    n = draw(st.integers(0, POST_COUNT - 1))
    odd = draw(st.integers(0, 19)) if contradict else 99  # 0..4: this copy contradicts the post's usual details
    thread = draw(st.sampled_from(THREADS)) if odd == 0 else THREADS[n % 3]
    out = (n % 4 == 3) != (odd == 1)
    author = "biz" if out else (draw(st.sampled_from(PEOPLE[:3])) if odd == 2 else PEOPLE[n // 2 % 3])
    created = draw(st.integers(0, 12)) if odd == 3 else n  # a few ties with other posts' times
    return Post(
        id=f"{NETWORK}:p{n}", network=NETWORK, account_id=OTHER_ACCOUNT_ID if odd == 4 else ACCOUNT_ID,
        thread_id=f"{NETWORK}:{thread}",
        author_id=f"{NETWORK}:{author}", text=draw(st.sampled_from(["late order", "refund please", "thanks"])),
        created_at=_at(created), observed_at=_at(draw(st.integers(0, 6))),
        reshare_count=draw(st.integers(0, 3)), quote_count=draw(st.integers(0, 2)), like_count=draw(st.integers(0, 4)),
        direction=Direction.OUT if out else Direction.IN,
    )


@dataclass(frozen=True)
class Step:
    batch: Batch
    reread: bool
    close: tuple[str, str] | None  # (thread, status) the owner sets before the page arrives


@st.composite
def steps(draw: st.DrawFn, contradict: bool = True) -> Step:
    page = tuple(draw(st.lists(posts(contradict), max_size=6)))
    names = {p.author_id.split(":", 1)[1] for p in page} | set(draw(st.lists(st.sampled_from(PEOPLE), max_size=2)))
    authors = tuple(_author(name, draw(st.integers(0, 5000)), draw(st.integers(0, 6))) for name in sorted(names))
    # Now and then a page carries a profile twice, observed at different moments.
    twice = draw(st.lists(st.sampled_from(sorted(names)), max_size=1)) if names else []
    authors += tuple(_author(name, draw(st.integers(0, 5000)), draw(st.integers(0, 6))) for name in twice)
    post_ids = [f"{NETWORK}:p{n}" for n in range(POST_COUNT)]
    deleted = tuple(draw(st.lists(st.sampled_from(post_ids), max_size=2)))
    reshares = tuple(
        Reshare(post_id, f"{NETWORK}:{who}", _at(7))
        for post_id, who in draw(st.lists(st.tuples(st.sampled_from(post_ids), st.sampled_from(PEOPLE)), max_size=2))
        if f"{NETWORK}:{who}" in {a.id for a in authors}
    )
    source = draw(st.sampled_from(["mention", "mention", "watch"]))
    batch = Batch(ACCOUNT_ID, "mentions", page, authors, cursor=draw(st.sampled_from([None, "c1", "c2"])),
                  deleted_post_ids=deleted, reshares=reshares, source=source)
    close = draw(st.none() | st.tuples(st.sampled_from(THREADS), st.sampled_from(["done", "snoozed", "open"])))
    return Step(batch, draw(st.booleans()), close)


class SteppedClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def _dump(conn: sqlite3.Connection, table: str) -> list[tuple]:
    columns = "rowid, *" if table.endswith("_fts") else "*"
    return sorted(conn.execute(f"SELECT {columns} FROM {table}").fetchall(), key=repr)


def _open(path: Path, clock: SteppedClock) -> Inbox:
    inbox = Inbox.open(path, clock, lock=False)
    for account_id in (ACCOUNT_ID, OTHER_ACCOUNT_ID):
        inbox.db.execute(
            "INSERT INTO accounts (id, network, handle, server_url, created_at) VALUES (?, ?, 'biz', 'https://x', '')",
            (account_id, NETWORK),
        )
    return inbox


def _close_thread(inbox: Inbox, thread: str, status: str, clock: SteppedClock) -> None:
    until = clock() + timedelta(hours=1) if status == "snoozed" else None
    inbox.set_thread_status(f"{NETWORK}:{thread}", ThreadStatus(status), until)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps(), min_size=1, max_size=8))
def test_pages_land_where_recomputing_everything_lands(page_steps):
    clock = SteppedClock()
    with tempfile.TemporaryDirectory() as workdir:
        fast = _open(Path(workdir) / "fast.db", clock)
        reference = _open(Path(workdir) / "reference.db", clock)
        try:
            for step in page_steps:
                clock.now += timedelta(minutes=1)
                if step.close is not None:
                    _close_thread(fast, *step.close, clock)
                    _close_thread(reference, *step.close, clock)
                got = fast.apply_batch(step.batch, reread=step.reread)
                expected = reference_apply_batch(reference, step.batch, reread=step.reread)
                assert got == expected
                for table in TABLES:
                    assert _dump(fast.db.conn, table) == _dump(reference.db.conn, table), table
        finally:
            fast.close()
            reference.close()


def _derived(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Threads (their priority included: it follows the customer's influence wherever the page was) and authors."""
    return {"threads": _dump(conn, "threads"), "authors": _dump(conn, "authors")}


def _recomputed(inbox: Inbox, clock: SteppedClock) -> dict[str, list[tuple]]:
    """Threads and authors as recomputing every one of them from all posts leaves them (then rolled back)."""
    conn = inbox.db.conn
    conn.execute("BEGIN")
    try:
        authors = json.dumps([row[0] for row in conn.execute("SELECT id FROM authors")])
        refresh_threads(conn, [row[0] for row in conn.execute("SELECT id FROM threads")], iso_utc(clock()))
        conn.execute(RESUM_ENGAGEMENT, (authors,))
        conn.execute(REFRESH_INFLUENCE, (authors,))
        return _derived(conn)
    finally:
        conn.execute("ROLLBACK")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps(contradict=False), min_size=1, max_size=10))
def test_after_any_pages_recomputing_everything_changes_nothing(page_steps):
    """Pages that agree with what is stored (the normal case) keep every thread and author row equal to a full
    recomputation from the posts, which is what lets ingest move rows by deltas."""
    clock = SteppedClock()
    with tempfile.TemporaryDirectory() as workdir:
        inbox = _open(Path(workdir) / "inbox.db", clock)
        try:
            for step in page_steps:
                clock.now += timedelta(minutes=1)
                if step.close is not None:
                    _close_thread(inbox, *step.close, clock)
                inbox.apply_batch(step.batch, reread=step.reread)
                stored = _derived(inbox.db.conn)
                for table, rows in _recomputed(inbox, clock).items():
                    assert [r for r in stored[table] if r not in rows] == [r for r in rows if r not in stored[table]]
        finally:
            inbox.close()


# -- the cases the property tests reach only by chance ------------------------------------------------------------


def _thread_row(inbox: Inbox, thread: str) -> tuple:
    return inbox.db.execute(
        "SELECT post_count, reshare_total, last_activity_at, needs_reply FROM threads WHERE id = ?",
        (f"{NETWORK}:{thread}",),
    ).fetchone()


def test_a_page_naming_another_thread_for_a_stored_post_refreshes_the_thread_it_is_in(inbox, records):
    inbox.apply_batch(records.batch(records.post("1", "t1", minute=0), records.post("2", "t2", minute=1)))

    changes = inbox.apply_batch(records.batch(records.post("1", "t2", observed_minute=5, reshare_count=4)))

    # The post stays where it was first stored; its thread's total follows its counts and is reported as changed.
    assert inbox.db.execute("SELECT thread_id FROM posts WHERE id = 'mastodon:1'").fetchone()[0] == "mastodon:t1"
    assert _thread_row(inbox, "t1")[:2] == (1, 4)
    assert _thread_row(inbox, "t2")[:2] == (1, 0)
    assert changes.thread_ids == {"mastodon:t1", "mastodon:t2"}


def test_a_long_thread_moves_by_each_page(inbox, records, helpers):
    """Pages that each add a reply to a long thread keep it exactly where recomputing it from its posts puts it."""
    for page in range(30):
        inbox.apply_batch(records.batch(
            records.post(f"{page}a", minute=2 * page, reshare_count=page % 3),
            records.post(f"{page}b", minute=2 * page + 1, direction=Direction.OUT if page % 2 else Direction.IN,
                         author="bob", quote_count=1),
        ))
    reshares = sum(page % 3 for page in range(30)) + 30  # every customer's reshares, every reply's quote
    assert _thread_row(inbox, "t1") == (60, reshares, helpers.at(59), 0)  # the last word is ours: nothing waits
    stored = _derived(inbox.db.conn)
    assert _recomputed(inbox, SteppedClock()) == stored


def test_write_records_recomputes_threads_for_callers_that_changed_posts(inbox, records, helpers):
    """``apply_batch`` trusts a stored thread row to match its posts; ``write_records`` is for callers that have just
    removed or rewritten posts themselves (the outbox swapping a pending reply for the sent one), so it recomputes."""
    inbox.apply_batch(records.batch(records.post("1", minute=0), records.post("2", minute=1)))
    with inbox.transaction() as db:
        db.execute("DELETE FROM count_samples WHERE post_id = 'mastodon:2'")
        db.execute("DELETE FROM posts WHERE id = 'mastodon:2'")
        inbox.write_records(db, records.batch(records.post("3", minute=2)), helpers.at(3))
    assert _thread_row(inbox, "t1")[:2] == (2, 0)
