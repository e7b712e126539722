"""Files Tend must refuse to open, and must leave exactly as it found them."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from console.store import Inbox, InboxCorrupt, InboxError, InboxTooNew, NotATendInbox, schema
from console.store.database import open_database


def _assert_refused(path: Path, error_type: type[InboxError], helpers) -> InboxError:
    """Open ``path`` expecting ``error_type``; the file and its neighbours must be exactly as before."""
    before_bytes = helpers.sha256(path)
    before_neighbours = helpers.sidecars(path)
    before_mtime = path.stat().st_mtime_ns

    with pytest.raises(error_type) as caught:
        Inbox.open(path)

    assert helpers.sha256(path) == before_bytes
    assert path.stat().st_mtime_ns == before_mtime
    assert helpers.sidecars(path) == before_neighbours, "refusing a file must not leave -wal/-shm/.bak files"
    message = str(caught.value)
    assert str(path) in message
    assert "untouched" in message
    assert "\n" not in message and "Traceback" not in message
    return caught.value


def _foreign_database(path: Path, *, wal: bool = False) -> None:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer TEXT, total REAL)")
    conn.executemany("INSERT INTO invoices (customer, total) VALUES (?, ?)", [("Ana", 12.5), ("Bo", 40.0)])
    conn.commit()
    conn.close()


def _tend_inbox(path: Path, records, helpers, posts: int = 1) -> None:
    inbox = Inbox.open(path)
    inbox.ensure_account(helpers.account)
    batch = records.batch(*[records.post(str(n), thread=f"t{n % 7}", minute=n) for n in range(posts)], cursor="c")
    inbox.apply_batch(batch)
    inbox.close()


def test_someone_elses_database_is_not_a_tend_inbox(tmp_path, helpers):
    path = tmp_path / "accounts.sqlite"
    _foreign_database(path)
    error = _assert_refused(path, NotATendInbox, helpers)
    assert "not a Tend inbox" in str(error)
    assert not path.with_name(path.name + "-wal").exists()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("SELECT count(*) FROM invoices").fetchone()[0] == 2
    conn.close()


def test_someone_elses_wal_database_gets_no_new_files(tmp_path, helpers):
    path = tmp_path / "notes.db"
    _foreign_database(path, wal=True)
    _assert_refused(path, NotATendInbox, helpers)


def test_a_database_with_only_a_user_version_is_not_ours(tmp_path, helpers):
    path = tmp_path / "versioned.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    _assert_refused(path, NotATendInbox, helpers)


def test_a_database_with_another_application_id_is_not_ours(tmp_path, helpers):
    path = tmp_path / "other-app.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.close()
    _assert_refused(path, NotATendInbox, helpers)


def test_inbox_from_a_newer_tend_is_left_alone(inbox_path, records, helpers):
    _tend_inbox(inbox_path, records, helpers)
    conn = sqlite3.connect(inbox_path)
    conn.execute(f"PRAGMA user_version = {schema.LATEST_VERSION + 1}")
    conn.close()

    error = _assert_refused(inbox_path, InboxTooNew, helpers)
    assert f"format {schema.LATEST_VERSION + 1}" in str(error)
    assert helpers.pragma(inbox_path, "user_version") == schema.LATEST_VERSION + 1


def test_random_bytes_are_corrupt(tmp_path, helpers):
    path = tmp_path / "noise.db"
    path.write_bytes(os.urandom(64 * 1024))
    _assert_refused(path, InboxCorrupt, helpers)


def test_a_text_file_is_refused(tmp_path, helpers):
    path = tmp_path / "notes.txt"
    path.write_text("Remember to order flour.\n" * 200)
    _assert_refused(path, InboxCorrupt, helpers)


@pytest.mark.parametrize("keep", [100, 4096, 3 * 4096, 0.5, -4096])
def test_a_truncated_inbox_is_corrupt(tmp_path, records, helpers, keep):
    whole = tmp_path / "whole.db"
    _tend_inbox(whole, records, helpers, posts=1500)
    data = whole.read_bytes()
    assert len(data) > 20 * 4096, "the inbox must span many pages for truncation to bite"
    if isinstance(keep, float):
        keep = int(len(data) * keep) // 4096 * 4096
    path = tmp_path / "truncated.db"
    path.write_bytes(data[:keep])
    _assert_refused(path, InboxCorrupt, helpers)


def test_a_header_only_sqlite_file_is_corrupt_not_new(tmp_path, helpers):
    """The first 100 bytes of a database, nothing else: SQLite's magic string but no pages."""
    donor = tmp_path / "donor.db"
    _foreign_database(donor)
    path = tmp_path / "stub.db"
    path.write_bytes(donor.read_bytes()[:100])
    with pytest.raises(InboxError):
        Inbox.open(path)
    assert path.read_bytes() == donor.read_bytes()[:100]


@pytest.mark.parametrize("name", ["inbox #2.db", "what?.db", "100%.db", "spaced name.db", "ünïcode.db"])
def test_awkward_file_names_work(tmp_path, helpers, name):
    """The read-only check opens the file by URI: characters with a meaning in URIs must not change the path."""
    path = tmp_path / name
    open_database(path).close()
    assert helpers.pragma(path, "application_id") == schema.APPLICATION_ID
    Inbox.open(path).close()


@pytest.mark.parametrize("name", ["inbox #2.db", "what?.db", "100%.db"])
def test_awkward_file_names_are_still_checked(tmp_path, helpers, name):
    path = tmp_path / name
    _foreign_database(path)
    _assert_refused(path, NotATendInbox, helpers)
