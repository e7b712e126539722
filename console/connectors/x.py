"""The X (Twitter) API v2 connector: mentions with their whole conversations, direct messages, counts, follower
figures, who retweeted, brand watches, replies and direct messages sent at most once.

Streams and their cursors (kept verbatim by the store):

- ``mentions``: ``GET /2/users/:id/mentions``. Cursor: the id of the newest mention already stored (a tweet id,
  e.g. ``"1578516295611748353"``), sent back as ``since_id``; pages are walked with ``pagination_token`` (see
  ``x_paging``; a first sync reaches back ``first_sync_days`` with ``start_time``). Each mention brings its whole
  conversation (``x_threads``: recent search ``conversation_id:<id>``, or the ``referenced_tweets`` chain where the
  access level does not allow search). A retweet becomes a ``Reshare`` of the post it retweets.
- ``dms``: ``GET /2/dm_events``. Cursor: the id of the newest message already stored (see ``x_dms``).

``fetch_watch`` runs a brand watch (stream ``watch``; cursor: the newest matching search result's id).

Everything that returns posts counts against the monthly read cap (``monthly_read_cap``): ``reads_left_text()`` says
what is left, ``read_state()`` is the count to keep between runs (hand it back as ``read_state``), and reading stops
with ``RateLimited`` until next month once the cap is reached. Sending is never stopped by it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from console.connectors.base import OutgoingReply
from console.connectors.errors import BadResponse, ConnectorError
from console.connectors.http import HttpClient
from console.connectors.resharers import ResharerReads
from console.connectors.x_api import POST_FIELDS, SEARCH, USER_FIELDS, TierForbidden, TokenSource, XApi
from console.connectors.x_auth import API_BASE, SaveToken, XTokens, client_for
from console.connectors.x_dms import DirectMessages
from console.connectors.x_paging import newest_first
from console.connectors.x_page import PageBuilder
from console.connectors.x_parse import (
    NATIVE_ID, Envelope, Json, Scope, dm_parts, native, native_post, newest_of, parse_tweet, parse_user,
)
from console.connectors.x_reads import MonthlyReads, ReadStateSaver
from console.connectors.x_send import Sender
from console.connectors.x_threads import Conversations
from console.connectors.x_watch import reaches_business, watch_query
from console.domain import Account, Author, Batch, Direction, Post, Visibility, iso_utc, utc_now
from console.domain.watches import WATCH_STREAM, BrandWatch

log = logging.getLogger(__name__)

MENTIONS = "mentions"
DMS = "dms"
THREADS = "threads"
PAGE_SIZE = 100
MAX_MENTION_PAGES = 10
MAX_WATCH_PAGES = 5
USERS_BATCH = 100
NO_SEARCH = ("Your X access level does not allow searching posts, so the brand watch cannot run on X; a different "
             "X API plan is needed for that.")


def _x_time(moment: datetime) -> str:
    """The form X's ``start_time`` takes (RFC 3339, whole seconds)."""
    return iso_utc(moment)[:19] + "Z"


