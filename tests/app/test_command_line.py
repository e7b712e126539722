"""The `tend` command as an owner runs it: real processes, real files, real signals."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.app import inbox_path, main
from console.cli import parse_args
from console.store.schema import APPLICATION_ID, LATEST_VERSION


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_tend(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


def test_db_is_a_global_option_before_subcommands(tmp_path: Path) -> None:
    args = parse_args(["--db", str(tmp_path / "a.db"), "sync", "--once"])
    assert args.db == tmp_path / "a.db" and args.command == "sync" and args.once


def test_demo_uses_its_own_inbox_unless_db_given(tmp_path: Path) -> None:
    own = inbox_path(parse_args([]))
    demo = inbox_path(parse_args(["--demo"]))
    assert own != demo and own.parent == demo.parent and "demo" in demo.name
    assert inbox_path(parse_args(["--demo", "--db", str(tmp_path / "x.db")])) == tmp_path / "x.db"


def test_someone_elses_database_is_refused_and_untouched(tmp_path: Path, capsys) -> None:
    path = tmp_path / "accounts.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()
    before = digest(path)
    assert main(["--db", str(path), "sync", "--once"]) == 2
    assert "not a Tend inbox" in capsys.readouterr().err
    assert digest(path) == before
    assert not Path(f"{path}-wal").exists()


def test_newer_inbox_is_refused_and_untouched(tmp_path: Path, capsys) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.execute("CREATE TABLE posts (id TEXT)")
    conn.commit()
    conn.close()
    before = digest(path)
    assert main(["--db", str(path)]) == 2
    assert "newer version of Tend" in capsys.readouterr().err
    assert digest(path) == before


def test_corrupt_file_is_refused_and_untouched(tmp_path: Path, capsys) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    before = digest(path)
    assert main(["--db", str(path)]) == 2
    assert "untouched" in capsys.readouterr().err
    assert digest(path) == before


def test_sync_once_on_the_demo_fills_the_inbox_and_a_second_run_adds_little(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    first = run_tend("--demo", "--db", str(path), "sync", "--once")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 3 and all("new posts" in line for line in lines)
    conn = sqlite3.connect(path)
    threads = conn.execute("SELECT count(*) FROM threads").fetchone()[0]
    conn.close()
    assert threads >= 20


def test_sync_once_without_accounts_says_what_to_do(tmp_path: Path) -> None:
    result = run_tend("--db", str(tmp_path / "empty.db"), "sync", "--once")
    assert result.returncode == 0
    assert "No accounts yet" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_window_closes_cleanly_on_signal(tmp_path: Path, signum: int) -> None:
    path = tmp_path / "demo.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "--demo", "--db", str(path)],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        threads = 0
        while time.monotonic() < deadline and threads < 20:
            time.sleep(0.3)
            if path.exists():
                try:
                    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                    threads = conn.execute("SELECT count(*) FROM threads").fetchone()[0]
                    conn.close()
                except sqlite3.Error:
                    pass
        assert threads >= 20, "the demo never filled the inbox"
        started = time.monotonic()
        process.send_signal(signum)
        _out, err = process.communicate(timeout=5)
        assert process.returncode == 0, err
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM authors WHERE influence > 0").fetchone()[0] > 0
    conn.close()
