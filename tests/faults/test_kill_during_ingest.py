"""SIGKILL a real Tend process at random moments while it ingests, and while it migrates an old inbox.

After every kill the inbox must open, pass ``PRAGMA integrity_check``, hold every page the process reported as
stored (and nothing of a page it did not finish: a page and its cursor are one transaction), and the next sync must
start exactly after the stored cursor and end with the full set, nothing doubled.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from console.store import Inbox, schema
from tests.faults.conftest import Child, integrity, tend_child
from tests.faults.ingest_child import ACCOUNT, PAGES, PER_PAGE, STREAM, expected_ids

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL"), pytest.mark.slow]

KILLS = 20
SEED = 20261125


def committed_pages(child: Child) -> list[int]:
    return [int(line.split()[1]) for line in child.lines if line.startswith("COMMITTED ")]


def check_after_kill(path: Path, reported: int) -> int:
    """The inbox a killed sync left: consistent, and exactly the pages its cursor covers. Returns that cursor."""
    assert integrity(path) == "ok"
    inbox = Inbox.open(path)  # the real open: the killed process's lock is gone with it
    try:
        db = inbox.db
        cursor = inbox.cursor(ACCOUNT.id, STREAM)
        last = -1 if cursor is None else int(cursor)
        # Reported means committed; a page may also be committed just before the kill, unreported.
        assert last >= reported
        assert last <= reported + 1
        ids = [row[0] for row in db.execute("SELECT id FROM posts")]
        assert len(ids) == len(set(ids))
        assert set(ids) == expected_ids(last), "a page was stored without its cursor, or the cursor without its page"
        # The denormalised thread rows were written in the same transaction as the posts they count.
        stale = db.execute(
            """SELECT count(*) FROM threads t
               WHERE t.post_count != (SELECT count(*) FROM posts p WHERE p.thread_id = t.id)"""
        ).fetchone()[0]
        assert stale == 0
        assert db.execute("SELECT count(*) FROM posts_fts").fetchone()[0] == len(ids)
        return last
    finally:
        inbox.close()


def test_killed_during_ingest_keeps_every_committed_page_and_resumes_exactly(children, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    round_number = 0
    path = tmp_path / f"inbox-{round_number}.db"
    last = -1
    kills_during_ingest = 0
    for _kill in range(KILLS):
        child = tend_child(children, "-m", "tests.faults.ingest_child", "sync", str(path))
        if rng.random() < 0.2:
            time.sleep(rng.random() * 0.4)  # somewhere in start-up: creating or opening the inbox
        else:
            child.read_until("READY")
            start = child.read_until("START")
            assert int(start.split()[1]) == last + 1, "the sync did not resume right after the stored cursor"
            time.sleep(rng.random() * 0.35)
        child.kill()
        if any(line.startswith("COMMITTED") for line in child.lines) and "DONE" not in child.lines:
            kills_during_ingest += 1
        pages = committed_pages(child)
        reported = max(pages, default=last)
        if not path.exists():
            continue  # killed before the file was even created
        last = check_after_kill(path, reported)
        if last == PAGES - 1:  # everything is in: start again on a new file, so later kills land in ingest too
            round_number += 1
            path = tmp_path / f"inbox-{round_number}.db"
            last = -1

    assert kills_during_ingest >= KILLS // 2, "too few kills landed mid-ingest to prove anything"
    # A last, undisturbed sync completes the set: resuming exactly, nothing lost or doubled.
    child = tend_child(children, "-m", "tests.faults.ingest_child", "sync", str(path))
    child.read_until("DONE", timeout=60)
    child.proc.wait(timeout=30)
    assert child.proc.returncode == 0
    assert check_after_kill(path, PAGES - 1) == PAGES - 1
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM posts").fetchone()[0] == PAGES * PER_PAGE
    finally:
        conn.close()


# -- migrations ------------------------------------------------------------------------------------------------------

OLD_POSTS = 20000


def make_v1_inbox(path: Path) -> None:
    """An inbox exactly as Tend's first format wrote it, with enough rows that migrating takes a while."""
    from console.store import database

    db = database.connect(path)
    with db.atomic():
        db.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
        schema.MIGRATIONS[0](db)
        db.execute("PRAGMA user_version = 1")
    with db.atomic():
        db.execute("INSERT INTO accounts (id, network, handle, server_url, created_at) VALUES (?, 'mastodon', ?, ?, ?)",
                   (ACCOUNT.id, ACCOUNT.handle, ACCOUNT.server_url, "2026-11-01T00:00:00.000Z"))
        db.conn.executemany(
            "INSERT INTO authors (id, network, handle, followers_count, observed_at) VALUES (?, 'mastodon', ?, ?, ?)",
            [(f"mastodon:a{i}", f"a{i}@example.social", i * 7, "2026-11-01T00:00:00.000Z") for i in range(300)],
        )
        at = "2026-11-25T09:{:02d}:{:02d}.000Z"
        db.conn.executemany(
            """INSERT INTO posts (id, network, account_id, thread_id, author_id, text, created_at, observed_at,
                                  direction) VALUES (?, 'mastodon', ?, ?, ?, ?, ?, ?, 'in')""",
            [(f"mastodon:p{i}", ACCOUNT.id, f"mastodon:p{i - i % 4}", f"mastodon:a{i % 300}",
              f"old complaint {i} about the bread", at.format(i // 60 % 60, i % 60), at.format(i // 60 % 60, i % 60))
             for i in range(OLD_POSTS)],
        )
        db.conn.executemany(
            """INSERT INTO threads (id, account_id, network, root_post_id, status_changed_at, last_activity_at,
                                    needs_reply, last_in_at, waiting_since, post_count)
               VALUES (?, ?, 'mastodon', ?, ?, ?, 1, ?, ?, 4)""",
            [(f"mastodon:p{i}", ACCOUNT.id, f"mastodon:p{i}", *[at.format(i // 60 % 60, i % 60)] * 4)
             for i in range(0, OLD_POSTS, 4)],
        )
        db.execute("INSERT INTO sync_cursors VALUES (?, ?, '41', '2026-11-25T09:00:00.000Z')", (ACCOUNT.id, STREAM))
    db.close()


def schema_at_each_version(tmp_path: Path) -> dict[int, set[tuple[str, str]]]:
    """The exact schema (sqlite_master) a file has after each completed migration, from an undisturbed run."""
    from console.store import database

    reference = tmp_path / "reference.db"
    make_v1_inbox(reference)
    db = database.connect(reference)
    shapes = {1: _shape(db.conn)}
    for number in range(1, schema.LATEST_VERSION):
        with db.atomic():
            schema.MIGRATIONS[number](db)
            db.execute(f"PRAGMA user_version = {number + 1}")
        shapes[number + 1] = _shape(db.conn)
    db.close()
    return shapes


def _shape(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    return {(name, sql or "") for name, sql in conn.execute("SELECT name, sql FROM sqlite_master")}


def test_killed_during_migration_leaves_a_whole_version_and_opens(children, tmp_path: Path) -> None:
    rng = random.Random(SEED + 1)
    shapes = schema_at_each_version(tmp_path)
    pristine = tmp_path / "pristine.db"
    make_v1_inbox(pristine)
    pristine_bytes = pristine.read_bytes()

    # How long an undisturbed upgrade takes in a process, so the kills spread over all of it.
    timing = tmp_path / "timing.db"
    timing.write_bytes(pristine_bytes)
    child = tend_child(children, "-m", "tests.faults.ingest_child", "migrate", str(timing))
    child.read_until("BEGIN")
    started = time.monotonic()
    child.read_until("OPENED")
    full = time.monotonic() - started

    seen_versions: set[int] = set()
    for attempt in range(12):
        folder = tmp_path / f"kill-{attempt}"
        folder.mkdir()
        path = folder / "inbox.db"
        path.write_bytes(pristine_bytes)
        child = tend_child(children, "-m", "tests.faults.ingest_child", "migrate", str(path))
        child.read_until("BEGIN")
        time.sleep(rng.uniform(0.0, 1.1) * full)
        child.kill()

        assert integrity(path) == "ok"
        conn = sqlite3.connect(path)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            seen_versions.add(version)
            assert conn.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
            assert _shape(conn) == shapes[version], f"version {version} is only half migrated"
            assert conn.execute("SELECT count(*) FROM posts").fetchone()[0] == OLD_POSTS
        finally:
            conn.close()
        if version > 1:  # the upgrade started, so the untouched old version was saved first
            backups = sorted(folder.glob("inbox.db.before-v2-*.bak"))
            assert backups
            saved = sqlite3.connect(backups[-1])
            try:
                assert saved.execute("PRAGMA user_version").fetchone()[0] == 1
                assert saved.execute("SELECT count(*) FROM posts").fetchone()[0] == OLD_POSTS
            finally:
                saved.close()

        inbox = Inbox.open(path)  # Tend opens whatever the kill left, finishing the upgrade
        try:
            assert inbox.db.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST_VERSION
            assert inbox.db.execute("SELECT count(*) FROM posts").fetchone()[0] == OLD_POSTS
            assert inbox.cursor(ACCOUNT.id, STREAM) == "41"
            assert inbox.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            inbox.close()

    assert len(seen_versions) >= 2, f"every kill landed at the same version ({seen_versions}): the timing is off"
