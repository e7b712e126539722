"""Every change of an outbox item's state commits with ``synchronous = FULL``; the rest of the inbox stays at NORMAL.

A power cut cannot be staged in a test, so these tests check the cause instead: the synchronous level in force at
each COMMIT on the writer's real connection (``RecordingConnection``, a ``sqlite3.Connection`` that reads
``PRAGMA synchronous`` just before committing). At FULL SQLite fsyncs the write-ahead log at that commit; at NORMAL
only at checkpoints, so those commits may be lost to a power cut.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from console.domain import Post
from console.services.outbox import OutboxService
from console.services.writer import StoreWriter
from console.store import Inbox
from console.store import outbox as store
from console.store.database import SYNCHRONOUS_FULL, synchronous_full
from console.store.outbox import NewReply, OutboxError, OutboxState

FULL = SYNCHRONOUS_FULL
NORMAL = 1
UNDO = timedelta(seconds=20)


class RecordingConnection(sqlite3.Connection):
    """The writer's connection, noting the synchronous level each transaction commits at."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commit_levels: list[int] = []

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        if sql.strip().rstrip(";").upper() in ("COMMIT", "END"):
            self.commit_levels.append(super().execute("PRAGMA synchronous").fetchone()[0])
        return super().execute(sql, *args)

    def level(self) -> int:
        return super().execute("PRAGMA synchronous").fetchone()[0]