class XConnector:
    """One X account; satisfies ``console.connectors.base.Connector`` and has ``fetch_watch`` and
    ``refresh_thread``. The connector owns ``client`` once given one (``aclose`` closes it)."""

    streams: Sequence[str] = (MENTIONS, DMS)
    # Re-reading an open conversation costs a search plus its retweeters against the monthly read cap: every
    # 30 minutes rather than the engine's default 5 (console/sync.py reads this).
    refresh_every = timedelta(minutes=30)

    def __init__(
        self,
        account: Account,
        token_source: TokenSource,
        *,
        base_url: str = API_BASE,
        client: HttpClient | None = None,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monthly_read_cap: int | None = None,
        read_state: Mapping[str, Any] | None = None,
        on_read_state: ReadStateSaver | None = None,
        first_sync_days: int = 7,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.account = account
        self._http = client or client_for(base_url, sleep=sleep, clock=clock)
        self._clock = clock
        self._business_id = account.remote_id if NATIVE_ID.fullmatch(account.remote_id) else ""
        self._username = account.handle.lstrip("@")
        self._first_sync_days = first_sync_days
        self._page_size = page_size
        self.reads = MonthlyReads(monthly_read_cap, read_state, clock, on_read_state)
        self._api = XApi(self._http, token_source, handle=account.handle or "this X account", reads=self.reads,
                         clock=clock)
        self.conversations = Conversations(self._api, clock)
        self.dms = DirectMessages(self._api, clock, first_sync_days)
        self._sender = Sender(self._api, scope=self._scope, username=self._username, clock=clock, sleep=sleep)
        self._resharer_reads = ResharerReads()
        self._conversation_newest: dict[str, str] = {}  # conversation id -> newest post read this session
        self._watch_unavailable = ""

    @classmethod
    def with_refresh_token(cls, account: Account, *, client_id: str, refresh_token: str,
                           save_refresh_token: SaveToken | None = None, base_url: str = API_BASE,
                           clock: Callable[[], datetime] = utc_now,
                           sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                           **kwargs: Any) -> XConnector:
        """The usual way to build one: tokens refreshed on the same HTTP session as the API calls."""
        http = client_for(base_url, sleep=sleep, clock=clock)
        tokens = XTokens(http, client_id, refresh_token, save_refresh_token=save_refresh_token, clock=clock,
                         handle=account.handle or "your X account")
        return cls(account, tokens, client=http, clock=clock, sleep=sleep, **kwargs)

    # -- what the owner sees ---------------------------------------------------------------------------------------

    def reads_left_text(self) -> str:
        """``"1,240 of 10,000 reads left this month"`` (or the count read, when no cap is set)."""
        return self.reads.text()

    def read_state(self) -> dict[str, Any]:
        """The month's read count to keep between runs; give it back as ``read_state``."""
        return self.reads.state()

    @property
    def chat_unavailable(self) -> str:
        """Why direct messages are not being synced, in the owner's words ("" while they are)."""
        return self.dms.unavailable

    @property
    def conversations_unavailable(self) -> str:
        """Why whole conversations are read only as reply chains (the access level refuses search); "" if not."""
        return self.conversations.unavailable

    def suggested_delay(self, default_interval: float) -> float:
        """Seconds until the next poll: the default, or longer when an endpoint's rate budget is nearly spent."""
        return self._api.suggested_delay(default_interval)

    # -- sync ------------------------------------------------------------------------------------------------------

    async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
        if stream == MENTIONS:
            async for batch in self._mentions(cursor):
                yield batch
        elif stream == DMS:
            scope = await self._scope()
            async for page in self.dms.pages(cursor, lambda: PageBuilder(scope)):
                if page.builder or page.cursor not in (None, cursor):
                    yield page.builder.batch(DMS, page.cursor, more=page.more)
        else:
            raise ValueError(f"X has no stream {stream!r}")

    async def _mentions(self, cursor: str | None) -> AsyncIterator[Batch]:
        scope = await self._scope()
        stored = cursor if cursor and NATIVE_ID.fullmatch(cursor) else None
        params: dict[str, Any] = dict(POST_FIELDS)
        if stored is None:
            params["start_time"] = _x_time(self._clock() - timedelta(days=self._first_sync_days))
        pages = newest_first(self._api, f"/2/users/{scope.business_id}/mentions", params, cursor=stored,
                             token_param="pagination_token", max_pages=MAX_MENTION_PAGES,
                             page_size=self._page_size, min_page_size=5, what="reading mentions")
        async for found in pages:
            page = PageBuilder(await self._scope())
            conversations: dict[str, None] = {}
            for tweet in found.envelope.data:
                post = page.add_listed(tweet, found.envelope)
                if post is not None:
                    conversations.setdefault(native(post.thread_id), None)
            try:
                for conversation in conversations:
                    await self._add_conversation(page, conversation)
            except ConnectorError:
                # The mentions already read reached the business: store them (the cursor stays, so the next sync
                # reads their conversations again), then let the sync engine hear why it stopped.
                if page:
                    yield page.batch(MENTIONS, None, more=True)
                raise
            if page or found.cursor not in (None, cursor):
                yield page.batch(MENTIONS, found.cursor, more=found.more)

    async def _add_conversation(self, page: PageBuilder, conversation: str, known: Collection[str] = (),
                                *, whole: bool = False) -> None:
        since = None if whole else self._conversation_newest.get(conversation)
        await self.conversations.add(page, conversation, since_id=since, known=known)
        newest = newest_of(self._conversation_newest.get(conversation),
                           *(native(p.id) for p in page.posts.values() if native(p.thread_id) == conversation))
        if newest:
            self._conversation_newest[conversation] = newest

    async def fetch_watch(self, watch: BrandWatch, cursor: str | None) -> AsyncIterator[Batch]:
        """Posts matching a brand watch, newer than ``cursor`` (the newest result's id; see ``x_watch``); batches
        have ``stream=WATCH_STREAM`` and ``source="watch"``. Only true matches are kept (``BrandWatch.matches``).
        Where the access level does not include search, nothing is read and ``watch_unavailable`` says why."""
        if not watch.active:
            return
        if not self.conversations.search_allowed():
            self._watch_unavailable = self._watch_unavailable or NO_SEARCH
            return
        scope = await self._scope()
        stored = cursor if cursor and NATIVE_ID.fullmatch(cursor) else None
        params = {**POST_FIELDS, "query": watch_query(watch, self._username)}
        pages = newest_first(self._api, SEARCH, params, cursor=stored, token_param="next_token",
                             max_pages=MAX_WATCH_PAGES, page_size=self._page_size, min_page_size=10,
                             what="searching posts for brand-watch words")
        try:
            async for found in pages:
                self._watch_unavailable = ""
                page = PageBuilder(scope)
                for tweet in found.envelope.data:
                    if self._watch_keeps(watch, tweet, found.envelope, scope):
                        page.add_tweet(tweet, found.envelope)
                if page or found.cursor not in (None, cursor):
                    yield page.batch(WATCH_STREAM, found.cursor, more=found.more, source="watch")
        except TierForbidden as refusal:
            self.conversations.refuse_search()
            self._watch_unavailable = str(refusal)

    def _watch_keeps(self, watch: BrandWatch, tweet: Json, envelope: Envelope, scope: Scope) -> bool:
        try:
            candidate = parse_tweet(tweet, scope, tweets=envelope.tweets, users=envelope.users)
        except BadResponse as error:
            log.warning("skipping an unreadable X search result: %s", error.detail)
            return False
        return (candidate.direction is Direction.IN and bool(candidate.author_id)
                and not reaches_business(tweet, scope.business_id, self._username)
                and watch.matches(candidate.text, candidate.author_id))

    @property
    def watch_unavailable(self) -> str:
        """Why the brand watch cannot search X (the access level does not include search); "" while it can."""
        return self._watch_unavailable

    # -- threads and people ----------------------------------------------------------------------------------------

    async def refresh_thread(self, thread_id: str, post_ids: Collection[str] = ()) -> Batch:
        """The conversation read again (fresh counts, new replies, who retweeted), and its known posts that are
        gone as deletions. Direct-message threads have nothing to refresh."""
        page = await self._thread_page(thread_id, post_ids)
        due = self._resharer_reads.due(page.posts.values())
        if await self.conversations.add_retweeters(page, due, native):
            self._resharer_reads.remember(due)
        return page.batch(THREADS)

    async def _thread_page(self, thread_id: str, post_ids: Collection[str]) -> PageBuilder:
        page = PageBuilder(await self._scope())
        conversation = native_post(thread_id)
        if conversation is None:
            return page
        known = [n for n in map(native_post, post_ids) if n]
        await self._add_conversation(page, conversation, known, whole=True)
        return page

    async def fetch_thread(self, root_id: str) -> list[Post]:
        return list((await self._thread_page(root_id, ())).posts.values())

    async def fetch_authors(self, author_ids: Sequence[str]) -> list[Author]:
        """Fresh profiles with follower figures (``GET /2/users``, 100 at a time)."""
        natives = list(dict.fromkeys(n for n in map(native, author_ids) if NATIVE_ID.fullmatch(n)))
        scope = await self._scope()
        authors: list[Author] = []
        for start in range(0, len(natives), USERS_BATCH):
            envelope = await self._api.get("/2/users", {"ids": ",".join(natives[start:start + USERS_BATCH]),
                                                        "user.fields": USER_FIELDS},
                                           what="reading profiles", counts_reads=False)
            for user in envelope.data:
                try:
                    authors.append(parse_user(user, scope))
                except BadResponse as error:
                    log.warning("skipping an unreadable X profile: %s", error.detail)
        return authors

    async def verify_credentials(self) -> Author:
        """The business's own profile (``GET /2/users/me``); also learns its user id when the inbox did not know
        it yet."""
        envelope = await self._api.get("/2/users/me", {"user.fields": USER_FIELDS}, what="reading your profile",
                                       counts_reads=False)
        if not envelope.data:
            raise BadResponse("X did not say which account Tend is connected to.", detail="/2/users/me: no data")
        user = envelope.data[0]
        author = parse_user(user, Scope(self.account.id, "", iso_utc(self._clock())))
        self._business_id = self._business_id or native(author.id)
        self._username = self._username or author.handle.lstrip("@")
        return author

    async def _scope(self) -> Scope:
        if not self._business_id:
            await self.verify_credentials()
        return Scope(self.account.id, self._business_id, iso_utc(self._clock()))

    # -- answering -------------------------------------------------------------------------------------------------

    async def send_reply(self, reply: OutgoingReply) -> Post:
        """A public reply (``POST /2/tweets``), or a direct message when the reply or what it answers is direct
        (``POST /2/dm_conversations/with/:participant_id/messages``): a hand-off from a public post goes to its
        author."""
        parent = reply.in_reply_to
        if not parent.id.startswith("x:"):
            raise ConnectorError(f"This item does not belong to the X account {self.account.handle}.",
                                 detail=f"id {parent.id!r}")
        if reply.visibility is Visibility.DIRECT or parent.visibility is Visibility.DIRECT \
                or dm_parts(parent.thread_id) is not None:
            return await self._sender.message(parent, reply.text, reply.idempotency_key)
        return await self._sender.reply(parent, reply.text, reply.idempotency_key)

    async def aclose(self) -> None:
        await self._http.aclose()


__all__ = ["DMS", "MENTIONS", "XConnector"]
