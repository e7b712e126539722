"""Adding a feed: read it once, before it is watched, so a wrong address fails there and then, in plain words.

Kept apart from the connector because it runs once, from the accounts service, on whatever the owner typed, while
the connector reads an address already checked, on every sync.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import httpx

from console.connectors.feed_address import FeedUnreadable, normalise_feed_url
from console.connectors.feed_download import MAX_FEED_BYTES, client_for, download
from console.connectors.feed_parse import parse_feed
from console.domain import utc_now


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What adding a feed learns: where to read it from now on, and what it calls itself."""

    url: str
    title: str
    site_url: str
    items: int


async def probe_feed(
    text: str, *, transport: httpx.AsyncBaseTransport | None = None, clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, max_bytes: int = MAX_FEED_BYTES,
) -> FeedInfo:
    """Read a feed once, to learn its title and to fail early, in plain words, on a wrong address.

    Given a web page that names its feed (most blogs and review pages do), the named feed is read instead, so the
    owner may paste the site's address.
    """
    url = normalise_feed_url(text)
    http = client_for(url, transport=transport, max_bytes=max_bytes, clock=clock, sleep=sleep)
    try:
        for attempt in range(2):
            got = await download(http, url, max_bytes=max_bytes)
            assert got is not None  # nothing conditional was asked
            try:
                parsed = await asyncio.to_thread(parse_feed, got.body, url=got.url, content_type=got.content_type)
            except FeedUnreadable as error:
                if attempt == 0 and error.feed_links:
                    url = error.feed_links[0]
                    continue
                raise
            return FeedInfo(got.permanent_url, parsed.title, parsed.site_url, len(parsed.entries))
    finally:
        await http.aclose()
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["FeedInfo", "probe_feed"]
