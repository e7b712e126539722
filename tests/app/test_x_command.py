"""`tend account add x`, `account list`, `sync --once` and `account remove` as an owner runs them, against the local X
server (its addresses stand in for X's through ``console.connectors.x_auth``) with a simulated browser."""

from __future__ import annotations

import json
import socket
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from console.app import main
from console.connectors import x_auth
from tests.connectors.oauth_server import FakeBrowser, fresh_keyring  # noqa: F401
from tests.connectors.x_server import CLIENT_ID, HAPPYCAMPER, SNOWMAN, XTestServer, x_server  # noqa: F401

ACCOUNT_ID = f"x:{SNOWMAN}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def x_here(x_server: XTestServer, monkeypatch: pytest.MonkeyPatch) -> XTestServer:  # noqa: F811
    """X is the local server: its API, its authorization page, and the callback port the owner's app allows."""
    port = free_port()
    x_server.clients[CLIENT_ID] = f"http://127.0.0.1:{port}/callback"
    x_server.now = datetime.now(timezone.utc).replace(microsecond=0)
    monkeypatch.setattr(x_auth, "API_BASE", x_server.url)
    monkeypatch.setattr(x_auth, "AUTHORIZE_URL", x_server.authorize_url)
    monkeypatch.setattr(x_auth, "DEFAULT_REDIRECT_PORT", port)
    return x_server


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_add_x_signs_in_through_the_browser_then_sync_once_reads_the_mentions(
    tmp_path: Path, x_here: XTestServer, fresh_keyring, monkeypatch: pytest.MonkeyPatch, capsys  # noqa: F811
) -> None:
    root = x_here.post(SNOWMAN, "Our winter soups are back from Monday!")
    question = x_here.post(HAPPYCAMPER, "@snowman is the pumpkin one vegan?", in_reply_to=root)
    x_here.set_counts(question, retweet_count=3, quote_count=2)
    x_here.set_followers(HAPPYCAMPER, 1200)
    browser = FakeBrowser()
    monkeypatch.setattr("webbrowser.open", browser)
    db = tmp_path / "inbox.db"

    assert main(["--db", str(db), "account", "add", "x", "--client-id", CLIENT_ID,
                 "--monthly-read-cap", "10,000"]) == 0
    out, err = capsys.readouterr()
    (url,) = browser.opened
    assert url.startswith(x_here.authorize_url) and url in out and "Sign in on 127.0.0.1" in out
    assert "Tend is connected" in browser.last_page and x_here.failures == []
    assert out.strip().endswith("Connected @snowman (X). 10,000 of 10,000 reads left this month. Run `tend sync "
                                "--once` or open Tend to fetch messages.")
    assert "Waiting for you to approve Tend in your browser (X)…" in err and "warning" not in err
    assert fresh_keyring.get_password("Tend", f"{ACCOUNT_ID}/client_id") == CLIENT_ID
    assert fresh_keyring.get_password("Tend", f"{ACCOUNT_ID}/refresh_token") in x_here.refresh_tokens
    assert json.loads((tmp_path / "x-usage.json").read_text()) == {ACCOUNT_ID: {"cap": 10_000}}

    assert main(["--db", str(db), "account", "list"]) == 0
    assert capsys.readouterr().out.split() == [
        ACCOUNT_ID, "X", "@snowman", x_here.url, "connected", "(10,000", "of", "10,000", "reads", "left", "this",
        "month)"]

    assert main(["--db", str(db), "sync", "--once"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("X @snowman: 2 new posts in "), out
    assert rows(db, f"SELECT reshare_count, quote_count FROM posts WHERE id = 'x:{question}'") == [(3, 2)]
    assert rows(db, f"SELECT followers_count FROM authors WHERE id = 'x:{HAPPYCAMPER}'") == [(1200,)]
    assert json.loads((tmp_path / "x-usage.json").read_text())[ACCOUNT_ID]["reads"] >= 2

    assert main(["--db", str(db), "account", "remove", ACCOUNT_ID, "--keep-history"]) == 0
    assert capsys.readouterr().out.strip() == "Removed @snowman (X); its conversations stay in your inbox."
    assert len(x_here.revoked) == 1 and fresh_keyring.get_password("Tend", f"{ACCOUNT_ID}/client_id") is None


def test_add_x_without_a_cap_suggests_one(
    tmp_path: Path, x_here: XTestServer, fresh_keyring, monkeypatch: pytest.MonkeyPatch, capsys  # noqa: F811
) -> None:
    monkeypatch.setattr("webbrowser.open", FakeBrowser())
    assert main(["--db", str(tmp_path / "inbox.db"), "account", "add", "x", "--client-id", CLIENT_ID]) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith("Connected @snowman (X). Run `tend sync --once` or open Tend to fetch messages.")
    assert "--monthly-read-cap N" in err


def test_add_x_without_a_client_id_says_where_to_find_it(tmp_path: Path, fresh_keyring, capsys) -> None:  # noqa: F811
    assert main(["--db", str(tmp_path / "inbox.db"), "account", "add", "x"]) == 1
    assert capsys.readouterr().err.strip() == (
        "Tend: Give the client id of your X app: `tend account add x --client-id ID` (X developer portal → your app "
        "→ Keys and tokens → OAuth 2.0 Client ID).")


def test_a_negative_cap_is_refused_by_the_parser(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(tmp_path / "inbox.db"), "account", "add", "x", "--client-id", CLIENT_ID,
              "--monthly-read-cap", "-5"])
    assert exit_.value.code == 2 and "cannot be negative" in capsys.readouterr().err
