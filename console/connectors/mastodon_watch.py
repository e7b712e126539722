"""Brand watches on Mastodon: posts that talk about the business without tagging it.

Each watch term is one query. A hashtag term (``#crumbandco``) reads the tag's timeline
(``GET /api/v1/timelines/tag/:name``, Link-paged); any other term is a full-text search
(``GET /api/v2/search?q=…&type=statuses&resolve=false``, a phrase in quotes, paged with ``max_id`` below a ``min_id``
bound). Mastodon's search is fuzzy and, on most servers, only finds posts whose authors opted in to being searchable
(an empty answer is normal); a server that refuses to search (403: the account was connected without the
``read:search`` scope, or search is for local users only; 422; 404/501 on servers without the endpoint) is reported
in ``unavailable`` in plain words and the other queries go on.

Cursor (``watch_cursor``): a JSON object from query key to the id of the newest status that query has returned, e.g.
``{"q:mill lane": "117020582251615632", "tag:crumbandco": "117020582177108552"}``. A query without an entry (a new
term, or the first run) looks back ``days`` (3) and at most ``FIRST_RUN_PAGES`` pages; later runs read what is newer
than the stored id, at most ``MAX_PAGES`` pages. Each query's walk ends with a batch carrying the whole cursor, so an
interrupted run keeps the queries it finished. A cursor Tend cannot read starts every query afresh (bounded).

Only true matches are kept: public or unlisted posts (never followers-only or direct), not the business's own, not
posts that reach the business anyway (they mention it or answer it: notifications bring those with their thread),
whose plain text matches the watch (``BrandWatch.matches``, which also drops excluded words and muted authors).
Each keeps its author (with follower figures, which Mastodon embeds) and its thread: the root of its conversation,
read from ``/context`` for replies, as the notification path does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx

from console.connectors.http import HttpClient, redact_url
from console.connectors.mastodon_paging import LinkPager, decode_json, id_order
from console.connectors.mastodon_parse import (
    NATIVE_ID, Json, PageBuilder, as_object, malformed, mentioned_ids, objects, optional_id, parse_visibility,
    status_author_id, status_id, status_text, time_field, unwrap_reblog,
)
from console.connectors.watch_cursor import (  # noqa: F401 - WATCH_DAYS, encode_watch_cursor: read from here
    MAX_PAGES, WATCH_DAYS, WatchCursor, decode_cursor, encode_watch_cursor, first_run_start, page_budget,
)
from console.domain import Batch, Visibility
from console.domain.watches import WATCH_STREAM, BrandWatch

log = logging.getLogger(__name__)

# A hashtag Mastodon would link: word characters with at least one letter (``#2024`` is not a tag).
HASHTAG = re.compile(r"\w*[^\W\d]\w*")
# Answers that mean "this server will not run this query", not "the server is broken".
UNAVAILABLE = (403, 404, 422, 501)
_PUBLIC = (Visibility.PUBLIC, Visibility.UNLISTED)  # unlisted posts are world-readable, only kept off timelines


@dataclass(frozen=True, slots=True)
class WatchQuery:
    """One network query: ``key`` names it in the cursor, ``kind`` says which endpoint, ``value`` what to send."""

    key: str
    kind: Literal["search", "tag"]
    value: str
    term: str


def watch_queries(watch: BrandWatch) -> list[WatchQuery]:
    """The queries for a watch, one per distinct term (terms differing only in case are one query)."""
    found: dict[str, WatchQuery] = {}
    for term in watch.queries():
        tag = term[1:] if term.startswith("#") else ""
        if tag and HASHTAG.fullmatch(tag):
            query = WatchQuery(f"tag:{tag.casefold()}", "tag", tag, term)
        else:
            words = term.replace('"', " ").split()
            if not words:
                continue
            phrase = " ".join(words)
            query = WatchQuery(f"q:{phrase.casefold()}", "search", f'"{phrase}"' if len(words) > 1 else phrase, term)
        found.setdefault(query.key, query)
    return list(found.values())


def decode_watch_cursor(cursor: str | None) -> dict[str, str] | None:
    """Query key -> newest status id; entries that are not ids are left out. ``None``: not a JSON object at all."""
    return decode_cursor(cursor, "Mastodon", NATIVE_ID.fullmatch)


def newest_id(*ids: str | None) -> str | None:
    present = [i for i in ids if i]
    return max(present, key=id_order) if present else None


def _place(following: tuple[str, dict[str, Any] | None] | None) -> str | None:
    """A next page's address, to notice a server that sends the walk round in a circle."""
    if following is None:
        return None
    url, params = following
    return url if params is None else f"{url}?{sorted((k, str(v)) for k, v in params.items())}"


@dataclass(frozen=True, slots=True)
class _Page:
    statuses: list[Json]  # in range: newer than the cursor (or, on a first run, inside the window)
    newest: str | None  # the newest id this page returned at all
    last: bool


