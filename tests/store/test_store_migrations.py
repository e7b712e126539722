"""Creating, reopening and migrating inbox files: versions, backups, and all-or-nothing migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from console.store import Inbox, database, schema
from console.store.database import WAL_AUTOCHECKPOINT_PAGES, open_database

TEND = 0x54454E44


CURRENT = schema.LATEST_VERSION  # the fake migrations below come after the real ones


def _fake_v2(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE reply_templates (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    db.execute("ALTER TABLE posts ADD COLUMN language TEXT NOT NULL DEFAULT ''")


def _install_migrations(monkeypatch: pytest.MonkeyPatch, *extra) -> None:
    """database.py imported the names, so patch them where it looks them up."""
    migrations = (*schema.MIGRATIONS, *extra)
    monkeypatch.setattr(database, "MIGRATIONS", migrations)
    monkeypatch.setattr(database, "LATEST_VERSION", len(migrations))


def _make_v1_inbox(path: Path, records, helpers) -> None:
    inbox = Inbox.open(path)
    inbox.ensure_account(helpers.account)
    inbox.apply_batch(records.batch(records.post("1", text="the bread was stale"), cursor="c1"))
    inbox.close()


def test_new_file_is_marked_as_tend_at_the_latest_version_in_wal_mode(inbox_path, helpers):
    db = open_database(inbox_path)
    db.close()

    assert schema.APPLICATION_ID == TEND
    assert helpers.pragma(inbox_path, "application_id") == TEND
    assert helpers.pragma(inbox_path, "user_version") == schema.LATEST_VERSION
    assert helpers.pragma(inbox_path, "journal_mode") == "wal"
    assert not [name for name in helpers.sidecars(inbox_path) if name.endswith(".bak")]


def test_new_file_has_the_documented_tables(inbox_path):
    db = open_database(inbox_path)
    try:
        tables = set(db.table_names())
        assert {"accounts", "authors", "posts", "threads", "sync_cursors", "count_samples"} <= tables
        assert {"posts_fts", "authors_fts"} <= tables
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        db.close()


def test_missing_folders_are_created(tmp_path, helpers):
    path = tmp_path / "deep" / "er" / "inbox.db"
    open_database(path).close()
    assert helpers.pragma(path, "user_version") == schema.LATEST_VERSION


def test_an_empty_file_becomes_an_inbox(inbox_path, helpers):
    inbox_path.touch()
    open_database(inbox_path).close()
    assert helpers.pragma(inbox_path, "application_id") == TEND


def test_reopening_changes_nothing(inbox_path, records, helpers):
    _make_v1_inbox(inbox_path, records, helpers)
    before_bytes = helpers.sha256(inbox_path)
    conn = sqlite3.connect(inbox_path)
    before_schema = helpers.schema(conn)
    conn.close()

    for _ in range(2):
        Inbox.open(inbox_path).close()

    assert helpers.sha256(inbox_path) == before_bytes
    conn = sqlite3.connect(inbox_path)
    assert helpers.schema(conn) == before_schema
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST_VERSION
    conn.close()
    assert not [name for name in helpers.sidecars(inbox_path) if name.endswith(".bak")]


def test_older_file_is_backed_up_then_migrated(inbox_path, records, helpers, monkeypatch):
    _make_v1_inbox(inbox_path, records, helpers)
    _install_migrations(monkeypatch, _fake_v2)

    inbox = Inbox.open(inbox_path)
    try:
        assert inbox.db.execute("PRAGMA user_version").fetchone()[0] == CURRENT + 1
        assert "reply_templates" in inbox.db.table_names()
        assert "language" in inbox.db["posts"].columns_dict
        # The data survived the migration.
        assert inbox.db.execute("SELECT text FROM posts").fetchall() == [("the bread was stale",)]
        assert inbox.cursor(helpers.account.id, "mentions") == "c1"
    finally:
        inbox.close()

    backups = [name for name in helpers.sidecars(inbox_path) if name.endswith(".bak")]
    assert len(backups) == 1
    assert backups[0].startswith(f"inbox.db.before-v{CURRENT + 1}-")
    backup = inbox_path.with_name(backups[0])
    conn = sqlite3.connect(backup)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == TEND
        assert conn.execute("PRAGMA user_version").fetchone()[0] == CURRENT
        assert conn.execute("SELECT text FROM posts").fetchall() == [("the bread was stale",)]
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'reply_templates'").fetchall() == []
    finally:
        conn.close()


def test_migrated_file_reopens_without_another_backup(inbox_path, records, helpers, monkeypatch):
    _make_v1_inbox(inbox_path, records, helpers)
    _install_migrations(monkeypatch, _fake_v2)
    Inbox.open(inbox_path).close()
    Inbox.open(inbox_path).close()
    assert len([name for name in helpers.sidecars(inbox_path) if name.endswith(".bak")]) == 1


def test_several_pending_migrations_run_in_order(inbox_path, records, helpers, monkeypatch):
    _make_v1_inbox(inbox_path, records, helpers)
    seen: list[int] = []

    def v2(db):
        seen.append(db.execute("PRAGMA user_version").fetchone()[0])
        db.execute("CREATE TABLE v2_marker (x)")

    def v3(db):
        seen.append(db.execute("PRAGMA user_version").fetchone()[0])
        db.execute("INSERT INTO v2_marker VALUES (3)")

    _install_migrations(monkeypatch, v2, v3)
    db = open_database(inbox_path)
    try:
        assert seen == [CURRENT, CURRENT + 1]
        assert db.execute("PRAGMA user_version").fetchone()[0] == CURRENT + 2
        assert db.execute("SELECT x FROM v2_marker").fetchall() == [(3,)]
    finally:
        db.close()


def _failing_python(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE half_done (x)")
    db.execute("UPDATE posts SET text = 'rewritten'")
    raise RuntimeError("migration bug")


def _failing_sql(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE half_done (x)")
    db.execute("UPDATE posts SET text = 'rewritten'")
    db.execute("ALTER TABLE no_such_table ADD COLUMN y")


@pytest.mark.parametrize(
    ("migration", "error"), [(_failing_python, RuntimeError), (_failing_sql, sqlite3.OperationalError)]
)
def test_failed_migration_leaves_the_previous_version_intact(
    inbox_path, records, helpers, monkeypatch, migration, error
):
    _make_v1_inbox(inbox_path, records, helpers)
    conn = sqlite3.connect(inbox_path)
    before_schema = helpers.schema(conn)
    before_posts = helpers.dump(conn, "posts")
    conn.close()

    _install_migrations(monkeypatch, migration)
    with pytest.raises(error):
        open_database(inbox_path)
    # The failed open closed its connection (the last one closing removes the -wal file) rather than leaking it.
    assert not inbox_path.with_name("inbox.db-wal").exists()

    conn = sqlite3.connect(inbox_path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == CURRENT
        assert conn.execute("PRAGMA application_id").fetchone()[0] == TEND
        assert helpers.schema(conn) == before_schema
        assert helpers.dump(conn, "posts") == before_posts
    finally:
        conn.close()

    # With the broken migration gone, the file opens as the good version-1 inbox it still is.
    monkeypatch.undo()
    inbox = Inbox.open(inbox_path)
    try:
        assert inbox.db.execute("SELECT text FROM posts").fetchall() == [("the bread was stale",)]
    finally:
        inbox.close()


def test_failed_first_migration_leaves_a_new_file_unmarked(inbox_path, monkeypatch, helpers):
    def broken_v1(db):
        schema.MIGRATIONS[0](db)
        raise RuntimeError("boom")

    monkeypatch.setattr(database, "MIGRATIONS", (broken_v1,))
    with pytest.raises(RuntimeError):
        open_database(inbox_path)
    assert helpers.pragma(inbox_path, "application_id") == 0
    assert helpers.pragma(inbox_path, "user_version") == 0
    conn = sqlite3.connect(inbox_path)
    assert helpers.schema(conn) == []
    conn.close()

    monkeypatch.undo()
    open_database(inbox_path).close()
    assert helpers.pragma(inbox_path, "user_version") == schema.LATEST_VERSION


def test_a_real_version_1_inbox_upgrades_and_keeps_its_data(tmp_path):
    """Build a file exactly as Tend's first format wrote it, then open it with this version."""
    path = tmp_path / "old.db"
    db = database.connect(path)
    with db.atomic():
        db.execute(f"PRAGMA application_id = {TEND}")
        schema.MIGRATIONS[0](db)
        db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO accounts (id, network, handle, server_url, created_at) VALUES ('a', 'mastodon', '@s', 'x', 'now')"
    )
    db.close()
    inbox = Inbox.open(path)
    try:
        assert inbox.db.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST_VERSION
        assert {"attachments", "edited_at", "deleted_at"} <= set(inbox.db["posts"].columns_dict)
        [account] = inbox.accounts()
        assert account.id == "a" and account.remote_id == "" and not account.needs_reconnect
    finally:
        inbox.close()
    assert any(p.name.startswith("old.db.before-v2-") for p in tmp_path.iterdir())


def test_connections_checkpoint_the_log_every_64_mib(inbox_path):
    """A connector page dirties about a thousand pages: checkpointing at SQLite's default (1,000) copied and fsync'd
    after nearly every page (console/store/database.py)."""
    db = open_database(inbox_path)
    try:
        assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == WAL_AUTOCHECKPOINT_PAGES == 16384
    finally:
        db.close()
