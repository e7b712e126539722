"""Whole conversations on X, which has no thread endpoint, and who retweeted their posts.

A conversation is every post sharing a ``conversation_id`` (the id of its first post). Two ways to read it:

- recent search ``conversation_id:<id>``: every reply of the last seven days, branches included. The access level
  decides whether search is allowed at all; when X says it is not (a 403 ``client-not-enrolled``), Tend says so
  once (``unavailable``), stops asking for a while and falls back to
- walking ``referenced_tweets`` up from the posts it has: each reply names the post it answers, read by id
  (``GET /2/tweets?ids=``, 100 at a time) until the first post. That finds the chain above each mention, not the
  branches beside it.

Both cost reads against the monthly cap, so a conversation already read during this session is searched only for
what is newer (``since_id``), and refreshes ask for known posts by id only when search did not return them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta

from console.connectors import resharers
from console.connectors.x_api import LOOKUP, POST_FIELDS, SEARCH, USER_FIELDS, Forbidden, TierForbidden, XApi
from console.connectors.x_paging import newest_first
from console.connectors.x_page import PageBuilder
from console.connectors.x_parse import post_id, read_envelope, reference
from console.domain import Post

log = logging.getLogger(__name__)

MAX_SEARCH_PAGES = 3  # 300 replies per conversation and read
MAX_WALK_STEPS = 40  # a reply chain deeper than this is read from the top by search, or not at all
LOOKUP_BATCH = 100
RECHECK_REFUSED = timedelta(hours=6)


class Conversations:
    """Reads conversations into pages, by search where the access level allows it, else by walking replies up."""

    def __init__(self, api: XApi, clock: Callable[[], datetime]) -> None:
        self._api = api
        self._clock = clock
        self._search_refused_until: datetime | None = None
        self._resharers_refused_until: datetime | None = None
        self.unavailable = ""  # why conversations come only as reply chains, in the owner's words; "" when not

    def search_allowed(self) -> bool:
        return self._search_refused_until is None or self._clock() >= self._search_refused_until

    def refuse_search(self) -> None:
        """X said the access level does not include search: do not ask again for a while (any caller)."""
        self._search_refused_until = self._clock() + RECHECK_REFUSED

    async def add(self, page: PageBuilder, conversation: str, *, since_id: str | None = None,
                  known: Collection[str] = ()) -> None:
        """The conversation into ``page`` (whose posts so far are where a walk starts), and the ``known`` posts
        (tweet ids) with fresh counts, or as deleted when X no longer has them."""
        if self.search_allowed():
            try:
                await self._search(page, conversation, since_id)
            except Forbidden as refusal:  # the access level (or a policy) does not allow search here
                self.refuse_search()
                if not self.unavailable:
                    log.info("X search is not available, so conversations are read reply by reply: %s", refusal)
                self.unavailable = str(refusal)
            else:
                self.unavailable = ""
                first = [conversation] if since_id is None else []
                await self.lookup(page, [n for n in (*first, *known) if not self._settled(page, n)])
                if since_id is None:  # search reaches back seven days: an older chain above is read by id
                    await self.walk(page)
                return
        await self.walk(page, also=[conversation, *known])

    async def _search(self, page: PageBuilder, conversation: str, since_id: str | None) -> None:
        pages = newest_first(self._api, SEARCH, {**POST_FIELDS, "query": f"conversation_id:{conversation}"},
                             cursor=since_id, token_param="next_token", max_pages=MAX_SEARCH_PAGES, page_size=100,
                             min_page_size=10, what="searching whole conversations")
        async for found in pages:
            for tweet in found.envelope.data:
                page.add_listed(tweet, found.envelope)

    async def walk(self, page: PageBuilder, also: Iterable[str] = ()) -> None:
        """Read the posts the page's replies answer, and theirs, up to the first post of each conversation (with
        ``also``, posts wanted anyway, in the first read)."""
        checked: set[str] = set()
        for step in range(MAX_WALK_STEPS):
            wanted: dict[str, None] = dict.fromkeys(n for n in also if not self._settled(page, n)) if step == 0 \
                else {}
            for native_tweet, raw in list(page.raw.items()):
                if native_tweet in checked:
                    continue
                checked.add(native_tweet)
                parent = reference(raw, "replied_to")
                if parent and not self._settled(page, parent):
                    wanted.setdefault(parent, None)
            if not wanted:
                return
            await self.lookup(page, list(wanted))

    async def lookup(self, page: PageBuilder, natives: Iterable[str]) -> None:
        """Posts by id, with fresh counts; those X reports as not found are marked deleted."""
        wanted = list(dict.fromkeys(natives))
        for start in range(0, len(wanted), LOOKUP_BATCH):
            chunk = wanted[start:start + LOOKUP_BATCH]
            envelope = await self._api.get(LOOKUP, {**POST_FIELDS, "ids": ",".join(chunk)}, what="reading posts")
            for tweet in envelope.data:
                page.add_listed(tweet, envelope)
            for gone in envelope.missing("tweet"):
                page.add_deleted(gone)

    @staticmethod
    def _settled(page: PageBuilder, native_tweet: str) -> bool:
        return page.has_post(native_tweet) or post_id(native_tweet) in page.deleted

    async def add_retweeters(self, page: PageBuilder, due: Iterable[Post], native_of: Callable[[str], str]) -> bool:
        """Who retweeted these posts (``GET /2/tweets/:id/retweeted_by``, bounded as ``resharers`` says), at this
        reading's time since X does not say when. ``False`` when the access level does not allow asking."""
        if self._resharers_refused_until is not None and self._clock() < self._resharers_refused_until:
            return False
        for post in due:
            native_tweet, token = native_of(post.id), None
            for _ in range(resharers.MAX_PAGES):
                params = {"user.fields": USER_FIELDS, "max_results": resharers.PAGE_SIZE}
                if token:
                    params["pagination_token"] = token
                try:
                    response, body = await self._api.call("GET", f"/2/tweets/{native_tweet}/retweeted_by",
                                                          params=params, what="seeing who reposted a post",
                                                          accept=(404,))
                except TierForbidden as refusal:
                    log.info("X does not say who reposted posts at this access level: %s", refusal)
                    self._resharers_refused_until = self._clock() + RECHECK_REFUSED
                    return False
                if response.status_code == 404:
                    break  # deleted since the thread was read: nobody to name
                envelope = read_envelope(body, "retweeted_by")
                for user in envelope.data:
                    page.add_reshare(native_tweet, user, page.scope.observed_at)
                following = envelope.next_token
                if following is None or following == token:
                    break
                token = following
        return True
