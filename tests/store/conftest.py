"""Shared fixtures for the store tests: a real inbox file in ``tmp_path``, a settable clock, record builders."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from console.domain import Account, Author, Batch, Direction, Post, iso_utc
from console.store import Inbox

EPOCH = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
NETWORK = "mastodon"
ACCOUNT = Account("mastodon:biz", NETWORK, "biz@example.social", "https://example.social", "The Bakery")
OTHER_ACCOUNT = Account("mastodon:shop", NETWORK, "shop@example.social", "https://example.social", "The Shop")
BUSINESS_AUTHOR = "mastodon:biz-author"


def at(minutes: float) -> str:
    """A canonical timestamp ``minutes`` after a fixed moment: readable offsets instead of literal dates."""
    return iso_utc(EPOCH + timedelta(minutes=minutes))


class FakeClock:
    """An injected clock the tests move by hand."""

    def __init__(self, start: datetime = EPOCH) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Records:
    """Builders for domain records with sensible defaults, so each test states only what it is about."""

    def author(self, name: str, **fields: object) -> Author:
        values: dict[str, object] = {
            "id": f"{NETWORK}:{name}",
            "network": NETWORK,
            "handle": f"{name}@example.social",
            "display_name": name.title(),
            "observed_at": at(0),
        }
        values.update(fields)
        return Author(**values)  # type: ignore[arg-type]

    def post(
        self,
        native_id: str,
        thread: str = "t1",
        *,
        minute: float = 0,
        author: str = "alice",
        direction: Direction | str = Direction.IN,
        observed_minute: float | None = None,
        account: Account = ACCOUNT,
        **fields: object,
    ) -> Post:
        author_id = BUSINESS_AUTHOR if direction == Direction.OUT and author == "alice" else f"{NETWORK}:{author}"
        values: dict[str, object] = {
            "id": f"{NETWORK}:{native_id}",
            "network": NETWORK,
            "account_id": account.id,
            "thread_id": f"{NETWORK}:{thread}",
            "author_id": author_id,
            "text": f"post {native_id}",
            "created_at": at(minute),
            "observed_at": at(minute if observed_minute is None else observed_minute),
            "direction": direction,
        }
        values.update(fields)
        return Post(**values)  # type: ignore[arg-type]

    def batch(self, *posts: Post, authors: tuple[Author, ...] | None = None, cursor: str | None = None,
              account: Account = ACCOUNT, stream: str = "mentions") -> Batch:
        """A batch that also carries every author its posts need, unless told otherwise."""
        if authors is None:
            names = sorted({p.author_id.split(":", 1)[1] for p in posts})
            authors = tuple(
                self.author(n, handle="biz@example.social", display_name="The Bakery")
                if f"{NETWORK}:{n}" == BUSINESS_AUTHOR
                else self.author(n)
                for n in names
            )
        return Batch(account.id, stream, tuple(posts), authors, cursor)


@pytest.fixture
def records() -> Records:
    return Records()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def inbox_path(tmp_path: Path) -> Path:
    return tmp_path / "inbox.db"


@pytest.fixture
def inbox(inbox_path: Path, clock: FakeClock) -> Iterator[Inbox]:
    opened = Inbox.open(inbox_path, clock)
    opened.ensure_account(ACCOUNT)
    opened.ensure_account(OTHER_ACCOUNT)
    yield opened
    opened.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sidecars(path: Path) -> list[str]:
    """Files SQLite or Tend may put next to a database (``-wal``, ``-shm``, ``-journal``, backups)."""
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name) and p != path)


def dump(conn: sqlite3.Connection, table: str) -> list[tuple]:
    """Every row of a table in a stable order (FTS tables with their rowids, which tie them to the posts)."""
    columns = "rowid, *" if table.endswith("_fts") else "*"
    return sorted(conn.execute(f"SELECT {columns} FROM {table}").fetchall(), key=repr)


def schema(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()


def pragma(path: Path, name: str) -> object:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def helpers() -> object:
    """Plain functions the test modules share, handed out as a fixture so no test imports conftest."""

    class Helpers:
        at = staticmethod(at)
        sha256 = staticmethod(sha256)
        sidecars = staticmethod(sidecars)
        dump = staticmethod(dump)
        schema = staticmethod(schema)
        pragma = staticmethod(pragma)
        account = ACCOUNT
        other_account = OTHER_ACCOUNT
        business_author = BUSINESS_AUTHOR

    return Helpers

