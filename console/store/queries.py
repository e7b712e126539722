"""Read queries behind the views: bounded, index-backed, paged by keyset so no view ever loads the whole inbox."""

from __future__ import annotations

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
    """An ORDER BY and its keyset: rows after ``(a, b)`` of the previous page's last row."""

    order_by: str
    after: str
    columns: tuple[str, str]


_LATEST = _Ordering("t.last_activity_at DESC, t.id DESC", "(t.last_activity_at, t.id) < (:after_a, :after_b)",
                    ("last_activity_at", "id"))
_ORDERINGS = {
    # Index-backed: threads_by_priority (status, needs_reply, priority_key, id).
    ViewKind.NEEDS_REPLY: _Ordering("t.priority_key, t.id", "(t.priority_key, t.id) > (:after_a, :after_b)",
                                    ("priority_key", "id")),
    # Few rows (a partial index holds them): the hottest first.
    ViewKind.ESCALATING: _Ordering("t.heat DESC, t.id DESC", "(t.heat, t.id) < (:after_a, :after_b)",
                                   ("heat", "id")),
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


def _view_clause(view: View, params: dict[str, object]) -> str | None:
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
        clauses.append(_SEARCH_WHERE)
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
    params: dict[str, object] = {"limit": limit}
    where = _view_clause(view, params)
    if where is None:
        return []
    ordering = _ordering(view, order)
    if after is not None:
        where += f" AND {ordering.after}"
        params["after_a"], params["after_b"] = after
    sql = f"""
        SELECT {_THREAD_COLUMNS}
        {_FROM_THREADS}
        WHERE {where}
        ORDER BY {ordering.order_by}
        LIMIT :limit"""
    return [_thread_row(row) for row in db.execute(sql, params).fetchall()]


def _thread_row(row: tuple[object, ...]) -> ThreadRow:
    return ThreadRow(*row[:4], bool(row[4]), *row[5:21], bool(row[21]), bool(row[22]))  # type: ignore[arg-type]


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
