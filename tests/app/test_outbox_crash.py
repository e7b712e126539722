"""Outbox durability with real processes killed by SIGKILL: nothing lost, nothing sent twice, the file intact."""

from __future__ import annotations

import asyncio
import os
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.domain import Author, Batch, Post, utc_now
from console.services.outbox import OutboxService
from console.services.writer import StoreWriter
from console.store import Inbox, queries
from console.store import outbox as store
from console.store.outbox import OutboxState
from tests.app.outbox_child import ACCOUNT, POST_ID, TEXT, LedgerConnector

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


@pytest.fixture
def inbox_path(tmp_path: Path) -> Path:
    """An inbox with one customer complaint waiting for an answer."""
    path = tmp_path / "inbox.db"
    inbox = Inbox.open(path)
    inbox.ensure_account(ACCOUNT)
    at = "2026-11-25T09:00:00.000Z"
    complaint = Post(POST_ID, "mastodon", ACCOUNT.id, POST_ID, "mastodon:ana", "the bread was stale", at, at)
    inbox.apply_batch(Batch(ACCOUNT.id, "mentions", (complaint,), (Author("mastodon:ana", "mastodon", "ana", "Ana"),)))
    inbox.close()
    return path


@pytest.fixture
def child(inbox_path: Path, tmp_path: Path) -> Iterator[callable]:
    started: list[subprocess.Popen[str]] = []

    def start(mode: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.app.outbox_child", mode, str(inbox_path), str(tmp_path / "ledger.json")],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def read_line(proc: subprocess.Popen[str], timeout: float = 30.0) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            proc.kill()
            raise AssertionError(f"the child said nothing in {timeout}s: {proc.stderr.read()}")
    line = proc.stdout.readline()
    assert line, f"the child ended early: {proc.stderr.read()}"
    return line.strip()


def kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL


def integrity(inbox: Inbox) -> str:
    return inbox.db.execute("PRAGMA integrity_check").fetchone()[0]


def test_killed_in_the_undo_window_the_reply_is_held_with_its_words(child, inbox_path: Path, tmp_path: Path) -> None:
    proc = child("window")
    outbox_id = read_line(proc).removeprefix("QUEUED ")
    kill(proc)

    inbox = Inbox.open(inbox_path)
    try:
        assert integrity(inbox) == "ok"
        assert store.get_item(inbox, outbox_id).state is OutboxState.WAITING
        held, _ = store.recover(inbox, now=utc_now())

        assert [(i.id, i.state, i.text) for i in held] == [(outbox_id, OutboxState.HELD, TEXT)]
        assert store.claim_due(inbox, now=utc_now()) == []  # never sent behind the owner's back
        posts = queries.thread_posts(inbox.db, POST_ID)
        assert [(p.id, p.text) for p in posts][-1] == (f"pending:{outbox_id}", TEXT)
        assert not queries.get_thread(inbox.db, POST_ID).needs_reply
        assert not (tmp_path / "ledger.json").exists()
    finally:
        inbox.close()


def test_killed_while_sending_the_reply_is_resent_with_its_key_and_posted_once(
    child, inbox_path: Path, tmp_path: Path
) -> None:
    proc = child("sending")
    outbox_id = read_line(proc).removeprefix("QUEUED ")
    assert read_line(proc) == "SENDING"
    kill(proc)
    ledger = tmp_path / "ledger.json"
    network = LedgerConnector(ACCOUNT, ledger, block=False)
    assert len(network.posts()) == 1  # the network took the post; the answer was lost with the process

    inbox = Inbox.open(inbox_path)
    assert integrity(inbox) == "ok"
    item = store.get_item(inbox, outbox_id)
    assert item.state is OutboxState.SENDING and item.attempts == 1
    assert store.recover(inbox, now=utc_now())[0] == []  # nothing held: it was past its window
    writer = StoreWriter(inbox)
    try:
        service = OutboxService(writer, lambda _account_id: network)
        (sent,) = asyncio.run(service.send_due())
    finally:
        writer.close()

    assert sent.state is OutboxState.SENT and sent.attempts == 2
    assert list(network.posts()) == [item.idempotency_key]  # exactly one post on the network
    inbox = Inbox.open(inbox_path)
    try:
        assert integrity(inbox) == "ok"
        out = [p.id for p in queries.thread_posts(inbox.db, POST_ID) if p.direction == "out"]
        assert out == ["mastodon:ledger-1"] == [sent.sent_post_id]
    finally:
        inbox.close()