@pytest.fixture
def recorded(inbox_path: Path, clock, monkeypatch) -> Iterator[Inbox]:
    """The inbox as the app opens it (``Inbox.open``: migrations, pragmas, lock), on a recording connection."""
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", RecordingConnection)
        return real_connect(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(sqlite3, "connect", connect)
        opened = Inbox.open(inbox_path, clock)
    assert isinstance(opened.db.conn, RecordingConnection)
    yield opened
    opened.close()


@pytest.fixture
def conn(recorded: Inbox) -> RecordingConnection:
    return recorded.db.conn  # type: ignore[return-value]


@pytest.fixture
def complaint(recorded: Inbox, records, helpers, conn: RecordingConnection) -> str:
    recorded.ensure_account(helpers.account)
    recorded.apply_batch(records.batch(records.post("1", minute=-5, text="the bread was stale")))
    conn.commit_levels.clear()
    return "mastodon:1"


def committed_durably(conn: RecordingConnection, step: str, action: Callable[[], Any]) -> Any:
    """Run one outbox action: exactly one commit, at FULL, and the connection back at NORMAL after it."""
    conn.commit_levels.clear()
    result = action()
    assert conn.commit_levels == [FULL], step
    assert conn.level() == NORMAL and not conn.in_transaction, step
    return result


def test_the_connection_starts_at_normal_and_ingest_commits_at_normal(conn, complaint, recorded, records):
    assert conn.level() == NORMAL
    recorded.apply_batch(records.batch(records.post("2", minute=-4)))
    assert conn.commit_levels == [NORMAL]


def test_every_transition_of_a_reply_commits_at_full(recorded, conn, complaint, clock, records):
    reply = NewReply(complaint, "So sorry, we will make it right.")

    item, _ = committed_durably(
        conn, "enqueue", lambda: store.enqueue(recorded, reply, now=clock(), send_after=clock() + UNDO)
    )
    item, _ = committed_durably(conn, "release", lambda: store.release(recorded, item.id, now=clock()))
    assert item.state is OutboxState.WAITING
    claimed = committed_durably(conn, "claim_due", lambda: store.claim_due(recorded, now=clock()))
    assert [c.id for c in claimed] == [item.id] and claimed[0].state is OutboxState.SENDING
    item, _ = committed_durably(
        conn, "mark_failed", lambda: store.mark_failed(recorded, item.id, "timeout", now=clock())
    )
    item, _ = committed_durably(conn, "retry", lambda: store.retry(recorded, item.id, now=clock()))
    committed_durably(conn, "claim_due again", lambda: store.claim_due(recorded, now=clock()))
    sent = records.post("99", direction="out", parent_id=complaint)
    item, _ = committed_durably(conn, "mark_sent", lambda: store.mark_sent(recorded, item.id, sent, now=clock()))
    assert item.state is OutboxState.SENT

    second, _ = committed_durably(
        conn, "enqueue", lambda: store.enqueue(recorded, reply, now=clock(), send_after=clock() + UNDO)
    )
    held, _ = committed_durably(conn, "recover", lambda: store.recover(recorded, now=clock()))
    assert [h.id for h in held] == [second.id]
    undone, _ = committed_durably(conn, "undo", lambda: store.undo(recorded, second.id, now=clock()))
    assert undone.state is OutboxState.CANCELLED

    # The switch is per transaction, not left on: the next synced page commits at NORMAL again.
    conn.commit_levels.clear()
    recorded.apply_batch(records.batch(records.post("3", minute=1)))
    assert conn.commit_levels == [NORMAL]


def test_recover_of_a_reply_cut_off_mid_send_commits_at_full(recorded, conn, complaint, clock):
    item, _ = store.enqueue(recorded, NewReply(complaint, "On its way."), now=clock(), send_after=clock())
    store.claim_due(recorded, now=clock())
    committed_durably(conn, "recover", lambda: store.recover(recorded, now=clock()))
    assert store.get_item(recorded, item.id).state is OutboxState.WAITING


@pytest.mark.parametrize("keep_history", [False, True])
def test_removing_an_account_with_a_reply_in_flight_commits_at_full(
    recorded, conn, complaint, clock, helpers, keep_history
):
    """Its outbox rows go with it (or stay with the archive): a power cut must not bring back a reply mid-send."""
    store.enqueue(recorded, NewReply(complaint, "On its way."), now=clock(), send_after=clock())
    store.claim_due(recorded, now=clock())
    committed_durably(
        conn, "remove_account", lambda: recorded.remove_account(helpers.account.id, keep_history=keep_history)
    )


def test_a_refused_transition_rolls_back_and_leaves_the_connection_at_normal(recorded, conn, complaint, clock):
    item, _ = store.enqueue(recorded, NewReply(complaint, "Sorry!"), now=clock(), send_after=clock() + UNDO)
    store.undo(recorded, item.id, now=clock())
    conn.commit_levels.clear()

    with pytest.raises(OutboxError):
        store.undo(recorded, item.id, now=clock())  # raises inside the transaction: a cancelled reply stays so
    with pytest.raises(OutboxError):
        store.enqueue(recorded, NewReply("mastodon:nope", "Hello"), now=clock(), send_after=clock())

    assert conn.commit_levels == [] and not conn.in_transaction
    assert conn.level() == NORMAL


def test_a_transaction_that_raises_after_writing_is_rolled_back_and_the_level_restored(recorded, conn, complaint):
    seen_inside = []
    with pytest.raises(ZeroDivisionError):
        with synchronous_full(conn), recorded.transaction() as db:
            seen_inside.append(conn.level())
            db.execute("DELETE FROM posts")
            1 / 0
    assert seen_inside == [FULL]
    assert conn.level() == NORMAL and not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM posts").fetchone()[0] == 1


def test_a_durable_block_refuses_to_start_inside_a_transaction(recorded, conn, complaint):
    """Its commit would be the outer transaction's, and SQLite cannot change the level inside one anyway."""
    with recorded.transaction():
        with pytest.raises(RuntimeError, match="outside any transaction"):
            with synchronous_full(conn):
                pass
        assert conn.in_transaction
    assert conn.level() == NORMAL


@pytest.mark.parametrize("level", [0, NORMAL, FULL, 3], ids=["off", "normal", "full", "extra"])
def test_the_block_raises_the_level_to_at_least_full_and_puts_back_the_one_it_found(recorded, conn, level):
    conn.execute(f"PRAGMA synchronous = {level}")
    with synchronous_full(conn):
        assert conn.level() == max(level, FULL)
    assert conn.level() == level


class RecordingNetwork:
    """A network that accepts every reply, noting what the inbox had committed at the moment it was asked."""

    def __init__(self, conn: RecordingConnection, path: Path, records) -> None:
        self._conn = conn
        self._path = path
        self._records = records
        self.seen: list[tuple[list[int], str]] = []

    async def send_reply(self, reply) -> Post:
        # Read through another connection: only what was committed is visible there.
        other = sqlite3.connect(self._path)
        try:
            state = other.execute(
                "SELECT state FROM outbox WHERE idempotency_key = ?", (reply.idempotency_key,)
            ).fetchone()[0]
        finally:
            other.close()
        self.seen.append((list(self._conn.commit_levels), state))
        return self._records.post("99", direction="out", parent_id=reply.in_reply_to.id)


@pytest.mark.asyncio
async def test_the_claim_is_on_disk_before_the_network_is_asked(recorded, conn, complaint, clock, records, inbox_path):
    network = RecordingNetwork(conn, inbox_path, records)
    writer = StoreWriter(recorded)
    service = OutboxService(writer, lambda account_id: network, clock, undo_window=UNDO)  # type: ignore[arg-type]
    try:
        item = await service.queue(complaint, "So sorry, we will make it right.")
        clock.advance(seconds=21)
        conn.commit_levels.clear()

        [sent] = await service.send_due()

        # The claim was the last commit before the request, at FULL, and it is committed (visible elsewhere).
        assert network.seen == [([FULL], "sending")]
        assert sent.id == item.id and sent.state is OutboxState.SENT
        assert conn.commit_levels == [FULL, FULL]  # the claim, then mark_sent
        assert conn.level() == NORMAL
    finally:
        writer.close()  # closes the inbox too; the fixture's second close is a no-op
