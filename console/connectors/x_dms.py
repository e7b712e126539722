"""X direct messages (``GET /2/dm_events``): every message of every conversation, newest first, as direct posts
threaded per ``dm_conversation_id``.

``dm_events`` has no ``since_id``: the walk goes back page by page until it reaches the newest message already
stored (the stream's cursor, a message id, compared as a number) or, on a first sync, ``first_sync_days`` back. Only
the last page carries the new cursor, so an interrupted walk keeps what it stored and starts again from the top.

Direct messages need the ``dm.read`` scope and an access level that includes them. When X refuses (403), that is
not a reason to fail the whole sync: the stream yields nothing, ``unavailable`` says why in the owner's words (the
sync engine shows it next to the account), and X is asked again some hours later.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console.connectors.x_api import USER_FIELDS, Forbidden, XApi
from console.connectors.x_page import PageBuilder
from console.connectors.x_parse import NATIVE_ID, id_order, moment, newest_of, snowflake_time
from console.domain import iso_utc

log = logging.getLogger(__name__)

DM_EVENTS = "/2/dm_events"
DM_EVENT_FIELDS = "id,text,event_type,created_at,dm_conversation_id,sender_id,participant_ids,referenced_tweets"
DM_PARAMS = {"dm_event.fields": DM_EVENT_FIELDS, "expansions": "sender_id,participant_ids",
             "user.fields": USER_FIELDS, "event_types": "MessageCreate"}
PAGE_SIZE = 100
MAX_PAGES = 10
RECHECK_REFUSED = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class DmPage:
    builder: PageBuilder
    cursor: str | None
    more: bool


class DirectMessages:
    def __init__(self, api: XApi, clock: Callable[[], datetime], first_sync_days: int) -> None:
        self._api = api
        self._clock = clock
        self._first_sync_days = first_sync_days
        self._refused_until: datetime | None = None
        self.unavailable = ""  # why direct messages are not synced, in the owner's words; "" while they are

    async def pages(self, cursor: str | None, new_page: Callable[[], PageBuilder]) -> AsyncIterator[DmPage]:
        if self._refused_until is not None and self._clock() < self._refused_until:
            return
        stored = cursor if cursor and NATIVE_ID.fullmatch(cursor) else None
        horizon = iso_utc(self._clock() - timedelta(days=self._first_sync_days))
        newest, token = stored, None
        for number in range(1, MAX_PAGES + 1):
            params: dict[str, Any] = {**DM_PARAMS, "max_results": PAGE_SIZE}
            if token:
                params["pagination_token"] = token
            try:
                envelope = await self._api.get(DM_EVENTS, params, what="reading direct messages",
                                               counts_reads=False)
            except Forbidden as refusal:
                self._refuse(str(refusal))
                return
            self.unavailable = ""
            builder, reached = new_page(), False
            for event in envelope.data:
                event_id = str(event.get("id", ""))
                if stored is not None and id_order(event_id) <= id_order(stored):
                    reached = True  # newest first: everything from here on is stored
                    break
                when = moment(event.get("created_at")) or snowflake_time(event_id)
                if stored is None and when is not None and when < horizon:
                    reached = True
                    break
                if builder.add_dm(event) is not None:
                    newest = newest_of(newest, event_id)
            if builder.posts:
                builder.add_users(envelope.users.values())
            following = envelope.next_token
            last = reached or following is None or following == token or number == MAX_PAGES or not envelope.data
            yield DmPage(builder, newest if last else None, not last)
            if last:
                return
            token = following

    def _refuse(self, reason: str) -> None:
        if not self.unavailable:
            log.info("X direct messages are not available: %s", reason)
        self.unavailable = reason
        self._refused_until = self._clock() + RECHECK_REFUSED
