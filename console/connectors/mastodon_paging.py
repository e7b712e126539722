"""Walking Mastodon's Link-paginated lists so that every page can be stored before the next one is asked for.

A first sync (no cursor) walks newest-first with ``max_id`` (following ``Link: rel="next"``) and stops at items older
than the first-sync window. Its pages carry no cursor except the last, which carries the newest id seen: an
interrupted first sync keeps what it stored and simply starts again. A page shorter than asked for is the last
(every server Tend knows allows 40 per page).

Later syncs walk oldest-first from the cursor with ``min_id`` (following ``rel="prev"``). Each such page is
contiguous with what is already stored, so each carries its own newest id as the cursor and an interruption never
loses progress.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import httpx

from console.connectors.errors import BadResponse
from console.connectors.http import HttpClient, redact_url
from console.connectors.mastodon_parse import UNREADABLE
from console.domain import iso_utc

Item = TypeVar("Item")


def decode_json(response: httpx.Response) -> Any:
    """The body as JSON, or ``BadResponse`` in the owner's words."""
    try:
        return jsonlib.loads(response.content)
    except ValueError as exc:
        raise BadResponse(
            "Mastodon sent a reply Tend could not read — Tend will try again later",
            detail=f"{response.request.method} {redact_url(response.request.url)} -> {response.status_code}: "
            f"invalid JSON ({exc.__class__.__name__}), {len(response.content)} bytes",
        ) from None


def id_order(native: str) -> tuple[int, str]:
    """Mastodon ids are decimal (and Pleroma's fixed-width): longer is newer, then text order."""
    return len(native), native


@dataclass(frozen=True, slots=True)
class Page(Generic[Item]):
    """The items of one page to store, and the cursor to store with them (``None``: do not move it)."""

    items: list[Item]
    cursor: str | None
    more: bool


@dataclass(frozen=True, slots=True)
class ListReader(Generic[Item]):
    """How to read one list: its items from a body, each item's id for cursors and its time for the window."""

    read: Callable[[Any], list[Item]]
    key: Callable[[Item], str | None]
    when: Callable[[Item], str | None]


class LinkPager:
    """Pages of one Mastodon server's lists; only ever follows links that stay on that server."""

    def __init__(self, http: HttpClient, origin: str, clock: Callable[[], datetime], first_sync_days: int,
                 page_size: int) -> None:
        self._http = http
        self._origin = origin
        self._clock = clock
        self._first_sync_days = first_sync_days
        self._page_size = page_size

    async def pages(self, path: str, params: dict[str, Any], cursor: str | None, reader: ListReader[Item], *,
                    optional: bool = False) -> AsyncIterator[Page[Item]]:
        """The pages after ``cursor`` (see the module doc). ``optional`` lists may be missing on
        Mastodon-compatible servers (404/501): then there is nothing to sync."""
        first_sync = cursor is None
        url: str = path
        query: dict[str, Any] | None = {**params, "limit": self._page_size}
        if not first_sync:
            query["min_id"] = cursor
        cutoff = iso_utc(self._clock() - timedelta(days=self._first_sync_days))
        newest: str | None = None
        visited: set[str] = set()
        while True:
            response = await self._http.request("GET", url, params=query, accept_status=(404, 501) if optional else ())
            if response.status_code in (404, 501):
                return
            items = reader.read(decode_json(response))
            keys = [k for k in map(reader.key, items) if k]
            if first_sync:
                newest = newest or (max(keys, key=id_order) if keys else None)
                recent = [item for item in items if (reader.when(item) or cutoff) >= cutoff]
                following = self._link(response, "next")
                last = (len(items) < self._page_size or len(recent) < len(items) or following is None
                        or following in visited)
                yield Page(recent, newest if last else None, not last)
            else:
                if not keys:
                    return
                following = self._link(response, "prev")
                last = len(items) < self._page_size or following is None or following in visited
                yield Page(items, max(keys, key=id_order), not last)
            if last or following is None:
                return
            visited.add(following)
            url, query = following, None

    async def newest(self, path: str, params: dict[str, Any], *, page_size: int, max_pages: int) -> list[Any] | None:
        """The items of at most ``max_pages`` newest-first pages of a list (following ``rel="next"``), for lists
        read for a look rather than synced (who boosted a status): a busy post must not spend the rate budget.
        ``None`` when the list is gone (404/410: the status was deleted or is no longer visible)."""
        items: list[Any] = []
        url: str = path
        query: dict[str, Any] | None = {**params, "limit": page_size}
        for _ in range(max_pages):
            response = await self._http.request("GET", url, params=query, accept_status=(404, 410))
            if response.status_code in (404, 410):
                return None if url == path else items
            page = decode_json(response)
            if not isinstance(page, list):
                raise BadResponse(UNREADABLE, detail=f"Mastodon {path}: expected a list, got {type(page).__name__}")
            items += page
            following = self._link(response, "next")
            if len(page) < page_size or following is None:
                break
            url, query = following, None
        return items

    def link(self, response: httpx.Response, rel: str) -> str | None:
        """A pagination link, only if it stays on this server (a link elsewhere would carry the token there)."""
        return self._link(response, rel)

    def _link(self, response: httpx.Response, rel: str) -> str | None:
        url = response.links.get(rel, {}).get("url")
        if not url:
            return None
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc.lower()}" != self._origin:
            raise BadResponse(UNREADABLE, detail=f"Mastodon pagination link leaves the server: {redact_url(url)}")
        return url
