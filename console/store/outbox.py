"""The undo-send outbox, drafts and thread events: the store side of answering (reply settings: reply_settings.py).

Every function takes the ``Inbox`` first, so the app runs writes on the writer thread
(``writer.call(outbox.enqueue, ...)``) and the UI runs reads on its own reader ``Inbox``.

A reply's life (``state``)::

    enqueue ─► waiting ──(send_after passed: claim_due)──► sending ──► sent
                 │  ▲                                          │
           undo  │  │ release / retry                          └──► failed ──(retry)──► waiting
                 ▼  │                                                 │
             cancelled ◄── undo ── held ◄──(recover: a crash in the undo window)
                                                                      undo ──► cancelled

The reply shows in its thread at once as a pending post (``posts.id = 'pending:<outbox id>'``, direction ``out``),
so the thread leaves "Needs reply" the moment the owner presses Send. Sending replaces the pending post with the
network's own post in one transaction; undoing deletes it and the thread needs a reply again. A failed send keeps
the pending post (``outbox_state`` tells the thread view it was not sent) and the item: nothing is ever lost.

Every change of an item's state commits with ``synchronous = FULL`` (``_durable``), while the rest of the inbox
commits at NORMAL: a power cut may take back the last synced pages (sync fetches them again), but never a claim,
a send or an undo, which could otherwise put a reply that already went out back in the queue to go out again.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlite_utils

from console.domain import Attachment, Batch, Direction, Post, Visibility, iso_utc
from console.store.database import synchronous_full
from console.store.inbox import ChangeSet, Inbox, refresh_threads

PENDING_PREFIX = "pending:"


class OutboxState(StrEnum):
    WAITING = "waiting"  # in the undo window (or scheduled): sent once ``send_after`` has passed
    HELD = "held"  # the app stopped during the undo window: waits for the owner's Send or Undo
    SENDING = "sending"  # handed to the network; after a crash it goes back to waiting (the key prevents doubles)
    SENT = "sent"
    FAILED = "failed"  # the network refused or could not be reached; ``last_error`` says why; Retry or Undo
    CANCELLED = "cancelled"  # undone by the owner


class EventKind(StrEnum):
    COOLOFF_OVERRIDE = "cooloff_override"
    SENT = "sent"
    UNDONE = "undone"
    SEND_FAILED = "send_failed"


class OutboxError(ValueError):
    """An outbox action that does not apply to the item's current state (for example undoing a sent reply)."""


@dataclass(frozen=True, slots=True)
class NewReply:
    """What the composer hands over: the post answered (its thread and account follow from it), words, visibility."""

    in_reply_to_id: str
    text: str
    visibility: Visibility = Visibility.PUBLIC


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: str
    account_id: str
    thread_id: str
    in_reply_to_id: str
    text: str
    visibility: Visibility
    idempotency_key: str
    state: OutboxState
    send_after: str
    created_at: str
    updated_at: str
    attempts: int = 0
    last_error: str | None = None
    sent_post_id: str | None = None

    @property
    def pending_post_id(self) -> str:
        return pending_post_id(self.id)

    @property
    def can_undo(self) -> bool:
        return self.state in (OutboxState.WAITING, OutboxState.HELD, OutboxState.FAILED)


@dataclass(frozen=True, slots=True)
class StoredDraft:
    thread_id: str
    account_id: str
    text: str
    visibility: Visibility
    updated_at: str
    held_since: str | None = None  # when a heated draft's cool-off hold began (ISO, UTC)


@dataclass(frozen=True, slots=True)
class ThreadEvent:
    id: int
    thread_id: str
    at: str
    kind: EventKind
    detail: dict[str, Any]


def pending_post_id(outbox_id: str) -> str:
    return PENDING_PREFIX + outbox_id


def is_pending_post(post_id: str) -> bool:
    return post_id.startswith(PENDING_PREFIX)


_ITEM_COLUMNS = """id, account_id, thread_id, in_reply_to_id, text, visibility, idempotency_key, state, send_after,
                   created_at, updated_at, attempts, last_error, sent_post_id"""


