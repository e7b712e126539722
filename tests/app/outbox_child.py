"""A Tend process for the outbox crash tests: it queues a reply, then waits to be killed (SIGKILL).

``python -m tests.app.outbox_child window DB LEDGER`` stops in the undo window; ``... sending DB LEDGER`` stops
while the network is "sending": the ledger (a file standing in for the network) has recorded the post, but the
answer never comes back. The ledger honours idempotency keys the way Mastodon's Idempotency-Key does.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

from console.connectors import OutgoingReply
from console.domain import Account, Direction, Post, Visibility, iso_utc, utc_now
from console.services.outbox import OutboxService
from console.services.writer import StoreWriter
from console.store import Inbox

ACCOUNT = Account("mastodon:biz", "mastodon", "biz@example.social", "https://example.social", "The Bakery")
POST_ID = "mastodon:1"
TEXT = "So sorry, Ana — we will bake you a fresh loaf. ✨"


class LedgerConnector:
    """A network whose posts live in a JSON file, so they outlive the process that sent them."""

    def __init__(self, account: Account, ledger: Path, *, block: bool) -> None:
        self.account = account
        self.ledger = ledger
        self.block = block

    def posts(self) -> dict[str, dict]:
        return json.loads(self.ledger.read_text()) if self.ledger.exists() else {}

    async def send_reply(self, reply: OutgoingReply) -> Post:
        posts = self.posts()
        if reply.idempotency_key in posts:  # the network recognises a repeat and answers with the first post
            return _post(posts[reply.idempotency_key])
        parent = reply.in_reply_to
        now = iso_utc(utc_now())
        post = Post(id=f"mastodon:ledger-{len(posts) + 1}", network="mastodon", account_id=self.account.id,
                    thread_id=parent.thread_id, author_id="mastodon:biz-author", text=reply.text, created_at=now,
                    observed_at=now, parent_id=parent.id, visibility=reply.visibility, direction=Direction.OUT)
        posts[reply.idempotency_key] = asdict(post)
        scratch = self.ledger.with_suffix(".tmp")
        with scratch.open("w") as out:
            json.dump(posts, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(scratch, self.ledger)
        if self.block:
            print("SENDING", flush=True)
            await asyncio.Event().wait()  # the answer never comes: the test kills us here
        return post

    async def aclose(self) -> None:
        pass


def _post(fields: dict) -> Post:
    fields = {**fields, "visibility": Visibility(fields["visibility"]), "direction": Direction(fields["direction"]),
              "attachments": tuple(fields["attachments"])}
    return Post(**fields)


class SteppedClock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now


async def main(mode: str, db: Path, ledger: Path) -> None:
    clock = SteppedClock()
    writer = StoreWriter(Inbox.open(db, clock))
    connector = LedgerConnector(ACCOUNT, ledger, block=True)
    service = OutboxService(writer, lambda _account_id: connector, clock)
    item = await service.queue(POST_ID, TEXT)
    print("QUEUED", item.id, flush=True)
    if mode == "sending":
        clock.now += timedelta(seconds=21)
        await service.send_due()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
