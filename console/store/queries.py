"""Read queries behind the views: bounded, index-backed, paged by keyset so no view ever loads the whole inbox."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from enum import StrEnum

import sqlite_utils

from console.store.search import fts_query


class ViewKind(StrEnum):
    NEEDS_REPLY = "needs_reply"
    OPEN = "open"
    SNOOZED = "snoozed"
    DONE = "done"
    ACCOUNT = "account"
    ALL = "all"
    ESCALATING = "escalating"
    UNMENTIONED = "unmentioned"


class Order(StrEnum):
    """How a list is sorted: by priority (the default for "Needs reply" and "Escalating") or latest activity first."""

    PRIORITY = "priority"
    LATEST = "latest"


@dataclass(frozen=True, slots=True)
class View:
    """Which threads a list shows: a view kind, optionally an account, optionally a search."""

    kind: ViewKind = ViewKind.NEEDS_REPLY
    account_id: str | None = None
    search: str = ""


@dataclass(frozen=True, slots=True)
class ThreadRow:
    id: str
    account_id: str
    network: str
    status: str
    needs_reply: bool
    last_activity_at: str
    waiting_since: str | None
    snooze_until: str | None
    post_count: int
    reshare_total: int
    latest_text: str
    author_id: str | None
    author_handle: str
    author_name: str
    author_influence: int
    author_followers: int
    heat: int = 0
    reach: int = 0
    reshares_last_hour: int = 0
    escalating_since: str | None = None
    priority_key: float | None = None
    author_vip: bool = False
    unmentioned: bool = False  # found by a brand watch: no customer in it tagged the business


@dataclass(frozen=True, slots=True)
class PostRow:
    id: str
    thread_id: str
    parent_id: str | None
    network: str
    url: str
    text: str
    created_at: str
    reshare_count: int
    quote_count: int
    like_count: int
    reply_count: int
    visibility: str
    direction: str
    author_id: str
    author_handle: str
    author_name: str
    author_influence: int
    author_followers: int
    author_following: int
    author_posts: int
    author_engagement: int
    attachments: str = "[]"
    edited_at: str | None = None
    deleted_at: str | None = None
    author_amplification: int = 0


_THREAD_COLUMNS = """
    t.id, t.account_id, t.network, t.status, t.needs_reply, t.last_activity_at, t.waiting_since, t.snooze_until,
    t.post_count, t.reshare_total, coalesce(p.text, ''), a.id, coalesce(a.handle, ''), coalesce(a.display_name, ''),
    coalesce(a.influence, 0), coalesce(a.followers_count, 0), t.heat, t.reach, t.reshares_last_hour,
    t.escalating_since, t.priority_key, coalesce((SELECT vip FROM author_notes n WHERE n.author_id = a.id), 0),
    t.unmentioned
"""

_FROM_THREADS = """
    FROM threads t
    LEFT JOIN posts p ON p.id = t.last_in_post_id
    LEFT JOIN authors a ON a.id = p.author_id