def _item(row: tuple) -> OutboxItem:
    values = list(row)
    values[5] = Visibility(values[5])
    values[7] = OutboxState(values[7])
    return OutboxItem(*values)


def _get(conn: sqlite3.Connection | Any, outbox_id: str) -> OutboxItem:
    row = conn.execute(f"SELECT {_ITEM_COLUMNS} FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
    if row is None:
        raise OutboxError(f"no outbox item {outbox_id!r}")
    return _item(row)


def _event(conn: Any, thread_id: str, at: str, kind: EventKind, detail: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO thread_events (thread_id, at, kind, detail) VALUES (?, ?, ?, ?)",
        (thread_id, at, str(kind), json.dumps(detail, ensure_ascii=False, sort_keys=True)),
    )


def _set_state(conn: Any, item: OutboxItem, state: OutboxState, now: str, **fields: object) -> OutboxItem:
    assignments = ", ".join(f"{name} = :{name}" for name in fields)
    conn.execute(
        f"UPDATE outbox SET state = :state, updated_at = :now{', ' + assignments if assignments else ''} WHERE id = :id",
        {"state": str(state), "now": now, "id": item.id, **fields},
    )
    return _get(conn, item.id)


def _require(item: OutboxItem, *states: OutboxState, action: str) -> None:
    if item.state not in states:
        raise OutboxError(f"cannot {action} a reply that is {item.state}")


@contextlib.contextmanager
def _durable(inbox: Inbox) -> Iterator[sqlite_utils.Database]:
    """The transaction of a state change, on disk when it returns: ``claim_due`` returns, and the service hands the
    reply to the network, only once the claim would survive a power cut."""
    with synchronous_full(inbox.db.conn), inbox.transaction() as db:
        yield db


def _changes(item: OutboxItem) -> ChangeSet:
    return ChangeSet(frozenset({item.thread_id}), 0, item.account_id)


# -- the business's own author row ---------------------------------------------------------------------------------


def _business_author(conn: Any, account_id: str, network: str, thread_id: str) -> str:
    """Whom a pending reply is by: the author of the account's own replies if any are stored, else a stand-in."""
    row = conn.execute(
        """SELECT author_id FROM posts WHERE account_id = ? AND direction = 'out' AND id NOT LIKE 'pending:%'
           ORDER BY thread_id = ? DESC, created_at DESC LIMIT 1""",
        (account_id, thread_id),
    ).fetchone()
    if row is not None:
        return row[0]
    handle, display_name, remote_id = conn.execute(
        "SELECT handle, display_name, remote_id FROM accounts WHERE id = ?", (account_id,)
    ).fetchone()
    if remote_id:
        known = conn.execute("SELECT id FROM authors WHERE id = ?", (f"{network}:{remote_id}",)).fetchone()
        if known is not None:
            return known[0]
    stand_in = f"{network}:self:{account_id}"
    # observed_at '' so the real profile, whenever it arrives, replaces this minimal row.
    conn.execute(
        """INSERT INTO authors (id, network, handle, display_name, observed_at) VALUES (?, ?, ?, ?, '')
           ON CONFLICT(id) DO NOTHING""",
        (stand_in, network, handle, display_name),
    )
    return stand_in


def _delete_pending_post(conn: Any, outbox_id: str) -> None:
    post_id = pending_post_id(outbox_id)
    conn.execute("DELETE FROM count_samples WHERE post_id = ?", (post_id,))
    conn.execute("DELETE FROM posts WHERE id = ?", (post_id,))


# -- the outbox ----------------------------------------------------------------------------------------------------


def enqueue(inbox: Inbox, reply: NewReply, *, now: datetime, send_after: datetime) -> tuple[OutboxItem, ChangeSet]:
    """Put a reply in the outbox and show it in its thread as pending, in one transaction; clears the draft."""
    if not reply.text.strip():
        raise OutboxError("an empty reply cannot be sent")
    stamp = iso_utc(now)
    outbox_id = uuid.uuid4().hex
    with _durable(inbox) as db:
        parent = db.execute(
            "SELECT account_id, thread_id, network FROM posts WHERE id = ?", (reply.in_reply_to_id,)
        ).fetchone()
        if parent is None:
            raise OutboxError(f"the post {reply.in_reply_to_id!r} being answered is not in the inbox")
        account_id, thread_id, network = parent
        db.execute(
            """INSERT INTO outbox (id, account_id, thread_id, in_reply_to_id, text, visibility, idempotency_key,
                                   state, send_after, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?)""",
            (outbox_id, account_id, thread_id, reply.in_reply_to_id, reply.text, str(reply.visibility),
             f"tend-{uuid.uuid4().hex}", iso_utc(send_after), stamp, stamp),
        )
        author_id = _business_author(db, account_id, network, thread_id)
        db.execute(
            """INSERT INTO posts (id, network, account_id, thread_id, parent_id, author_id, text, created_at,
                                  observed_at, visibility, direction)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'out')""",
            (pending_post_id(outbox_id), network, account_id, thread_id, reply.in_reply_to_id, author_id,
             reply.text, stamp, stamp, str(reply.visibility)),
        )
        refresh_threads(db.conn, {thread_id}, stamp)
        db.execute("DELETE FROM drafts WHERE thread_id = ?", (thread_id,))
        item = _get(db, outbox_id)
    return item, _changes(item)


def undo(inbox: Inbox, outbox_id: str, *, now: datetime) -> tuple[OutboxItem, ChangeSet]:
    """Take a reply back before it is sent: the pending post goes, the thread needs a reply again, and the words
    return to the thread's draft (unless the owner has started a new one)."""
    stamp = iso_utc(now)
    with _durable(inbox) as db:
        item = _get(db, outbox_id)
        _require(item, OutboxState.WAITING, OutboxState.HELD, OutboxState.FAILED, action="undo")
        item = _set_state(db, item, OutboxState.CANCELLED, stamp)
        _delete_pending_post(db, outbox_id)
        # The undone reply may have been the thread's first response; recompute it from what remains.
        db.execute("UPDATE threads SET first_response_at = NULL WHERE id = ?", (item.thread_id,))
        refresh_threads(db.conn, {item.thread_id}, stamp)
        db.execute(
            """INSERT INTO drafts (thread_id, account_id, text, visibility, updated_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT(thread_id) DO NOTHING""",
            (item.thread_id, item.account_id, item.text, str(item.visibility), stamp),
        )
        _event(db, item.thread_id, stamp, EventKind.UNDONE, {"outbox_id": item.id})
    return item, _changes(item)


def claim_due(inbox: Inbox, *, now: datetime) -> list[OutboxItem]:
    """Move every due waiting reply to ``sending`` (one more attempt each) and return them: only one caller can
    claim an item, so it is handed to the network once per attempt."""
    stamp = iso_utc(now)
    with _durable(inbox) as db:
        ids = [
            row[0]
            for row in db.execute(
                """UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ?
                   WHERE state = 'waiting' AND send_after <= ? RETURNING id""",
                (stamp, stamp),
            ).fetchall()
        ]
        items = [_get(db, i) for i in ids]
    return sorted(items, key=lambda item: (item.send_after, item.created_at))


def mark_sent(inbox: Inbox, outbox_id: str, post: Post, *, now: datetime) -> tuple[OutboxItem, ChangeSet]:
    """The network accepted the reply: store its post, drop the pending one, all in one transaction."""
    stamp = iso_utc(now)
    with _durable(inbox) as db:
        item = _get(db, outbox_id)
        _require(item, OutboxState.SENDING, action="mark as sent")
        post = replace(post, account_id=item.account_id, thread_id=item.thread_id, direction=Direction.OUT)
        # The network's post may name an author this inbox has not seen yet (the business's own profile).
        db.execute(
            """INSERT INTO authors (id, network, handle, display_name, observed_at)
               SELECT ?, network, handle, display_name, '' FROM accounts WHERE id = ?
               ON CONFLICT(id) DO NOTHING""",
            (post.author_id, item.account_id),
        )
        _delete_pending_post(db, outbox_id)
        inbox.write_records(db, Batch(item.account_id, "outbox", (post,)), stamp)  # refreshes the thread too
        item = _set_state(db, item, OutboxState.SENT, stamp, sent_post_id=post.id, last_error=None)
        _event(db, item.thread_id, stamp, EventKind.SENT, {"outbox_id": item.id, "post_id": post.id})
    return item, ChangeSet(frozenset({item.thread_id}), 0, item.account_id)


def mark_failed(inbox: Inbox, outbox_id: str, reason: str, *, now: datetime) -> tuple[OutboxItem, ChangeSet]:
    """The send failed: keep the item (and its pending post) with the reason, for the owner's Retry or Undo."""
    stamp = iso_utc(now)
    with _durable(inbox) as db:
        item = _get(db, outbox_id)
        _require(item, OutboxState.SENDING, action="mark as failed")
        item = _set_state(db, item, OutboxState.FAILED, stamp, last_error=reason)
        _event(db, item.thread_id, stamp, EventKind.SEND_FAILED,
               {"outbox_id": item.id, "reason": reason, "attempt": item.attempts})
    return item, _changes(item)


def retry(inbox: Inbox, outbox_id: str, *, now: datetime) -> tuple[OutboxItem, ChangeSet]:
    """Send a failed reply again, now, with the same idempotency key (a send that did land is not repeated)."""
    return _send_now(inbox, outbox_id, now, (OutboxState.FAILED,), "retry")


def release(inbox: Inbox, outbox_id: str, *, now: datetime) -> tuple[OutboxItem, ChangeSet]:
    """The owner's Send on a held reply (or "send now" inside the undo window): due at once."""
    return _send_now(inbox, outbox_id, now, (OutboxState.HELD, OutboxState.WAITING), "send")


def _send_now(
    inbox: Inbox, outbox_id: str, now: datetime, states: tuple[OutboxState, ...], action: str
) -> tuple[OutboxItem, ChangeSet]:
    stamp = iso_utc(now)
    with _durable(inbox) as db:
        item = _get(db, outbox_id)
        _require(item, *states, action=action)
        item = _set_state(db, item, OutboxState.WAITING, stamp, send_after=stamp)
    return item, _changes(item)


def recover(inbox: Inbox, *, now: datetime) -> tuple[list[OutboxItem], ChangeSet]:
    """At startup, after a crash or quit: replies that were still in their undo window are held for the owner
    (not sent behind their back, not lost); replies cut off mid-send are due again at once, which is safe because
    the network recognises the idempotency key. Returns the held items."""
    stamp = iso_utc(now)
    with _durable(inbox) as db:
        # Order matters: a reply cut off mid-send must go back to waiting without then being held.
        held = db.execute(
            "UPDATE outbox SET state = 'held', updated_at = ? WHERE state = 'waiting' RETURNING id", (stamp,)
        ).fetchall()
        resumed = db.execute(
            """UPDATE outbox SET state = 'waiting', send_after = ?, updated_at = ? WHERE state = 'sending'
               RETURNING thread_id""",
            (stamp, stamp),
        ).fetchall()
        items = [_get(db, row[0]) for row in held]
    threads = frozenset(i.thread_id for i in items) | frozenset(row[0] for row in resumed)
    return items, ChangeSet(threads)


def get_item(inbox: Inbox, outbox_id: str) -> OutboxItem:
    return _get(inbox.db, outbox_id)


def items_for_thread(inbox: Inbox, thread_id: str, *, include_done: bool = False) -> list[OutboxItem]:
    """A thread's replies in the outbox, oldest first; by default only those still needing the owner or the
    network (not sent, not cancelled)."""
    where = "" if include_done else "AND state NOT IN ('sent', 'cancelled')"
    rows = inbox.db.execute(
        f"SELECT {_ITEM_COLUMNS} FROM outbox WHERE thread_id = ? {where} ORDER BY created_at, id", (thread_id,)
    ).fetchall()
    return [_item(row) for row in rows]


def items_in_states(inbox: Inbox, *states: OutboxState) -> list[OutboxItem]:
    """For example every held and failed reply, for a "needs your attention" notice at startup."""
    rows = inbox.db.execute(
        f"""SELECT {_ITEM_COLUMNS} FROM outbox WHERE state IN (SELECT value FROM json_each(?))
            ORDER BY created_at, id""",
        (json.dumps([str(s) for s in states]),),
    ).fetchall()
    return [_item(row) for row in rows]


def account_of_post(inbox: Inbox, post_id: str) -> str | None:
    row = inbox.db.execute("SELECT account_id FROM posts WHERE id = ?", (post_id,)).fetchone()
    return row[0] if row else None


def load_post(inbox: Inbox, post_id: str) -> Post:
    """A stored post as the record connectors take (the post a reply answers)."""
    row = inbox.db.execute(
        """SELECT id, network, account_id, thread_id, author_id, text, created_at, observed_at, parent_id, url,
                  reshare_count, quote_count, like_count, reply_count, visibility, direction, attachments, edited_at
           FROM posts WHERE id = ?""",
        (post_id,),
    ).fetchone()
    if row is None:
        raise OutboxError(f"the post {post_id!r} is not in the inbox")
    values = list(row)
    values[14] = Visibility(values[14])
    values[15] = Direction(values[15])
    values[16] = tuple(
        Attachment(a.get("kind", ""), a.get("url", ""), a.get("description", "")) for a in json.loads(values[16])
    )
    return Post(*values)


# -- drafts --------------------------------------------------------------------------------------------------------


def save_draft(
    inbox: Inbox, thread_id: str, account_id: str, text: str, visibility: Visibility, *, now: datetime,
    held_since: datetime | None = None,
) -> None:
    """Keep what the owner has typed (an empty draft is removed), with when its cool-off hold began, if held."""
    with inbox.transaction() as db:
        if not text.strip():
            db.execute("DELETE FROM drafts WHERE thread_id = ?", (thread_id,))
            return
        db.execute(
            """INSERT INTO drafts (thread_id, account_id, text, visibility, updated_at, held_since)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT(thread_id) DO UPDATE SET text = excluded.text, visibility = excluded.visibility,
                   updated_at = excluded.updated_at, account_id = excluded.account_id,
                   held_since = excluded.held_since""",
            (thread_id, account_id, text, str(visibility), iso_utc(now),
             iso_utc(held_since) if held_since is not None else None),
        )


def load_draft(inbox: Inbox, thread_id: str) -> StoredDraft | None:
    row = inbox.db.execute(
        "SELECT thread_id, account_id, text, visibility, updated_at, held_since FROM drafts WHERE thread_id = ?",
        (thread_id,),
    ).fetchone()
    if row is None:
        return None
    return StoredDraft(row[0], row[1], row[2], Visibility(row[3]), row[4], row[5])


def delete_draft(inbox: Inbox, thread_id: str) -> None:
    with inbox.transaction() as db:
        db.execute("DELETE FROM drafts WHERE thread_id = ?", (thread_id,))


# -- thread events -------------------------------------------------------------------------------------------------


def record_event(
    inbox: Inbox, thread_id: str, kind: EventKind, detail: dict[str, Any] | None = None, *, now: datetime
) -> ChangeSet:
    """Note something on a thread's record (the composer records a cool-off override this way)."""
    with inbox.transaction() as db:
        _event(db, thread_id, iso_utc(now), EventKind(kind), detail or {})
    return ChangeSet(frozenset({thread_id}))


def thread_events(inbox: Inbox, thread_id: str) -> list[ThreadEvent]:
    rows = inbox.db.execute(
        "SELECT id, thread_id, at, kind, detail FROM thread_events WHERE thread_id = ? ORDER BY at, id", (thread_id,)
    ).fetchall()
    return [ThreadEvent(r[0], r[1], r[2], EventKind(r[3]), json.loads(r[4])) for r in rows]


def first_response_at(inbox: Inbox, thread_id: str) -> str | None:
    row = inbox.db.execute("SELECT first_response_at FROM threads WHERE id = ?", (thread_id,)).fetchone()
    return row[0] if row else None