class MastodonWatch:
    """The watch queries of one Mastodon account. ``new_page`` gives a page for the account's scope; ``root_of``
    names the root of a status's conversation (``None`` when the status is gone)."""

    def __init__(self, http: HttpClient, pager: LinkPager, clock: Callable[[], datetime], *, host: str,
                 page_size: int, days: int, new_page: Callable[[], Awaitable[PageBuilder]],
                 root_of: Callable[[Json], Awaitable[str | None]]) -> None:
        self._http = http
        self._pager = pager
        self._clock = clock
        self._host = host
        self._page_size = page_size
        self._days = days
        self._new_page = new_page
        self._root_of = root_of
        self.unavailable = ""

    async def fetch(self, watch: BrandWatch, cursor: str | None) -> AsyncIterator[Batch]:
        queries = watch_queries(watch)
        places = WatchCursor(decode_watch_cursor(cursor), (q.key for q in queries))
        problems: list[str] = []
        for number, query in enumerate(queries):
            since = places.since(query.key)
            newest = since
            pages = self._walk(query, since, problems)
            async with aclosing(pages):
                async for found in pages:
                    page = await self._new_page()
                    await self._add_matches(page, watch, found.statuses)
                    newest = newest_id(newest, found.newest)
                    out = places.finish(query.key, newest) if found.last else None
                    if page.posts or out is not None:
                        yield page.batch(WATCH_STREAM, out, more=not found.last or number < len(queries) - 1,
                                         source="watch")
        self.unavailable = " ".join(problems)

    # -- reading -------------------------------------------------------------------------------------------------

    async def _walk(self, query: WatchQuery, since: str | None, problems: list[str]) -> AsyncIterator[_Page]:
        first_run = since is None
        cutoff = first_run_start(self._clock, self._days)
        pages = page_budget(first_run)
        url, params = self._start(query, since)
        visited: set[str] = set()
        for number in range(1, pages + 1):
            response = await self._http.request("GET", url, params=params, accept_status=UNAVAILABLE)
            if response.status_code in UNAVAILABLE:
                problems.append(self._refusal(query, response))
                return
            statuses = self._read(query, decode_json(response))
            ids = [status_id(s) for s in statuses]
            in_range = [s for s, i in zip(statuses, ids) if since is None or id_order(i) > id_order(since)]
            if first_run:
                in_range = [s for s in in_range if time_field(s, "status", "created_at") >= cutoff]
            following = self._following(query, response, params, ids, since)
            place = _place(following)
            last = (len(statuses) < self._page_size or len(in_range) < len(statuses) or place is None
                    or place in visited or number == pages)
            if (last and query.kind == "search" and not first_run and len(statuses) == self._page_size
                    and len(in_range) == len(statuses)):
                # Search pages newest first: what lies between this page and the cursor is not read. (A tag timeline
                # walks forward from the cursor, so it simply goes on from here next time.)
                log.info("Mastodon watch %s: more than %d pages new since %s; older ones are skipped",
                         query.key, MAX_PAGES, since)
            yield _Page(in_range, newest_id(*ids), last)
            if last or following is None or place is None:
                return
            visited.add(place)
            url, params = following

    def _start(self, query: WatchQuery, since: str | None) -> tuple[str, dict[str, Any]]:
        if query.kind == "tag":
            params: dict[str, Any] = {"limit": self._page_size}
            if since:
                params["min_id"] = since
            return f"/api/v1/timelines/tag/{quote(query.value, safe='')}", params
        params = {"q": query.value, "type": "statuses", "resolve": "false", "limit": self._page_size}
        if since:
            params["min_id"] = since  # a lower bound: search answers newest first
        return "/api/v2/search", params

    def _following(self, query: WatchQuery, response: httpx.Response, params: dict[str, Any] | None,
                   ids: list[str], since: str | None) -> tuple[str, dict[str, Any] | None] | None:
        """Where the next page is: Link headers for tag timelines (older with ``next``, or newer than the cursor with
        ``prev``), ``max_id`` below the page for search (which keeps its ``min_id`` bound)."""
        if not ids:
            return None
        if query.kind == "tag":
            link = self._pager.link(response, "next" if since is None else "prev")
            return (link, None) if link else None
        lowest = min(ids, key=id_order)
        return "/api/v2/search", {**(params or {}), "max_id": lowest}

    @staticmethod
    def _read(query: WatchQuery, body: Any) -> list[Json]:
        if query.kind == "tag":
            return objects(body, "tag timeline")
        result = as_object(body, "search result")
        if "statuses" not in result:
            raise malformed("search result", "no statuses list")
        return objects(result.get("statuses") or [], "search statuses")

    def _refusal(self, query: WatchQuery, response: httpx.Response) -> str:
        status = response.status_code
        log.info("Mastodon watch %s refused: GET %s -> %s %s", query.key, redact_url(response.request.url), status,
                 response.text[:200])
        if query.kind == "tag":
            return f"{self._host} does not show the {query.term} timeline to Tend (error {status})."
        if status == 403:
            return (f"{self._host} does not let Tend search posts for “{query.term}”; reconnect the account to "
                    "allow searching (some servers only let their own users search).")
        return f"{self._host} cannot search posts for “{query.term}” (error {status})."

    # -- keeping true matches ------------------------------------------------------------------------------------

    async def _add_matches(self, page: PageBuilder, watch: BrandWatch, statuses: list[Json]) -> None:
        scope = page.scope
        for item in statuses:
            status = unwrap_reblog(item)
            native = status_id(status)
            if native in page.covered or parse_visibility(status) not in _PUBLIC:
                continue
            author = status_author_id(status)
            if scope.business_id and (author == scope.business_id or self._reaches_business(status, scope.business_id)):
                continue
            if not watch.matches(status_text(status, scope), scope.author_id(author)):
                continue
            root = await self._root_of(status)
            if root is not None:
                page.add_status(status, root)

    @staticmethod
    def _reaches_business(status: Json, business_id: str) -> bool:
        """A post that mentions or answers the business notifies it: the mention path brings it, whole thread."""
        return (business_id in mentioned_ids(status)
                or optional_id(status, "status", "in_reply_to_account_id") == business_id)