"""

_VIEW_WHERE = {
    ViewKind.NEEDS_REPLY: "t.status = 'open' AND t.needs_reply = 1",
    ViewKind.OPEN: "t.status = 'open'",
    ViewKind.SNOOZED: "t.status = 'snoozed'",
    ViewKind.DONE: "t.status = 'done'",
    ViewKind.ACCOUNT: "t.account_id = :account_id",
    ViewKind.ALL: "1 = 1",
    # '+' keeps the planner on the small partial index threads_escalating rather than every open thread.
    ViewKind.ESCALATING: "t.escalating_since IS NOT NULL AND +t.status = 'open'",
    # Index-backed: the partial index threads_unmentioned (status, last_activity_at, id) WHERE unmentioned = 1.
    ViewKind.UNMENTIONED: "t.status = 'open' AND t.unmentioned = 1",
}


@dataclass(frozen=True, slots=True)
class _Ordering:
    """An ORDER BY and its keyset: rows after ``(a, b)`` of the previous page's last row, or up to and including
    ``(a, b)`` of a row (``until``: everything a list has shown down to that row)."""

    order_by: str
    after: str
    until: str
    columns: tuple[str, str]


_LATEST = _Ordering("t.last_activity_at DESC, t.id DESC", "(t.last_activity_at, t.id) < (:after_a, :after_b)",
                    "(t.last_activity_at, t.id) >= (:until_a, :until_b)", ("last_activity_at", "id"))
_ORDERINGS = {
    # Index-backed: threads_by_priority (status, needs_reply, priority_key, id).
    ViewKind.NEEDS_REPLY: _Ordering("t.priority_key, t.id", "(t.priority_key, t.id) > (:after_a, :after_b)",
                                    "(t.priority_key, t.id) <= (:until_a, :until_b)", ("priority_key", "id")),
    # Few rows (a partial index holds them): the hottest first.
    ViewKind.ESCALATING: _Ordering("t.heat DESC, t.id DESC", "(t.heat, t.id) < (:after_a, :after_b)",
                                   "(t.heat, t.id) >= (:until_a, :until_b)", ("heat", "id")),
}


def _ordering(view: View, order: Order) -> _Ordering:
    if order is Order.PRIORITY and not view.search.strip():
        return _ORDERINGS.get(view.kind, _LATEST)
    return _LATEST


def keyset_of(row: ThreadRow, view: View, order: Order = Order.LATEST) -> tuple[object, object]:
    """The keyset values of ``row`` under this view and order: pass as ``after`` to get the next page."""
    first, second = _ordering(view, order).columns
    return getattr(row, first), getattr(row, second)

_SEARCH_WHERE = """t.id IN (
    SELECT thread_id FROM posts WHERE pk IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH :match)
    UNION
    SELECT thread_id FROM posts WHERE direction = 'in' AND author_id IN (
        SELECT id FROM authors WHERE pk IN (SELECT rowid FROM authors_fts WHERE authors_fts MATCH :match)))"""

# The same condition asked of one thread at a time. Both lists are computed once per query (SQLite keeps a
# non-correlated IN list in a temporary index), so each thread costs a few index probes. Asking FTS per post
# instead (``posts_fts MATCH :match AND rowid = m.pk``) re-runs the match each time: for a prefix ("the*") that
# merges every matching term's postings per post, 1 s for one page at 100k posts.
_SEARCH_EXISTS = """(
    EXISTS (SELECT 1 FROM posts m WHERE m.thread_id = t.id
            AND m.pk IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH :match))
    OR EXISTS (SELECT 1 FROM posts m WHERE m.thread_id = t.id AND m.direction = 'in' AND m.author_id IN (
            SELECT id FROM authors WHERE pk IN (SELECT rowid FROM authors_fts WHERE authors_fts MATCH :match))))"""

# Searching for a word that is in a large share of posts ("the", "order", "ple*") through ``_SEARCH_WHERE`` turns
# every matching post into a thread id (a posts-table lookup, ~1 us per match) before the first row comes out: a
# word in 90% of a million posts cost most of a second. For such words most threads match, so walking the view in
# its own order and asking each thread whether it matches finds a page after a few hundred threads; the matching
# rowids are still all read from FTS, but only into a temporary index (~0.2 us each). A word is "common" when at
# least ``1 / COMMON_SHARE`` of all posts contain it, read off the FTS index by counting no further than that.
COMMON_SHARE = 50
# The walk looks at no more than this many threads per wanted row; finding fewer than a page within them (the word
# is common overall but rare in this view) falls back to the set query, so results never depend on the shortcut.
WALK_THREADS_PER_ROW = 20


def _is_common_term(db: sqlite_utils.Database, match: str) -> bool:
    posts = db.execute("SELECT coalesce(max(pk), 0) FROM posts").fetchone()[0]
    enough = max(1, posts // COMMON_SHARE)
    found = db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM posts_fts WHERE posts_fts MATCH ? LIMIT ?)", (match, enough)
    ).fetchone()[0]
    return bool(found >= enough)


def _view_clause(view: View, params: dict[str, object], search_where: str = _SEARCH_WHERE) -> str | None:
    clauses = [_VIEW_WHERE[view.kind]]
    if view.account_id is not None:
        params["account_id"] = view.account_id
        if view.kind is not ViewKind.ACCOUNT:
            clauses.append("t.account_id = :account_id")
    if view.search.strip():
        match = fts_query(view.search)
        if match is None:
            return None
        params["match"] = match
        clauses.append(search_where)
    return " AND ".join(clauses)


def list_threads(
    db: sqlite_utils.Database,
    view: View,
    limit: int,
    after: tuple[object, object] | None = None,
    order: Order = Order.LATEST,
) -> list[ThreadRow]:
    """One page of a view. ``after`` is ``keyset_of`` the previous page's last row (for the default order, its
    ``(last_activity_at, id)``). Priority order applies to "Needs reply" and "Escalating"; other views and searches
    are always latest first."""
    rows = _page(db, view, limit, after, order, f"SELECT {_THREAD_COLUMNS} {_FROM_THREADS}")
    return [_thread_row(row) for row in rows]


def list_thread_keys(
    db: sqlite_utils.Database,
    view: View,
    limit: int,
    after: tuple[object, object] | None = None,
    order: Order = Order.LATEST,
    until: tuple[object, object] | None = None,
) -> list[tuple[str, object]]:
    """The same rows as ``list_threads``, as ``(id, first keyset value)`` only; ``until`` (a row's keyset) stops
    after that row, however many come before it.

    A list model keeps every loaded row's id but the whole row only for the few pages near the viewport; this is
    how it learns the order of thousands of rows at once. Without the joins every view's query reads its index
    alone (the index holds the id and the sort columns), a fraction of a microsecond per row.
    """
    first = _ordering(view, order).columns[0]
    return _page(db, view, limit, after, order, f"SELECT t.id, t.{first} FROM threads t", until)


def threads_by_id(db: sqlite_utils.Database, ids: list[str], view: View | None = None) -> dict[str, ThreadRow]:
    """Rows for ``ids`` (any order; unknown ids are left out), limited to those still in ``view`` when given.

    The view's search words are not asked again: a search matched its threads by their words, which do not leave
    a thread as statuses do, and asking FTS again for every page of a common word costs the whole match each time.
    """
    params: dict[str, object] = {"ids": json.dumps(ids)}
    where = "1 = 1"
    if view is not None:
        where = _view_clause(View(view.kind, view.account_id), params) or "1 = 0"
    # CROSS JOIN keeps the planner on the id lookups: offered the view's own index (status, ...) it would walk
    # every thread of the view checking each against the list, 40 ms for "Done" at a million posts.
    joins = _FROM_THREADS.replace(
        "FROM threads t", "FROM json_each(:ids) AS wanted CROSS JOIN threads t ON t.id = wanted.value"
    )
    sql = f"""
        SELECT {_THREAD_COLUMNS} {joins}
        WHERE {where}"""
    return {row.id: row for row in map(_thread_row, db.execute(sql, params).fetchall())}


def _page(
    db: sqlite_utils.Database,
    view: View,
    limit: int,
    after: tuple[object, object] | None,
    order: Order,
    select: str,
    until: tuple[object, object] | None = None,
) -> list[tuple[object, ...]]:
    """The raw rows of one page of a view, ``select`` naming the columns and tables (``threads`` as ``t``)."""
    if view.search.strip():
        walked = _walk_common_search(db, view, limit, after, order, select, until)
        if walked is not None:
            return walked
    params: dict[str, object] = {"limit": limit}
    where = _view_clause(view, params)
    if where is None:
        return []
    ordering = _ordering(view, order)
    where += _keyset_clauses(ordering, params, after, until)
    sql = f"""
        {select}
        WHERE {where}
        ORDER BY {ordering.order_by}
        LIMIT :limit"""
    return db.execute(sql, params).fetchall()


def _keyset_clauses(
    ordering: _Ordering, params: dict[str, object], after: tuple[object, object] | None,
    until: tuple[object, object] | None,
) -> str:
    clauses = ""
    if after is not None:
        clauses += f" AND {ordering.after}"
        params["after_a"], params["after_b"] = after
    if until is not None:
        clauses += f" AND {ordering.until}"
        params["until_a"], params["until_b"] = until
    return clauses


def _walk_common_search(
    db: sqlite_utils.Database,
    view: View,
    limit: int,
    after: tuple[object, object] | None,
    order: Order,
    select: str,
    until: tuple[object, object] | None = None,
) -> list[tuple[object, ...]] | None:
    """A page of a search for a common word, by walking the view in order (see ``COMMON_SHARE``); ``None`` when
    the word is not common or the walk did not find a whole page (the caller then runs the set query).

    Exact, not approximate: the walk looks at the view's threads in the view's order, up to the
    ``limit * WALK_THREADS_PER_ROW``-th, and keeps the matching ones; when ``limit`` match, they are the first
    ``limit`` of the whole view, because every thread before them was looked at. A view shorter than the bound (or
    an ``until`` row before it) is walked to its end, and then a short page is the whole answer too.
    """
    match = fts_query(view.search)
    if match is None or limit <= 0 or not _is_common_term(db, match):
        return None
    params: dict[str, object] = {"limit": limit, "skip": limit * WALK_THREADS_PER_ROW - 1}
    where = _view_clause(view, params, search_where="1 = 1")
    if where is None:
        return None
    ordering = _ordering(view, order)
    where += _keyset_clauses(ordering, params, after, until)
    if ordering is not _LATEST:  # searches are always latest first; the bound below is written for that order
        return None
    # Where the walk stops: the keyset of the last thread it may look at (an index-only read). Without it the walk
    # would go on through a view where the word is rare; with it, the scan is a range of the view's index.
    bound = db.execute(
        f"SELECT t.last_activity_at, t.id FROM threads t WHERE {where} ORDER BY {ordering.order_by} LIMIT 1 OFFSET :skip",
        params,
    ).fetchone()
    within = ""
    if bound is not None:
        params["bound_a"], params["bound_b"] = bound
        within = " AND (t.last_activity_at, t.id) >= (:bound_a, :bound_b)"
    sql = f"""
        {select}
        WHERE {where}{within} AND {_SEARCH_EXISTS}
        ORDER BY {ordering.order_by}
        LIMIT :limit"""
    rows = db.execute(sql, params).fetchall()
    # Fewer than asked is still the whole answer when the walk reached the ``until`` row (or the view's end).
    walked_all = bound is None or (until is not None and tuple(bound) <= tuple(until))
    if len(rows) < limit and not walked_all:
        return None
    return rows


def _shared(value: object) -> object:
    """One copy of a string many rows repeat (account, network, status, the busiest authors): a list model that
    has been scrolled to the end holds every row it read, and these were a third of each row's memory."""
    return sys.intern(value) if isinstance(value, str) else value


def _thread_row(row: tuple[object, ...]) -> ThreadRow:
    shared = _shared
    return ThreadRow(  # type: ignore[arg-type]
        row[0], shared(row[1]), shared(row[2]), shared(row[3]), bool(row[4]), *row[5:11], shared(row[11]),
        shared(row[12]), shared(row[13]), *row[14:21], bool(row[21]), bool(row[22]),
    )


def get_thread(db: sqlite_utils.Database, thread_id: str) -> ThreadRow | None:
    row = db.execute(f"SELECT {_THREAD_COLUMNS} {_FROM_THREADS} WHERE t.id = ?", (thread_id,)).fetchone()
    return _thread_row(row) if row else None


def thread_posts(db: sqlite_utils.Database, thread_id: str) -> list[PostRow]:
    """Every post of a thread, oldest first, with its author's figures."""
    sql = """
        SELECT p.id, p.thread_id, p.parent_id, p.network, p.url, p.text, p.created_at, p.reshare_count,
               p.quote_count, p.like_count, p.reply_count, p.visibility, p.direction, p.author_id,
               coalesce(a.handle, ''), coalesce(a.display_name, ''), coalesce(a.influence, 0),
               coalesce(a.followers_count, 0), coalesce(a.following_count, 0), coalesce(a.posts_count, 0),
               coalesce(a.engagement, 0), p.attachments, p.edited_at, p.deleted_at, coalesce(a.amplification, 0)
        FROM posts p LEFT JOIN authors a ON a.id = p.author_id
        WHERE p.thread_id = ?
        ORDER BY p.created_at, p.id"""
    return [PostRow(*row) for row in db.execute(sql, (thread_id,)).fetchall()]


def view_counts(db: sqlite_utils.Database) -> dict[ViewKind, int]:
    """Badge numbers for the sidebar, each an index-only count."""
    counts = {}
    for kind in (ViewKind.NEEDS_REPLY, ViewKind.ESCALATING, ViewKind.UNMENTIONED, ViewKind.OPEN, ViewKind.SNOOZED,
                 ViewKind.DONE):
        counts[kind] = db.execute(f"SELECT count(*) FROM threads t WHERE {_VIEW_WHERE[kind]}").fetchone()[0]
    return counts


def account_thread_counts(db: sqlite_utils.Database) -> dict[str, int]:
    rows = db.execute("SELECT account_id, count(*) FROM threads WHERE status = 'open' GROUP BY account_id")
    return dict(rows.fetchall())
