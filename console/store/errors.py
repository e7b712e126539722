"""Inbox errors split into what the owner can act on and what is a bug (after qutebrowser's misc/sql.py)."""

from __future__ import annotations

import sqlite3


class InboxError(Exception):
    """Something the owner should be told about in plain words; ``str(error)`` is that message."""


class NotATendInbox(InboxError):
    """The file is a SQLite database (or something else) that Tend did not create; it is left untouched."""


class InboxTooNew(InboxError):
    """The inbox was written by a newer Tend; opening it could lose data the newer version relies on."""


class InboxCorrupt(InboxError):
    """SQLite reports the file as damaged or not a database at all."""


class InboxUnavailable(InboxError):
    """The disk is full, the file is read-only, or another program holds it: recoverable once fixed."""


class InboxLocked(InboxUnavailable):
    """Another Tend process has this inbox open for writing (``console.store.lock``); ``pid`` names it if known."""

    def __init__(self, message: str, *, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


# SQLite error codes whose cause lies outside Tend (disk, permissions, locks): the owner can fix these.
_ENVIRONMENT_CODES = {
    getattr(sqlite3, name)
    for name in (
        "SQLITE_FULL",
        "SQLITE_READONLY",
        "SQLITE_READONLY_DBMOVED",
        "SQLITE_IOERR",
        "SQLITE_CANTOPEN",
        "SQLITE_BUSY",
        "SQLITE_LOCKED",
        "SQLITE_PERM",
    )
    if hasattr(sqlite3, name)
}
_CORRUPT_CODES = {getattr(sqlite3, n) for n in ("SQLITE_CORRUPT", "SQLITE_NOTADB") if hasattr(sqlite3, n)}


def translate_sqlite_error(error: sqlite3.Error, path: str) -> Exception:
    """Turn a SQLite error into an owner-facing ``InboxError`` where the owner can act, else return it unchanged."""
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in _CORRUPT_CODES or code in _CORRUPT_CODES:
        return InboxCorrupt(
            f"The inbox at {path} is damaged or is not a database ({error}). "
            "Tend left it untouched; restore it from a backup or open another inbox with --db."
        )
    if primary == getattr(sqlite3, "SQLITE_FULL", -1):
        return InboxUnavailable(
            f"The disk is full: Tend cannot save new messages to the inbox at {path}. Nothing was lost: Tend keeps "
            "what it had and saves the rest once space is freed."
        )
    if primary in (getattr(sqlite3, "SQLITE_READONLY", -1), getattr(sqlite3, "SQLITE_PERM", -1)):
        return InboxUnavailable(
            f"Tend cannot write to the inbox at {path}: the file or its folder is read-only. Nothing was changed; "
            "make it writable (or open another inbox with --db) and Tend carries on."
        )
    if primary in (getattr(sqlite3, "SQLITE_BUSY", -1), getattr(sqlite3, "SQLITE_LOCKED", -1)):
        return InboxUnavailable(f"The inbox at {path} is busy in another program; Tend will try again.")
    if primary == getattr(sqlite3, "SQLITE_IOERR", -1):
        # A write the system refused (a full disk whose error SQLite could not name, a file-size limit, a removed
        # drive): the transaction was rolled back, so what was saved before is intact.
        return InboxUnavailable(
            f"Tend could not write to the inbox at {path}: the disk reported an error ({error}). Check that it has "
            "free space and is still connected; everything saved before is kept."
        )
    if primary in _ENVIRONMENT_CODES:
        return InboxUnavailable(f"Tend could not use the inbox at {path}: {error}.")
    return error
