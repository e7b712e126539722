"""The cursor of a brand watch that runs one network query per term (Mastodon, Bluesky).

The cursor is a JSON object from query key to where that query got to (the newest id or time it returned). A query
without an entry (a new term, or the first run) looks back a bounded window: ``WATCH_DAYS`` days and at most
``FIRST_RUN_PAGES`` pages; later runs read what is newer than the stored place, at most ``MAX_PAGES`` pages. Each
query's walk ends with a batch carrying the whole cursor, so an interrupted run keeps the queries it finished. A
cursor Tend cannot read starts every query afresh (bounded).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from console.domain import iso_utc

log = logging.getLogger(__name__)

FIRST_RUN_PAGES = 2
MAX_PAGES = 5
WATCH_DAYS = 3


def decode_cursor(cursor: str | None, network: str, valid: Callable[[str], object]) -> dict[str, str] | None:
    """Query key -> place; entries whose place is not ``valid`` are left out (those queries start afresh, bounded).
    ``None`` when the cursor is not a JSON object at all."""
    if cursor is None:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        log.warning("unreadable %s watch cursor %r: every watch query starts afresh", network, cursor[:80])
        return None
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str) and valid(v)}


def encode_watch_cursor(state: dict[str, str]) -> str:
    return json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def first_run_start(clock: Callable[[], datetime], days: int) -> str:
    """How far back a query without a place in the cursor looks."""
    return iso_utc(clock() - timedelta(days=days))


def page_budget(first_run: bool) -> int:
    return FIRST_RUN_PAGES if first_run else MAX_PAGES


class WatchCursor:
    """One run's cursor: where each query starts (``since``), and the cursor each query's last batch carries."""

    def __init__(self, saved: dict[str, str] | None, keys: Iterable[str]) -> None:
        self._saved = saved  # what the inbox holds (None: nothing it can use)
        self._stored = saved or {}
        self._state = {key: self._stored[key] for key in keys if key in self._stored}

    def since(self, key: str) -> str | None:
        return self._stored.get(key)

    def finish(self, key: str, newest: str | None) -> str | None:
        """The cursor for the last batch of query ``key`` (that reached ``newest``); ``None`` when the inbox holds it
        already."""
        if newest:
            self._state[key] = newest
        if self._state == self._saved:
            return None
        self._saved = dict(self._state)
        return encode_watch_cursor(self._state)
