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
from tests.connectors.oauth_server import FakeBrowser, FakeMastodonAuth, auth_server, fresh_keyring  # noqa: F401


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_tend(*args: str, timeout: float = 60, input: str | None = None) -> subprocess.CompletedProcess[str]:  # noqa: A002
    return subprocess.run(
        [sys.executable, "-m", "console", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, input=input,
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
    # The radar ran too: the week's recent threads that are still being reshared have heat and reach.
    warm = conn.execute("SELECT count(*) FROM threads WHERE spread_at IS NOT NULL AND heat > 0 AND reach > 0")
    warm_threads = warm.fetchone()[0]
    conn.close()
    assert threads >= 20
    assert warm_threads > 0


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


# -- tend account ----------------------------------------------------------------------------------------------------
# A real `tend` process against the strict sign-in server in tests/connectors/oauth_server.py; the process shares
# this test's HOME, so the test reads the same (file) keyring the command wrote.

CONNECTED = (
    "Connected @mastodonpy_test@localhost:3000 (Mastodon). Run `tend sync --once` or open Tend to fetch messages."
)


def seed_conversation(path: Path, account_id: str) -> None:
    from console.domain import Author, Batch, Post
    from console.store import Inbox

    post = Post(id="mastodon:1", network="mastodon", account_id=account_id, thread_id="mastodon:1",
                author_id="mastodon:a1", text="Open on Sunday?", created_at="2026-11-20T10:00:00.000Z",
                observed_at="2026-11-20T10:00:00.000Z")
    inbox = Inbox.open(path)
    try:
        inbox.apply_batch(Batch(account_id, "notifications", (post,),
                                (Author("mastodon:a1", "mastodon", "@cust", "Cust"),), "1"))
    finally:
        inbox.close()


def count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Tend: ")
    return line


@pytest.mark.parametrize("history", ["--keep-history", "--delete-history", None])
def test_account_add_list_remove_with_a_token(
    tmp_path: Path, auth_server: FakeMastodonAuth, fresh_keyring, history: str | None  # noqa: F811
) -> None:
    db = str(tmp_path / "inbox.db")
    token = auth_server.issue_token()
    added = run_tend("--db", db, "account", "add", "mastodon", "--server", auth_server.url, "--token-stdin",
                     input=f"{token}\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == CONNECTED
    assert token not in added.stdout + added.stderr
    account_id = auth_server.account_id
    assert fresh_keyring.get_password("Tend", f"{account_id}/access_token") == token
    for path in tmp_path.glob("inbox.db*"):
        assert token.encode() not in path.read_bytes(), f"the token is in {path.name}"

    listed = run_tend("--db", db, "account", "list")
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.strip().splitlines()
    assert line.split() == [account_id, "Mastodon", "@mastodonpy_test@localhost:3000", auth_server.url, "connected"]

    seed_conversation(tmp_path / "inbox.db", account_id)
    flags = [history] if history else []
    removed = run_tend("--db", db, "account", "remove", account_id, *flags, input="")  # not a terminal: no question
    assert removed.returncode == 0, removed.stderr
    keeps = history != "--delete-history"
    assert removed.stdout.strip() == (
        "Removed @mastodonpy_test@localhost:3000 (Mastodon); "
        + ("its conversations stay in your inbox." if keeps else "its conversations were deleted from your inbox.")
    )
    (revoke,) = auth_server.requests_to("/oauth/revoke")
    assert revoke.form["token"] == token and token not in auth_server.tokens
    assert fresh_keyring.get_password("Tend", f"{account_id}/access_token") is None
    assert count(tmp_path / "inbox.db", "posts") == (1 if keeps else 0)
    assert run_tend("--db", db, "account", "list").stdout.startswith("No accounts yet.")


def test_account_add_refuses_plain_http_to_another_machine(tmp_path: Path) -> None:
    result = run_tend("--db", str(tmp_path / "inbox.db"), "account", "add", "mastodon", "--server",
                      "http://example.com", "--token-stdin", input="some-token\n")
    assert one_line_failure(result) == (
        "Tend: Tend will only talk to example.com over a secure (https) connection; plain http is allowed only for "
        "this computer."
    )


def test_account_add_with_a_wrong_token_fails_plainly(tmp_path: Path, auth_server: FakeMastodonAuth) -> None:  # noqa: F811
    db = str(tmp_path / "inbox.db")
    result = run_tend("--db", db, "account", "add", "mastodon", "--server", auth_server.url, "--token-stdin",
                      input="not-a-real-token\n")
    line = one_line_failure(result)
    assert "did not accept this access token" in line and "not-a-real-token" not in result.stdout + line
    assert count(tmp_path / "inbox.db", "accounts") == 0


def test_account_remove_of_an_unknown_id_fails_plainly(tmp_path: Path) -> None:
    result = run_tend("--db", str(tmp_path / "inbox.db"), "account", "remove", "mastodon:nobody@nowhere")
    assert "tend account list" in one_line_failure(result)


def test_account_commands_refuse_a_bad_inbox_with_exit_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "notes.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    assert main(["--db", str(path), "account", "list"]) == 2
    assert "not a Tend inbox" in capsys.readouterr().err


def test_account_add_without_a_token_signs_in_through_the_browser(
    tmp_path: Path, auth_server: FakeMastodonAuth, fresh_keyring, monkeypatch, capsys  # noqa: F811
) -> None:
    browser = FakeBrowser()
    monkeypatch.setattr("webbrowser.open", browser)
    assert main(["--db", str(tmp_path / "inbox.db"), "account", "add", "mastodon", "--server", auth_server.url]) == 0
    out = capsys.readouterr().out
    (url,) = browser.opened
    assert url in out and out.strip().endswith(CONNECTED)
    assert "You can close this tab and return to Tend" in browser.last_page
    token = fresh_keyring.get_password("Tend", f"{auth_server.account_id}/access_token")
    assert auth_server.tokens[token] is not None and auth_server.failures == []


def test_account_remove_asks_at_a_terminal(tmp_path: Path, auth_server: FakeMastodonAuth, fresh_keyring) -> None:  # noqa: F811
    import argparse
    import asyncio
    import io

    from console.account_commands import AccountCommands
    from console.services.accounts import AccountService
    from console.services.writer import StoreWriter
    from console.store import Inbox

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    writer = StoreWriter(Inbox.open(tmp_path / "inbox.db"))
    try:
        service = AccountService(writer)
        account = asyncio.run(service.add_mastodon_with_token(auth_server.url, auth_server.issue_token()))
        seed_conversation(tmp_path / "inbox.db", account.id)
        out = io.StringIO()
        commands = AccountCommands(service, stdin=Terminal("n\n"), stdout=out, stderr=io.StringIO())
        args = argparse.Namespace(account_command="remove", account_id=account.id, keep_history=None)
        assert commands.run(args) == 0
    finally:
        writer.close()
    assert out.getvalue().startswith("Keep this account's conversations in your inbox? [Y/n] Removed ")
    assert count(tmp_path / "inbox.db", "posts") == 0


def test_sync_once_names_a_mastodon_account_it_cannot_sync(
    tmp_path: Path, auth_server: FakeMastodonAuth, fresh_keyring  # noqa: F811
) -> None:
    db = str(tmp_path / "inbox.db")
    added = run_tend("--db", db, "account", "add", "mastodon", "--server", auth_server.url, "--token-stdin",
                     input=auth_server.issue_token())
    assert added.returncode == 0, added.stderr
    fresh_keyring.delete_password("Tend", f"{auth_server.account_id}/access_token")
    result = run_tend("--db", db, "sync", "--once")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stdout.strip().splitlines()
    assert line.startswith("Mastodon @mastodonpy_test@localhost:3000: not synced: ")
    assert "needs reconnecting" in run_tend("--db", db, "account", "list").stdout
