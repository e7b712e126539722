"""Brand watches on Bluesky: posts that talk about the business without tagging it.

Each watch term is one ``app.bsky.feed.searchPosts`` query (``q`` the term as written, ``sort=latest``, ``since``,
``limit``, the API's own ``cursor`` for the next page), asked of the account's PDS, which forwards it to the
AppView. Search is loose (stemming, handles, link targets; the reference AppView matches substrings), so only true
matches are kept: not the business's own posts, not posts that reach the business anyway (they mention it, answer
or quote its posts: notifications bring those with their thread), and only posts whose plain text (link targets
restored, as the inbox shows it) matches the watch (``BrandWatch.matches``: excluded words and muted authors
drop out). Every Bluesky post is public; direct messages live elsewhere and are never searched.

Cursor (``watch_cursor``): a JSON object from query key (the term, case-folded) to the newest post time that query
has returned, as Bluesky sorts posts (the earlier of ``createdAt`` and ``indexedAt``), e.g. ``{"crumb & co":
"2026-11-25T09:14:00.000Z"}``. A query without an entry looks back ``days`` (3) and at most ``FIRST_RUN_PAGES``
pages; later runs go back to ``overlap`` before the stored time (a post indexed late can sort just behind it; posts
already delivered in this session are not repeated), at most ``MAX_PAGES`` pages. Servers may ignore ``since`` (the
reference AppView does), so the walk also stops at the first post behind it. Each query's walk ends with a batch
carrying the whole cursor. A search the server will not run (``BadQueryString``, a PDS or AppView without search,
a refused app password) is reported in ``unavailable`` and the other queries go on.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from console.connectors.bluesky_parse import (
    PageBuilder, as_object, list_field, moment, parse_post, reply_refs, uri_author,
)
from console.connectors.bluesky_session import xrpc_error
from console.connectors.bluesky_xrpc import Xrpc, decode
from console.connectors.errors import BadResponse
from console.connectors.watch_cursor import (  # noqa: F401 - WATCH_DAYS, encode_watch_cursor: read from here
    WATCH_DAYS, WatchCursor, decode_cursor, encode_watch_cursor, first_run_start, page_budget,
)
from console.domain import Batch, iso_utc
from console.domain.watches import WATCH_STREAM, BrandWatch

log = logging.getLogger(__name__)

SEARCH = "app.bsky.feed.searchPosts"
MAX_LIMIT = 100  # searchPosts' own bound
# Answers that mean "this server will not run this query", not "the server is broken".
UNAVAILABLE = (400, 403, 404, 501)


def query_key(term: str) -> str:
    return " ".join(term.split()).casefold()


def decode_watch_cursor(cursor: str | None) -> dict[str, str] | None:
    """Query key -> newest post time; entries that are not times are left out. ``None``: not a JSON object at all."""
    return decode_cursor(cursor, "Bluesky", lambda place: moment(place) == place)


def sort_moment(view: Any) -> str | None:
    """When Bluesky files a post (``sortAt``): the earlier of the time it claims and the time it was indexed."""
    if not isinstance(view, dict):
        return None
    indexed = moment(view.get("indexedAt"))
    record = view.get("record") if isinstance(view.get("record"), dict) else {}
    created = moment(record.get("createdAt"))
    return min(m for m in (indexed, created) if m) if indexed or created else None


class BlueskyWatch:
    """The watch queries of one Bluesky account. ``new_page`` gives a page for the account's scope;
    ``add_profiles`` fills a page's authors with follower figures."""

    def __init__(self, xrpc: Xrpc, clock: Callable[[], datetime], *, business_did: str, page_size: int, days: int,
                 overlap: timedelta, new_page: Callable[[], PageBuilder],
                 add_profiles: Callable[[PageBuilder], Awaitable[None]]) -> None:
        self._xrpc = xrpc
        self._clock = clock
        self._did = business_did
        self._page_size = max(1, min(page_size, MAX_LIMIT))
        self._days = days
        self._overlap = overlap
        self._new_page = new_page
        self._add_profiles = add_profiles
        self._delivered: set[str] = set()  # post uris already in a watch batch this session
        self.unavailable = ""

    async def fetch(self, watch: BrandWatch, cursor: str | None) -> AsyncIterator[Batch]:
        distinct: dict[str, str] = {}
        for term in watch.queries():
            if query_key(term):
                distinct.setdefault(query_key(term), term)  # terms differing only in case are one query
        terms = list(distinct.items())
        places = WatchCursor(decode_watch_cursor(cursor), (key for key, _term in terms))
        problems: list[str] = []
        for number, (key, term) in enumerate(terms):
            newest = places.since(key)
            async for views, page_newest, last in self._walk(term, places.since(key), problems):
                page = self._new_page()
                self._add_matches(page, watch, views)
                await self._add_profiles(page)
                if page_newest and (newest is None or page_newest > newest):
                    newest = page_newest
                out = places.finish(key, newest) if last else None
                if page.posts or out is not None:
                    yield page.batch(WATCH_STREAM, out, more=not last or number < len(terms) - 1, source="watch")
                    self._delivered.update(p.removeprefix("bluesky:") for p in page.posts)
        self.unavailable = " ".join(problems)

    async def _walk(self, term: str, stored: str | None,
                    problems: list[str]) -> AsyncIterator[tuple[list[dict[str, Any]], str | None, bool]]:
        """Pages of ``(posts in range, newest post time on the page, last)``, newest first."""
        pages = page_budget(stored is None)
        if stored is None:
            horizon = first_run_start(self._clock, self._days)
        else:
            horizon = iso_utc(datetime.fromisoformat(stored.replace("Z", "+00:00")) - self._overlap)
        api_cursor: str | None = None
        for number in range(1, pages + 1):
            params: dict[str, Any] = {"q": term, "sort": "latest", "since": horizon, "limit": self._page_size}
            if api_cursor:
                params["cursor"] = api_cursor
            response = await self._xrpc.call("GET", SEARCH, params=params, accept=UNAVAILABLE)
            if response.status_code in UNAVAILABLE:
                problems.append(self._refusal(term, response))
                return
            body = decode(response)
            views = list_field(body, "posts", "searchPosts")
            moments = [sort_moment(v) for v in views]
            in_range = [v for v, m in zip(views, moments) if m is not None and m >= horizon]
            known = [m for m in moments if m]
            following = body.get("cursor")
            last = (not views or len(in_range) < len(views) or not isinstance(following, str) or not following
                    or following == api_cursor or number == pages)
            yield in_range, max(known) if known else None, last
            if last:
                return
            api_cursor = following

    def _refusal(self, term: str, response: Any) -> str:
        name, message = xrpc_error(response)
        log.info("Bluesky watch %r refused: %s %s: %s", term, response.status_code, name, message)
        if response.status_code == 400:
            return f"Bluesky would not search for “{term}”" + (f": {message}." if message else ".")
        if response.status_code == 403:
            return f"Bluesky does not let Tend's app password search posts for “{term}”."
        return "This Bluesky server cannot search posts, so brand watches find nothing there."

    def _add_matches(self, page: PageBuilder, watch: BrandWatch, views: list[Any]) -> None:
        for view in views:
            try:
                post = parse_post(view, page.scope)
            except BadResponse as error:
                log.warning("skipping an unreadable Bluesky search result: %s", error.detail)
                continue
            uri = post.id.removeprefix("bluesky:")
            if uri in self._delivered or page.has_post(uri):
                continue
            if post.author_id == f"bluesky:{self._did}" or reaches(as_object(view, "post"), self._did):
                continue
            if watch.matches(post.text, post.author_id):
                page.add_post(view)


def reaches(view: dict[str, Any], did: str) -> bool:
    """Whether Bluesky notifies the business of this post anyway: it mentions the business, answers one of its
    posts (parent or root), or quotes one."""
    record = view.get("record") if isinstance(view.get("record"), dict) else {}
    root, parent = reply_refs(record)
    if did in (uri_author(root or ""), uri_author(parent or "")):
        return True
    for facet in record.get("facets") if isinstance(record.get("facets"), list) else []:
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features if isinstance(features, list) else []:
            if isinstance(feature, dict) and feature.get("did") == did and str(feature.get("$type", "")).endswith(
                    "#mention"):
                return True
    embed = record.get("embed") if isinstance(record.get("embed"), dict) else {}
    quoted = embed.get("record") if isinstance(embed.get("record"), dict) else {}
    if isinstance(quoted.get("record"), dict):  # recordWithMedia wraps the strong ref once more
        quoted = quoted["record"]
    return uri_author(str(quoted.get("uri", ""))) == did
