"""`tend account add bluesky` and `tend sync --once` as an owner runs them, against the local Bluesky server."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.connectors.bluesky_server import BlueskyTestServer, bluesky  # noqa: F401
from tests.connectors.oauth_server import fresh_keyring  # noqa: F401

PASSWORD = "abcd-efgh-ijkl-mnop"


def run_tend(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:  # noqa: A002
    return subprocess.run([sys.executable, "-m", "console", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, input=input)


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_add_then_sync_once_fills_the_inbox(tmp_path: Path, bluesky: BlueskyTestServer, fresh_keyring) -> None:  # noqa: F811
    world = bluesky.world
    biz = bluesky.business("shop.test", password=PASSWORD)
    anna = world.person("anna.test", followers=321)
    root = world.mention(anna, biz, "open on sunday?")
    world.reply(anna, root, "asking for brunch", notify=biz)
    db = str(tmp_path / "inbox.db")

    added = run_tend("--db", db, "account", "add", "bluesky", "--handle", "shop.test", "--service", bluesky.url,
                     "--app-password-stdin", input=f"{PASSWORD}\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == (
        "Connected @shop.test (Bluesky). Run `tend sync --once` or open Tend to fetch messages.")
    assert PASSWORD not in added.stdout + added.stderr
    account_id = f"bluesky:{biz.did}"
    assert fresh_keyring.get_password("Tend", f"{account_id}/refresh_token") in world.refresh

    listed = run_tend("--db", db, "account", "list")
    assert listed.stdout.split() == [account_id, "Bluesky", "@shop.test", bluesky.url, "connected"]

    synced = run_tend("--db", db, "sync", "--once")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert synced.stdout.strip().startswith("Bluesky @shop.test: 2 new posts in ")
    assert rows(tmp_path / "inbox.db", "SELECT count(*), min(thread_id) FROM posts") == [(2, f"bluesky:{root.uri}")]
    assert rows(tmp_path / "inbox.db", "SELECT followers_count FROM authors WHERE handle = '@anna.test'") == [(321,)]
    # The refresh token rotated during the sync, and the new one is in the keyring for the next run.
    saved = fresh_keyring.get_password("Tend", f"{account_id}/refresh_token")
    assert saved in world.refresh and len(bluesky.requests_to("com.atproto.server.createSession")) == 1
    again = run_tend("--db", db, "sync", "--once")
    assert again.returncode == 0 and "0 new posts" in again.stdout


def test_a_wrong_app_password_fails_in_one_plain_line(tmp_path: Path, bluesky: BlueskyTestServer) -> None:  # noqa: F811
    bluesky.business("shop.test", password=PASSWORD)
    result = run_tend("--db", str(tmp_path / "inbox.db"), "account", "add", "bluesky", "--handle", "shop.test",
                      "--service", bluesky.url, "--app-password-stdin", input="nope-nope-nope-nope\n")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Tend: Bluesky did not accept this app password for @shop.test")
    assert "nope-nope" not in line


def test_the_handle_is_required_and_the_password_comes_from_stdin(tmp_path: Path) -> None:
    db = str(tmp_path / "inbox.db")
    no_handle = run_tend("--db", db, "account", "add", "bluesky", "--app-password-stdin", input="x\n")
    assert no_handle.returncode == 1 and "--handle" in no_handle.stderr
    no_flag = run_tend("--db", db, "account", "add", "bluesky", "--handle", "shop.test", input="x\n")
    assert no_flag.returncode == 1 and "--app-password-stdin" in no_flag.stderr
