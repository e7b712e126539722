"""The window exits cleanly after talking to servers by host name.

Name lookups (``getaddrinfo``) run in the event loop's default executor. qasync's own default is a pool of
QThreads, and Qt aborts a process that exits with one still alive ("QThread: Destroyed while thread is still
running", SIGABRT): every real session would have ended in a crash, and on a desktop a crash report or core dump
holds the process's memory, live tokens included. The demo network never resolves a name, so this test uses a feed
served at ``localhost`` (a host name, not an address).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.app.test_feed_command import recent_feed, run_tend
from tests.connectors.feed_server import FeedSite, feed_site  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow


def stored_posts(path: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT count(*) FROM posts").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_the_window_exits_cleanly_after_resolving_a_host_name(tmp_path: Path, feed_site: FeedSite) -> None:  # noqa: F811
    feed_site.publish("/recent.rss", recent_feed())
    url = feed_site.at("/recent.rss").replace("127.0.0.1", "localhost")
    assert "localhost" in url
    db = tmp_path / "inbox.db"
    added = run_tend("--db", str(db), "account", "add", "feed", "--url", url)
    assert added.returncode == 0, added.stderr
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "--db", str(db)],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and stored_posts(db) < 2 and process.poll() is None:
            time.sleep(0.2)
        assert stored_posts(db) == 2, "the window never fetched the feed"
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=15)
        assert "QThread: Destroyed" not in err
        assert process.returncode == 0, err[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
