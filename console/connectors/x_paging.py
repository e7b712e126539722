"""Walking X's newest-first lists (mentions, recent search, a user's posts) so each page is stored before the next.

X lists newest first and pages backwards with an opaque token (``meta.next_token``, sent back as
``pagination_token`` on timelines and ``next_token`` on search). ``since_id`` bounds the walk below: only posts newer
than the stored cursor come back, on every page. So the walk goes from the newest page back to the cursor, and only
its last page carries the new cursor (the newest id of the first page): a walk interrupted half way keeps what it
stored and starts again from the top next time, without skipping anything. A first sync (no cursor) is bounded by
``start_time`` instead, and every walk by a number of pages, so a backlog never spends the month's reads at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from console.connectors.x_api import XApi
from console.connectors.x_parse import Envelope, newest_of


@dataclass(frozen=True, slots=True)
class Page:
    envelope: Envelope
    cursor: str | None  # the newest id of the whole walk, on its last page only
    more: bool


async def newest_first(
    api: XApi,
    path: str,
    params: Mapping[str, Any],
    *,
    cursor: str | None,
    token_param: str,
    max_pages: int,
    page_size: int,
    min_page_size: int,
    what: str,
) -> AsyncIterator[Page]:
    """The pages of ``path`` newer than ``cursor`` (see the module doc); ``params`` carry fields and bounds."""
    newest = cursor
    token: str | None = None
    for number in range(1, max_pages + 1):
        query: dict[str, Any] = {**params, "max_results": api.reads.page_size(page_size, min_page_size)}
        if cursor:
            query["since_id"] = cursor
        if token:
            query[token_param] = token
        envelope = await api.get(path, query, what=what)
        newest = newest_of(newest, envelope.newest_id)
        following = envelope.next_token
        last = following is None or following == token or number == max_pages or not envelope.data
        yield Page(envelope, newest if last else None, not last)
        if last:
            return
        token = following
