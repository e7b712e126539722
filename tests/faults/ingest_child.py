"""A Tend process for the crash tests: it syncs a paged network into an inbox until it is killed (SIGKILL).

``python -m tests.faults.ingest_child sync DB`` runs the real ``SyncEngine`` (through ``StoreWriter`` and
``Inbox.apply_batch``) over ``PagedNetwork``: ``PAGES`` pages of ``PER_PAGE`` posts, each page's cursor its number.
It prints ``READY`` once the inbox is open, ``START n`` with the first page it asks for, and ``COMMITTED n`` only after
page ``n`` was stored (the engine asks for the next page only once the previous one is written), so every page the
parent saw reported must survive any kill.

``python -m tests.faults.ingest_child migrate DB`` prints ``BEGIN``, opens (and so migrates) an old inbox, then prints
``OPENED``.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from console.domain import Account, Author, Batch, Post
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import SyncEngine

ACCOUNT = Account("mastodon:biz", "mastodon", "biz@example.social", "https://example.social", "The Bakery")
STREAM = "notifications"
PAGES = 200
PER_PAGE = 60
THREADS = 150  # posts spread over this many conversations, so every page rewrites threads other pages touched


def post_id(page: int, index: int) -> str:
    return f"mastodon:{page:04d}-{index:03d}"


def expected_ids(last_page: int) -> set[str]:
    """Every post of pages 0..last_page (nothing when ``last_page`` is -1)."""
    return {post_id(page, index) for page in range(last_page + 1) for index in range(PER_PAGE)}


def page_batch(page: int) -> Batch:
    posts = []
    authors = {}
    for index in range(PER_PAGE):
        serial = page * PER_PAGE + index
        thread = f"mastodon:thread-{serial % THREADS}"
        author = f"mastodon:customer-{serial % 97}"
        authors[author] = Author(author, "mastodon", f"customer{serial % 97}@example.social", f"Customer {serial % 97}",
                                 followers_count=serial % 1000, observed_at="2026-11-25T09:00:00.000Z")
        minute, second = divmod(serial, 60)
        at = f"2026-11-25T{10 + minute // 60 % 12:02d}:{minute % 60:02d}:{second:02d}.000Z"
        posts.append(Post(post_id(page, index), "mastodon", ACCOUNT.id, thread, author,
                          f"order {serial}: where is my sourdough? the crust was burnt ({page}/{index})", at, at,
                          reshare_count=serial % 5))
    return Batch(ACCOUNT.id, STREAM, tuple(posts), tuple(authors.values()), cursor=str(page))


class PagedNetwork:
    """A network that always has the same ``PAGES`` pages; a cursor names the last page already stored."""

    streams = (STREAM,)

    def __init__(self, rng: random.Random) -> None:
        self.account = ACCOUNT
        self._rng = rng

    async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
        first = 0 if cursor is None else int(cursor) + 1
        print(f"START {first}", flush=True)
        for page in range(first, PAGES):
            await asyncio.sleep(self._rng.random() * 0.004)  # the network's latency, so kills land anywhere
            yield page_batch(page)
            # Resumed: the engine stored page ``page`` (and its cursor) before asking for more.
            print(f"COMMITTED {page}", flush=True)
        print("DONE", flush=True)

    async def aclose(self) -> None:
        return None


async def sync(path: Path) -> None:
    inbox = Inbox.open(path)
    inbox.ensure_account(ACCOUNT)
    print("READY", flush=True)
    writer = StoreWriter(inbox)
    engine = SyncEngine(writer, [PagedNetwork(random.Random())], refresh_per_pass=0)
    try:
        result = await engine.sync_account(PagedNetwork(random.Random()))
        if result.error:
            print(f"ERROR {result.error}", flush=True)
    finally:
        writer.close()


def main() -> None:
    mode, path = sys.argv[1], Path(sys.argv[2])
    if mode == "sync":
        asyncio.run(sync(path))
    elif mode == "migrate":
        print("BEGIN", flush=True)  # everything is imported: from here on, only the open (and upgrade) runs
        Inbox.open(path).close()
        print("OPENED", flush=True)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
