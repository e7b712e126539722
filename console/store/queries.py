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


_THREAD_COLUMNS = """
    t.id, t.account_id, t.network, t.status, t.needs_reply, t.last_activity_at, t.waiting_since, t.snooze_until,
    t.post_count, t.reshare_total, coalesce(p.text, ''), a.id, coalesce(a.handle, ''), coalesce(a.display_name, ''),
    coalesce(a.influence, 0), coalesce(a.followers_count, 0)
"""

_VIEW_WHERE = {
    ViewKind.NEEDS_REPLY: "t.status = 'open' AND t.needs_reply = 1",
    ViewKind.OPEN: "t.status = 'open'",
    ViewKind.SNOOZED: "t.status = 'snoozed'",
    ViewKind.DONE: "t.status = 'done'",
    ViewKind.ACCOUNT: "t.account_id = :account_id",
    ViewKind.ALL: "1 = 1",
}

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
    db: sqlite_utils.Database, view: View, limit: int, after: tuple[str, str] | None = None
) -> list[ThreadRow]:
    """One page of a view, newest activity first; ``after`` is the (last_activity_at, id) of the previous page's
    last row."""
    params: dict[str, object] = {"limit": limit}
    where = _view_clause(view, params)
    if where is None:
        return []
    if after is not None:
        where += " AND (t.last_activity_at, t.id) < (:after_at, :after_id)"
        params["after_at"], params["after_id"] = after
    sql = f"""
        SELECT {_THREAD_COLUMNS}
        FROM threads t
        LEFT JOIN posts p ON p.id = t.last_in_post_id
        LEFT JOIN authors a ON a.id = p.author_id
        WHERE {where}
        ORDER BY t.last_activity_at DESC, t.id DESC
        LIMIT :limit"""
    return [ThreadRow(*row[:4], bool(row[4]), *row[5:]) for row in db.execute(sql, params).fetchall()]


def get_thread(db: sqlite_utils.Database, thread_id: str) -> ThreadRow | None:
    sql = f"""SELECT {_THREAD_COLUMNS} FROM threads t
              LEFT JOIN posts p ON p.id = t.last_in_post_id
              LEFT JOIN authors a ON a.id = p.author_id
              WHERE t.id = ?"""
    row = db.execute(sql, (thread_id,)).fetchone()
    return ThreadRow(*row[:4], bool(row[4]), *row[5:]) if row else None


def thread_posts(db: sqlite_utils.Database, thread_id: str) -> list[PostRow]:
    """Every post of a thread, oldest first, with its author's figures."""
    sql = """
        SELECT p.id, p.thread_id, p.parent_id, p.network, p.url, p.text, p.created_at, p.reshare_count,
               p.quote_count, p.like_count, p.reply_count, p.visibility, p.direction, p.author_id,
               coalesce(a.handle, ''), coalesce(a.display_name, ''), coalesce(a.influence, 0),
               coalesce(a.followers_count, 0), coalesce(a.following_count, 0), coalesce(a.posts_count, 0),
               coalesce(a.engagement, 0), p.attachments, p.edited_at, p.deleted_at
        FROM posts p LEFT JOIN authors a ON a.id = p.author_id
        WHERE p.thread_id = ?
        ORDER BY p.created_at, p.id"""
    return [PostRow(*row) for row in db.execute(sql, (thread_id,)).fetchall()]


def view_counts(db: sqlite_utils.Database) -> dict[ViewKind, int]:
    """Badge numbers for the sidebar, each an index-only count."""
    counts = {}
    for kind in (ViewKind.NEEDS_REPLY, ViewKind.OPEN, ViewKind.SNOOZED, ViewKind.DONE):
        counts[kind] = db.execute(f"SELECT count(*) FROM threads t WHERE {_VIEW_WHERE[kind]}").fetchone()[0]
    return counts


def account_thread_counts(db: sqlite_utils.Database) -> dict[str, int]:
    rows = db.execute("SELECT account_id, count(*) FROM threads WHERE status = 'open' GROUP BY account_id")
    return dict(rows.fetchall())
