"""RSS and Atom watches: review sites and blogs that offer a feed, each new item a read-only thread in the inbox.

A feed is an ``Account`` of network ``feed`` whose ``server_url`` is the feed's address; it holds no secret. Its one
stream, ``items``, is read with a conditional GET (``If-None-Match`` / ``If-Modified-Since``), so an unchanged feed
costs the site a ``304`` and Tend nothing. Cursor (JSON, kept verbatim by the store)::

    {"etag": "\"abc\"", "modified": "Tue, 24 Nov 2026 18:12:00 GMT", "seen": ["<item key>", ...]}

``seen`` holds the keys of the items already delivered (newest first, bounded), so an item comes in once even when
it carries no date; a feed is a sliding window, so the last few hundred keys are enough.

Feeds come from anywhere, so everything in them is hostile until proven otherwise. This module is the sync side (the
connector and its cursor); the rest lives beside it: ``feed_address`` (addresses, ids, the account, errors),
``feed_download`` (the capped, conditional GET), ``feed_parse`` (the document as domain records), ``feed_text``
(defusing words and links) and ``feed_probe`` (reading a feed once when it is added).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from console.connectors.base import OutgoingReply
from console.connectors.errors import ConnectorError
# The feed's public names are importable from here (see ``__all__``), wherever they live now.
from console.connectors.feed_address import (
    FeedUnreadable, InvalidFeedAddress, check_feed_url, feed_account, feed_account_id, item_post_id,
    normalise_feed_url,
)
from console.connectors.feed_download import MAX_FEED_BYTES, CappedTransport, client_for, download
from console.connectors.feed_parse import feed_items, parse_feed
from console.connectors.feed_probe import probe_feed
from console.connectors.http import DEFAULT_TIMEOUT, HttpClient, redact_url
from console.domain import Account, Author, Batch, Post, iso_utc, utc_now

log = logging.getLogger(__name__)

STREAM = "items"
MAX_SEEN = 500
FIRST_SYNC_DAYS = 14
# An unchanged feed answers 304 cheaply, but a small site still should not be asked every minute.
MIN_INTERVAL_S = 300.0


class FeedReadOnly(ConnectorError):
    """Feeds are read, never written to: replies go on the site itself."""


# -- the cursor --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedCursor:
    etag: str | None = None
    modified: str | None = None
    seen: tuple[str, ...] = ()

    def encode(self) -> str:
        data = {"etag": self.etag, "modified": self.modified, "seen": list(self.seen[:MAX_SEEN])}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> FeedCursor | None:
        """``None`` for no cursor; an unreadable one starts over (items keep their ids, so nothing doubles)."""
        if text is None:
            return None
        try:
            data = json.loads(text)
            seen = tuple(str(k) for k in data.get("seen") or () if isinstance(k, str))
            etag, modified = data.get("etag"), data.get("modified")
            return cls(etag if isinstance(etag, str) else None, modified if isinstance(modified, str) else None,
                       seen)
        except (ValueError, TypeError, AttributeError):
            log.warning("unreadable feed cursor %r; starting over", text[:200])
            return None


# -- the connector -----------------------------------------------------------------------------------------------------


class FeedConnector:
    """One watched feed; satisfies ``console.connectors.base.Connector``. Owns its HTTP session (``aclose``)."""

    streams: Sequence[str] = (STREAM,)

    def __init__(
        self,
        account: Account,
        *,
        client: HttpClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], datetime] = utc_now,
        max_bytes: int = MAX_FEED_BYTES,
        first_sync_days: int = FIRST_SYNC_DAYS,
        min_interval: float = MIN_INTERVAL_S,
    ) -> None:
        check_feed_url(account.server_url)
        self.account = account
        self._clock = clock
        self._max_bytes = max_bytes
        self._first_sync_days = first_sync_days
        self._min_interval = min_interval
        self._http = client or client_for(account.server_url, transport=transport, max_bytes=max_bytes,
                                          timeout=timeout, sleep=sleep, clock=clock)
        self._checked_at: datetime | None = None
        self._delivered: dict[str, Post] = {}  # recent posts, for fetch_thread

    async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
        if stream != STREAM:
            raise ValueError(f"a feed has no stream {stream!r}")
        now = self._clock()
        if self._checked_at is not None and now - self._checked_at < timedelta(seconds=self._min_interval):
            return  # asked again too soon: the site is spared, nothing moves
        previous = FeedCursor.decode(cursor)
        got = await download(self._http, self.account.server_url, etag=previous.etag if previous else None,
                             modified=previous.modified if previous else None, max_bytes=self._max_bytes)
        self._checked_at = now
        if got is None:
            return  # 304 Not Modified
        if got.permanent_url != self.account.server_url:
            log.info("the feed %s moved for good to %s", redact_url(self.account.server_url),
                     redact_url(got.permanent_url))
        parsed = await asyncio.to_thread(parse_feed, got.body, url=got.url, content_type=got.content_type)
        items = await asyncio.to_thread(feed_items, parsed, self.account, now=now)
        seen = set(previous.seen) if previous else set()
        oldest = now - timedelta(days=self._first_sync_days)
        fresh = [
            item for item in items
            if item.key not in seen
            # The first look brings the last couple of weeks, not a site's whole archive.
            and not (previous is None and item.dated and item.post.created_at < iso_utc(oldest))
        ]
        current = [item.key for item in reversed(items)]  # newest first
        remembered = list(dict.fromkeys([*current, *(previous.seen if previous else ())]))[:MAX_SEEN]
        new_cursor = FeedCursor(got.etag, got.modified, tuple(remembered))
        for item in fresh:
            self._remember(item.post)
        yield Batch(
            account_id=self.account.id,
            stream=stream,
            posts=tuple(item.post for item in fresh),
            authors=tuple({item.author.id: item.author for item in fresh}.values()),
            cursor=new_cursor.encode(),
            source="watch",  # a review or blog post about the business, not a message to it: "Unmentioned"
        )

    def _remember(self, post: Post) -> None:
        self._delivered[post.id] = post
        while len(self._delivered) > MAX_SEEN:
            self._delivered.pop(next(iter(self._delivered)))

    async def fetch_thread(self, root_id: str) -> list[Post]:
        """A feed item is a thread of one: the item as delivered, if this session delivered it."""
        post = self._delivered.get(root_id)
        return [post] if post is not None else []

    async def fetch_authors(self, author_ids: Sequence[str]) -> list[Author]:
        return []  # feeds say nothing about audiences

    async def send_reply(self, reply: OutgoingReply) -> Post:
        link = reply.in_reply_to.url or self.account.server_url
        raise FeedReadOnly(f"Feeds are read-only: answer on the site ({link}).",
                           detail=f"reply to {reply.in_reply_to.id} refused: feed items are read-only")

    async def aclose(self) -> None:
        await self._http.aclose()


__all__ = [
    "FIRST_SYNC_DAYS", "MAX_SEEN", "MIN_INTERVAL_S", "STREAM", "CappedTransport", "FeedConnector", "FeedCursor",
    "FeedReadOnly", "FeedUnreadable", "InvalidFeedAddress", "feed_account", "feed_account_id", "feed_items",
    "item_post_id", "normalise_feed_url", "parse_feed", "probe_feed",
]
