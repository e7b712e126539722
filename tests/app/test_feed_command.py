"""`tend account add feed`, `list`, `sync --once` and `remove` as an owner runs them, against the feed site."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

from console.connectors.feed import feed_account_id
from tests.connectors.feed_server import FeedSite, feed_site  # noqa: F401


def run_tend(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "console", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, stdin=subprocess.DEVNULL)


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def recent_feed() -> str:
    """Two reviews from the last day (the command runs on the real clock, and a first look covers two weeks)."""
    now = datetime.now(timezone.utc)
    items = "".join(
        f"<item><title>Review {n}</title><link>https://reviews.example/r/{n}</link><guid>r-{n}</guid>"
        f"<pubDate>{format_datetime(now - timedelta(hours=n))}</pubDate><description>&lt;p&gt;Lovely "
        f"bread {n}&lt;/p&gt;</description></item>"
        for n in (1, 2)
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Crumb reviews</title>'
            f"<link>https://reviews.example/crumb</link>{items}</channel></rss>")


def test_add_list_sync_and_remove_a_feed(tmp_path: Path, feed_site: FeedSite) -> None:
    feed_site.publish("/recent.rss", recent_feed())
    db = str(tmp_path / "inbox.db")
    url = feed_site.at("/recent.rss")
    account_id = feed_account_id(url)

    added = run_tend("--db", db, "account", "add", "feed", "--url", url)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == (
        f"Watching Crumb reviews ({url}) as {account_id}. New items arrive as read-only conversations (answer them "
        "on the site). Run `tend sync --once` or open Tend to fetch them.")

    listed = run_tend("--db", db, "account", "list")
    assert listed.stdout.split("  ") == [account_id, "Feed", "Crumb reviews", url, "watching\n"]

    synced = run_tend("--db", db, "sync", "--once")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert synced.stdout.strip().startswith("Feed Crumb reviews: 2 new posts in 1 pages")
    assert rows(tmp_path / "inbox.db", "SELECT network, text, url FROM posts ORDER BY created_at") == [
        ("feed", "Review 2\n\nLovely bread 2", "https://reviews.example/r/2"),
        ("feed", "Review 1\n\nLovely bread 1", "https://reviews.example/r/1"),
    ]
    again = run_tend("--db", db, "sync", "--once")
    assert again.returncode == 0 and "Feed Crumb reviews: 0 new posts" in again.stdout
    conditional = feed_site.requests_to("/recent.rss")[-1]
    assert conditional.headers["if-none-match"] == feed_site.documents["/recent.rss"].etag

    removed = run_tend("--db", db, "account", "remove", account_id, "--delete-history")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == "Removed Crumb reviews (Feed); its conversations were deleted from your inbox."
    assert removed.stderr == ""
    assert rows(tmp_path / "inbox.db", "SELECT count(*) FROM posts") == [(0,)]


def test_a_wrong_or_missing_address_fails_in_one_plain_line(tmp_path: Path, feed_site: FeedSite) -> None:
    db = str(tmp_path / "inbox.db")
    missing = run_tend("--db", db, "account", "add", "feed")
    assert missing.returncode == 1
    assert missing.stderr.strip().startswith("Tend: Say which feed: `tend account add feed --url ")

    page = run_tend("--db", db, "account", "add", "feed", "--url", feed_site.at("/oops.html"))
    assert page.returncode == 1 and len(page.stderr.strip().splitlines()) == 1
    assert "could not be read: this address is a web page, not a feed" in page.stderr

    insecure = run_tend("--db", db, "account", "add", "feed", "--url", "http://reviews.example/feed.rss")
    assert insecure.returncode == 1 and "secure (https)" in insecure.stderr
    assert rows(tmp_path / "inbox.db", "SELECT count(*) FROM accounts") == [(0,)]
