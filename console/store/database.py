"""Opening an inbox file safely: check it is ours, back it up before migrating, then migrate.

Nothing is written to a file until it has been confirmed to be a Tend inbox of a version this app understands, so a
wrong ``--db`` path can never damage someone's other database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from console.store.errors import (
    InboxCorrupt,
    InboxError,
    InboxTooNew,
    InboxUnavailable,
    NotATendInbox,
    translate_sqlite_error,
)
from console.store.schema import APPLICATION_ID, LATEST_VERSION, MIGRATIONS

BUSY_TIMEOUT_MS = 5000
# Per-connection page cache ceiling (KiB; SQLite allocates it only as pages are read). The 2 MiB default holds a
# sliver of a 100k-post inbox: every batch then re-reads index pages it just wrote, and search re-reads post rows.
CACHE_KIB = 65536
# Pages the write-ahead log may hold before a commit copies them into the database file (SQLite's default: 1,000).
# One connector page dirties hundreds of pages (about 700 at 100k posts, more as the indexes grow: the posts'
# indexes and full-text segments, the threads and authors it touches), so the default checkpointed after nearly
# every page: the same hot pages copied again and the log and the file fsync'd each time. Commits were a third of
# ingest's wall time at 1M posts; at 64 MiB a checkpoint comes every several pages and committing takes about a
# third less. With ``synchronous = NORMAL`` a power cut may lose the commits since the last checkpoint (never
# consistency: each page's cursor rolls back with its posts, so sync fetches them again); a crash of Tend itself
# loses nothing.
WAL_AUTOCHECKPOINT_PAGES = 16384
# ``PRAGMA synchronous = FULL``: in WAL mode the log is synced at every commit (NORMAL, 1: only at checkpoints).
SYNCHRONOUS_FULL = 2


def _inspect(path: Path) -> tuple[int, int, int]:
    """Read (application_id, user_version, table count) through a read-only connection."""
    try:
        # A proper file: URI, so '#', '?' or '%' in a file name cannot redirect the check to another file.
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        translated = translate_sqlite_error(error, str(path))
        if isinstance(translated, sqlite3.Error):
            raise InboxCorrupt(
                f"{path} is not a Tend inbox that can be read ({error}). Tend left it untouched."
            ) from error
        raise translated from error
    return app_id, version, tables


def check_inbox_file(path: Path) -> int:
    """Return the schema version of an existing file (0 for a new or empty one), or raise an owner-facing error."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    # Reading a WAL-mode file, even read-only, creates empty -wal and -shm files next to it: a file we refuse must
    # be left as we found it, neighbours included.
    sidecars = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    created_by_us = [sidecar for sidecar in sidecars if not sidecar.exists()]
    try:
        return _check_inspected(path)
    except InboxError:
        wal = sidecars[0]
        if not (wal in created_by_us and wal.exists() and wal.stat().st_size > 0):
            for sidecar in created_by_us:
                sidecar.unlink(missing_ok=True)
        raise


def _check_inspected(path: Path) -> int:
    app_id, version, tables = _inspect(path)
    if app_id != APPLICATION_ID:
        if app_id == 0 and version == 0 and tables == 0:
            return 0
        raise NotATendInbox(
            f"{path} is a database, but not a Tend inbox. Tend left it untouched; choose another file with --db."
        )
    if version > LATEST_VERSION:
        raise InboxTooNew(
            f"The inbox at {path} was saved by a newer version of Tend (format {version}, this app knows up to "
            f"{LATEST_VERSION}). Update Tend to open it; the file was left untouched."
        )
    return version


def backup_before_migration(path: Path, conn: sqlite3.Connection, version: int) -> Path:
    """Copy the live database (consistent, WAL included) next to it before changing its schema."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.before-v{version + 1}-{stamp}.bak")
    dest = sqlite3.connect(target)
    try:
        conn.backup(dest)
    finally:
        dest.close()
    return target


def connect(path: Path) -> sqlite_utils.Database:
    """An autocommit connection with WAL, foreign keys and a busy timeout; callers open transactions explicitly."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
    return sqlite_utils.Database(conn)


@contextmanager
def synchronous_full(conn: sqlite3.Connection) -> Iterator[None]:
    """Make the commits inside this block durable across a power cut, not only a crash of Tend.

    For writes whose loss would do harm rather than be refetched (the outbox: a reply rolled back to before it was
    sent would be sent twice). A commit at FULL fsyncs the write-ahead log, and with it every earlier commit still
    in the log. SQLite refuses to change the level inside a transaction, and a block opened inside one would not own
    the commit anyway, so it must be entered outside any; the previous level comes back even if the block raises.
    """
    if conn.in_transaction:
        raise RuntimeError("a durable write must start outside any transaction: the commit would not be its own")
    previous = conn.execute("PRAGMA synchronous").fetchone()[0]
    if previous >= SYNCHRONOUS_FULL:
        yield
        return
    conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS_FULL}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA synchronous = {previous}")


def open_database(path: Path) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the inbox at ``path``."""
    path = Path(path)
    version = check_inbox_file(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InboxUnavailable(f"Tend cannot create the folder for its inbox at {path.parent}: {error}.") from error
    try:
        db = connect(path)
        try:
            if version < LATEST_VERSION:
                migrate(db, path, version)
        except BaseException:
            db.close()  # a failed open must not keep the file open (and locked, on Windows) until garbage collection
            raise
        return db
    except sqlite3.Error as error:
        translated = translate_sqlite_error(error, str(path))
        if translated is error:
            raise
        raise translated from error


def migrate(db: sqlite_utils.Database, path: Path, version: int) -> None:
    """Run each pending migration in its own transaction; a failure leaves the previous version intact."""
    if version > 0:
        backup_before_migration(path, db.conn, version)
    for number in range(version, LATEST_VERSION):
        with db.atomic():
            if number == 0:
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            MIGRATIONS[number](db)
            db.execute(f"PRAGMA user_version = {number + 1}")
