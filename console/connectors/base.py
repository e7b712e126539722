"""The one async interface every network speaks (Mastodon, Bluesky, X and the embedded demo).

Connectors turn network payloads into domain records and nothing else: they never touch SQLite or Qt. The sync
engine owns cursors and storage, so a connector can be tested against a local HTTP server on its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from console.domain import Account, Author, Batch, Post, Visibility


@dataclass(frozen=True, slots=True)
class OutgoingReply:
    """A reply the owner wrote, ready to send.

    ``idempotency_key`` is fixed when the reply enters the outbox, so a retried send is recognised by networks that
    support it and never posts twice.
    """

    in_reply_to: Post
    text: str
    visibility: Visibility
    idempotency_key: str


@runtime_checkable
class Connector(Protocol):
    """What the sync engine needs from a network account."""

    account: Account

    @property
    def streams(self) -> Sequence[str]:
        """Names of the independent feeds this account syncs (each with its own cursor)."""
        ...

    def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield pages of new items after ``cursor``.

        Each page is stored, with its cursor, before the next is requested; a page whose ``cursor`` is ``None``
        stores data without moving the cursor. Raises ``ConnectorError`` subclasses on failure.
        """
        ...

    async def fetch_thread(self, root_id: str) -> list[Post]:
        """Every post of the conversation whose root is ``root_id`` (an inbox id)."""
        ...

    async def fetch_authors(self, author_ids: Sequence[str]) -> list[Author]:
        """Fresh profiles (follower figures) for these inbox author ids."""
        ...

    async def send_reply(self, reply: OutgoingReply) -> Post:
        """Publish a reply and return it as the network recorded it (``direction`` ``out``)."""
        ...

    async def aclose(self) -> None:
        """Release network resources."""
        ...
