"""Exporting conversations to CSV (spreadsheets) and JSON (scripts), a page of threads at a time.

Guarantees the owner can rely on:

- The file appears whole or not at all: it is written next to the target and moved into place (``os.replace``), so
  a failed or interrupted export never leaves half a file under the chosen name, nor destroys an earlier export.
- A view export is one consistent snapshot (one read transaction; WAL lets the sync writer carry on meanwhile), so
  a thread that gets new activity during the export is neither skipped nor written twice, yet only a page of
  threads is in memory at a time.
- What customers wrote comes back exactly (``read_export``): commas, quotes, newlines, emoji, right-to-left text.

CSV cells that start with ``= + - @``, a tab or a carriage return are prefixed with an apostrophe, because
spreadsheets run such cells as formulas and customer text is untrusted (OWASP "CSV injection"). A cell that itself
starts with an apostrophe gets one too, so ``read_export`` can strip exactly one and stay exact.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from console.store.errors import InboxError, translate_sqlite_error
from console.store.queries import (
    Order,
    PostRow,
    ThreadRow,
    View,
    get_thread,
    keyset_of,
    list_threads,
    thread_posts,
)

PAGE_SIZE = 200

# One row per post, in this order (the CSV header). Counts and followers are numbers; parent_id and deleted_at may
# be empty (None).
COLUMNS: tuple[str, ...] = (
    "thread_id",
    "network",
    "account_id",
    "post_id",
    "parent_id",
    "direction",
    "author_handle",
    "author_name",
    "author_followers",
    "text",
    "created_at",
    "url",
    "reshare_count",
    "quote_count",
    "like_count",
    "reply_count",
    "visibility",
    "deleted_at",
)
_INT_COLUMNS = frozenset({"author_followers", "reshare_count", "quote_count", "like_count", "reply_count"})
_NULLABLE_COLUMNS = frozenset({"parent_id", "deleted_at"})
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


class ExportError(InboxError):
    """The export could not be written; ``str(error)`` says why in plain words.

    An ``InboxError`` so the UI's existing error reporting (``console.ui.tasks.owner_message``) shows its text.
    """


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    threads: int
    posts: int


def format_for(path: Path | str) -> ExportFormat:
    """The format a file name asks for, by its suffix."""
    suffix = Path(path).suffix.lower().lstrip(".")
    try:
        return ExportFormat(suffix)
    except ValueError:
        raise ExportError(f"Choose a file name ending in .csv or .json (not “{Path(path).name}”).") from None


def export_view(
    db: sqlite_utils.Database,
    view: View,
    path: Path | str,
    fmt: ExportFormat | None = None,
    *,
    order: Order = Order.LATEST,
    page_size: int = PAGE_SIZE,
) -> ExportResult:
    """Write every thread of ``view`` with all its posts, in the list's ``order`` (newest activity first unless
    asked otherwise); pages through ``list_threads``."""
    path = Path(path)
    fmt = fmt or format_for(path)

    def threads() -> Iterator[ThreadRow]:
        after: tuple[object, object] | None = None
        while True:
            page = list_threads(db, view, page_size, after, order)
            yield from page
            if len(page) < page_size:
                return
            after = keyset_of(page[-1], view, order)

    return _export(db, threads(), path, fmt)


def export_thread(
    db: sqlite_utils.Database, thread_id: str, path: Path | str, fmt: ExportFormat | None = None
) -> ExportResult:
    """Write one thread with all its posts."""
    path = Path(path)
    fmt = fmt or format_for(path)
    thread = get_thread(db, thread_id)
    if thread is None:
        raise ExportError("That conversation is no longer in the inbox, so there was nothing to export.")
    return _export(db, iter([thread]), path, fmt)


def read_export(path: Path | str) -> list[dict[str, Any]]:
    """Every post in an export (either format) as a dict keyed by ``COLUMNS``, with numbers as ints and empty
    optional fields as ``None``: the same values whichever format was written."""
    path = Path(path)
    if format_for(path) is ExportFormat.JSON:
        with path.open(encoding="utf-8") as file:
            return [dict(post) for thread in json.load(file) for post in thread["posts"]]
    with path.open(encoding="utf-8-sig", newline="") as file:
        return [_from_csv(row) for row in csv.DictReader(file)]


# -- writing ---------------------------------------------------------------------------------------------------


def _export(db: sqlite_utils.Database, threads: Iterator[ThreadRow], path: Path, fmt: ExportFormat) -> ExportResult:
    writer = _write_csv if fmt is ExportFormat.CSV else _write_json
    # Excel only recognises UTF-8 CSV by its byte-order mark; JSON must not have one (RFC 8259).
    encoding = "utf-8-sig" if fmt is ExportFormat.CSV else "utf-8"
    try:
        with _snapshot(db), _atomic_file(path, encoding) as file:
            thread_count, post_count = writer(db, threads, file)
    except sqlite3.Error as error:
        translated = translate_sqlite_error(error, _database_file(db))
        if translated is error:
            raise
        raise translated from error
    return ExportResult(path, thread_count, post_count)


def _write_csv(db: sqlite_utils.Database, threads: Iterator[ThreadRow], file: IO[str]) -> tuple[int, int]:
    out = csv.writer(file)
    out.writerow(COLUMNS)
    thread_count = post_count = 0
    for thread in threads:
        thread_count += 1
        for post in thread_posts(db, thread.id):
            row = _post_record(thread, post)
            out.writerow([_to_csv(row[column]) for column in COLUMNS])
            post_count += 1
    return thread_count, post_count


def _write_json(db: sqlite_utils.Database, threads: Iterator[ThreadRow], file: IO[str]) -> tuple[int, int]:
    """A JSON list written one thread at a time, so a large view never sits in memory as one document."""
    thread_count = post_count = 0
    file.write("[")
    for thread in threads:
        record: dict[str, Any] = {
            "thread_id": thread.id,
            "network": thread.network,
            "account_id": thread.account_id,
            "status": thread.status,
            "needs_reply": thread.needs_reply,
            "last_activity_at": thread.last_activity_at,
            "reshare_total": thread.reshare_total,
            "heat": thread.heat,
            "reach": thread.reach,
            "escalating_since": thread.escalating_since,
        }
        record["posts"] = [_post_record(thread, post) for post in thread_posts(db, thread.id)]
        file.write(",\n" if thread_count else "\n")
        json.dump(record, file, ensure_ascii=False)
        thread_count += 1
        post_count += len(record["posts"])
    file.write("\n]\n")
    return thread_count, post_count


def _post_record(thread: ThreadRow, post: PostRow) -> dict[str, Any]:
    return {
        "thread_id": post.thread_id,
        "network": post.network,
        "account_id": thread.account_id,
        "post_id": post.id,
        "parent_id": post.parent_id,
        "direction": post.direction,
        "author_handle": post.author_handle,
        "author_name": post.author_name,
        "author_followers": post.author_followers,
        "text": post.text,
        "created_at": post.created_at,
        "url": post.url,
        "reshare_count": post.reshare_count,
        "quote_count": post.quote_count,
        "like_count": post.like_count,
        "reply_count": post.reply_count,
        "visibility": post.visibility,
        "deleted_at": post.deleted_at,
    }


def _to_csv(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for column in COLUMNS:
        value = row[column]
        if column in _INT_COLUMNS:
            record[column] = int(value)
        elif column in _NULLABLE_COLUMNS and value == "":
            record[column] = None
        elif value.startswith("'") and value[1:].startswith(_FORMULA_STARTS):
            record[column] = value[1:]
        else:
            record[column] = value
    return record


@contextmanager
def _snapshot(db: sqlite_utils.Database) -> Iterator[None]:
    """One read transaction around the whole export, unless the caller already holds one."""
    if db.conn.in_transaction:
        yield
        return
    db.execute("BEGIN")
    try:
        yield
    finally:
        db.execute("COMMIT")  # nothing was written: this only ends the read snapshot


def _database_file(db: sqlite_utils.Database) -> str:
    """The inbox's file name, for error messages."""
    try:
        return str(db.execute("PRAGMA database_list").fetchone()[2]) or "the inbox"
    except sqlite3.Error:
        return "the inbox"


@contextmanager
def _atomic_file(path: Path, encoding: str) -> Iterator[IO[str]]:
    """A text file that replaces ``path`` only once completely written and flushed to disk.

    The temporary file is private to the owner (mode 0600) and keeps that mode: an export holds customers' words.
    """
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise ExportError(_cannot_write(path, error)) from error
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "w", encoding=encoding, newline="") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise ExportError(_cannot_write(path, error)) from error
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _cannot_write(path: Path, error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        reason = f"the folder {path.parent} does not exist"
    elif isinstance(error, IsADirectoryError) or path.is_dir():
        reason = "that is a folder, not a file name"
    elif isinstance(error, PermissionError):
        reason = "you do not have permission to write there"
    elif error.errno == errno.ENOSPC:
        reason = "the disk is full"
    else:
        reason = error.strerror or str(error)
    return f"Tend could not export to {path}: {reason}. Nothing was written; choose another place."
