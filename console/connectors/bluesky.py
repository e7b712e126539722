"""The Bluesky connector: notifications, whole threads, counts, follower figures, direct messages and replies.

Everything goes to the account's own PDS (``account.server_url``, found from its DID document when it was added),
which forwards ``app.bsky.*`` to the AppView and ``chat.bsky.*`` to the chat service.

Streams and their cursors (kept verbatim by the store):

- ``notifications``: ``app.bsky.notification.listNotifications``. Cursor: the ``indexedAt`` of the newest
  notification already stored, as Bluesky wrote it (e.g. ``"2026-11-25T12:19:12.000Z"``). Bluesky lists newest
  first, so the walk goes back page by page (with the API's own cursor) until it reaches what was stored last time
  (a first sync goes back ``first_sync_days``). Only the last page carries the new cursor: an interrupted walk
  stores what it read and starts again from the top next time. The walk reaches ``overlap`` further back than the
  cursor, because Bluesky dates a notification by when its post claims to be written, and a post indexed late can
  land just behind the cursor; notifications already handled in this session are skipped.
  Mentions, replies and quotes bring their whole thread (``getPostThread`` from the root); reposts and likes refresh
  the counts of the post they are about (``getPosts``; a repost never becomes a post), and a repost names its
  reposter (a ``Reshare`` at the notification's ``indexedAt``); follows bring the follower.
  Every author comes with follower figures (``getProfiles``). After the pass ``updateSeen`` marks them read.
- ``chat``: see ``bluesky_chat``.

Reposts of customers' posts notify the customer, not the business: ``refresh_thread`` asks ``getRepostedBy`` who
reposted the thread's reposted posts (bounded: see ``resharers``).

Brand watches (``fetch_watch``: ``searchPosts`` for posts that name the business without tagging it) are in
``bluesky_watch``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import aclosing
from datetime import datetime, timedelta
from typing import Any

from console.connectors import resharers
from console.connectors.base import OutgoingReply
from console.connectors.bluesky_chat import CHAT, Chat
from console.connectors.bluesky_parse import (
    CHAT_PREFIX, AT_URI, PageBuilder, Scope, flatten_thread, list_field, moment, native, parse_notification,
    post_id, reply_refs,
)
from console.connectors.bluesky_reply import ReplyPublisher, check_length, mention_dids
from console.connectors.bluesky_richtext import build_facets, written_mentions
from console.connectors.bluesky_session import SaveToken, Session, client_for, xrpc_error
from console.connectors.bluesky_watch import WATCH_DAYS, BlueskyWatch
from console.connectors.bluesky_xrpc import Xrpc, decode
from console.connectors.errors import ConnectorError
from console.connectors.http import HttpClient
from console.connectors.resharers import ResharerReads
from console.domain import Account, Author, Batch, Post, Visibility, iso_utc, utc_now
from console.domain.watches import BrandWatch

log = logging.getLogger(__name__)

NOTIFICATIONS = "notifications"
REASONS = ("mention", "reply", "quote", "repost", "like", "follow")
CONVERSATION_REASONS = ("mention", "reply", "quote")
PAGE_SIZE = 50
MAX_PAGES = 40
BATCH = 25  # getPosts and getProfiles take at most 25 at a time
THREAD_DEPTH = 50
PARENT_HEIGHT = 80
MAX_CONTINUATIONS = 20  # further reads per thread below a depth cut (a 1,000-post thread stays bounded)


class BlueskyConnector:
    """One Bluesky account; satisfies ``console.connectors.base.Connector``.

    The connector owns ``client`` once given one (``aclose`` closes it). The access token lives only in memory;
    ``save_refresh_token`` is called (and awaited if it returns an awaitable) every time the refresh token rotates.
    """

    streams: Sequence[str] = (NOTIFICATIONS, CHAT)

    def __init__(
        self,
        account: Account,
        refresh_token: str,
        *,
        client: HttpClient | None = None,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        save_refresh_token: SaveToken | None = None,
        first_sync_days: int = 14,
        overlap: timedelta = timedelta(minutes=10),
        page_size: int = PAGE_SIZE,
        watch_days: int = WATCH_DAYS,
    ) -> None:
        if not account.remote_id.startswith("did:"):
            raise ValueError(f"a Bluesky account needs its DID as remote_id, not {account.remote_id!r}")
        self.account = account
        self.did = account.remote_id
        self._http = client or client_for(account.server_url, sleep=sleep, clock=clock)
        self._clock = clock
        self.session = Session(self._http, refresh_token, account_did=self.did, handle=account.handle, clock=clock,
                               save_refresh_token=save_refresh_token)
        self._xrpc = Xrpc(self._http, self.session, account.handle)
        self.chat = Chat(self._xrpc, clock, first_sync_days)
        self._publisher = ReplyPublisher(self._xrpc, self.did, account.handle, clock)
        self._first_sync_days = first_sync_days
        self._overlap = overlap
        self._page_size = page_size
        self._handled: set[str] = set()  # notification uris stored during this session
        self._threads_read: set[str] = set()  # root uris whose whole thread was read during this session
        self._resharer_reads = ResharerReads()
        self._watch = BlueskyWatch(self._xrpc, clock, business_did=self.did, page_size=page_size, days=watch_days,
                                   overlap=overlap, new_page=self._new_page, add_profiles=self._add_profiles)

    @property
    def chat_unavailable(self) -> str:
        """Why direct messages are not being synced, in the owner's words ("" while they are)."""
        return self.chat.unavailable

    def _new_page(self) -> PageBuilder:
        return PageBuilder(Scope(self.account.id, self.did, iso_utc(self._clock())))

    # -- sync ------------------------------------------------------------------------------------------------------

    async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
        if stream == NOTIFICATIONS:
            async for batch in self._notifications(cursor):
                yield batch
        elif stream == CHAT:
            async for page in self.chat.pages(cursor, self._new_page):
                await self._add_profiles(page.builder)
                if page.builder or page.cursor != cursor:
                    yield page.builder.batch(CHAT, page.cursor, more=page.more)
        else:
            raise ValueError(f"Bluesky has no stream {stream!r}")

    async def fetch_watch(self, watch: BrandWatch, cursor: str | None) -> AsyncIterator[Batch]:
        """Brand-watch matches since ``cursor`` (see ``bluesky_watch``), in batches of stream ``watch``."""
        fetched = self._watch.fetch(watch, cursor)
        async with aclosing(fetched):
            async for batch in fetched:
                yield batch

    @property
    def watch_unavailable(self) -> str:
        """Why some watch queries could not run, in the owner's words ("" when all did)."""
        return self._watch.unavailable

    async def _notifications(self, cursor: str | None) -> AsyncIterator[Batch]:
        stored = moment(cursor)
        if stored is None:
            cursor, horizon = None, iso_utc(self._clock() - timedelta(days=self._first_sync_days))
        else:
            horizon = iso_utc(datetime.fromisoformat(stored.replace("Z", "+00:00")) - self._overlap)
        newest = cursor
        api_cursor: str | None = None
        for page_number in range(1, MAX_PAGES + 1):
            params: dict[str, Any] = {"limit": self._page_size, "reasons": list(REASONS)}
            if api_cursor:
                params["cursor"] = api_cursor
            body = await self._xrpc.get("app.bsky.notification.listNotifications", params)
            notes = [parse_notification(item) for item in list_field(body, "notifications", "listNotifications")]
            recent = [n for n in notes if (moment(n.indexed_at) or "") > horizon]
            fresh = [n for n in recent if n.uri not in self._handled and n.reason in REASONS]
            for note in recent:
                if newest is None or (moment(note.indexed_at) or "") > (moment(newest) or ""):
                    newest = note.indexed_at
            following = body.get("cursor")
            last = (len(recent) < len(notes) or not notes or not isinstance(following, str) or not following
                    or following == api_cursor or page_number == MAX_PAGES)
            page = await self._notifications_page(fresh)
            if page or last and newest != cursor:
                yield page.batch(NOTIFICATIONS, newest if last else None, more=not last)
            self._handled.update(n.uri for n in fresh)
            if last:
                break
            api_cursor = following
        if newest is not None and newest != cursor:
            await self._mark_seen(newest)

    async def _notifications_page(self, notes: list[Any]) -> PageBuilder:
        page = self._new_page()
        threads: dict[str, str] = {}  # root uri -> a notified post in that thread
        counted: dict[str, None] = {}
        for note in notes:
            page.add_author(note.author, full=False)  # the one who mentioned, replied, reposted, liked or followed
            if note.reason in CONVERSATION_REASONS:
                root, _parent = reply_refs(note.record)
                threads.setdefault(root or note.uri, note.uri)
                if note.reason == "quote" and note.reason_subject:
                    counted.setdefault(note.reason_subject, None)  # the business's quoted post: its quote count
            elif note.reason in ("repost", "like") and note.reason_subject:
                counted.setdefault(note.reason_subject, None)
                if note.reason == "repost":
                    page.add_reshare(note.reason_subject, note.author, note.indexed_at)
        for root, notified in threads.items():
            await self._add_thread(page, root, notified)
        await self._add_counted(page, [uri for uri in counted if not page.has_post(uri)])
        await self._add_profiles(page)
        return page

    async def _add_thread(self, page: PageBuilder, root: str, notified: str) -> None:
        """The whole conversation from its root; when the root is gone, what is left around the notified post."""
        if root in page.threads_read:
            return
        page.threads_read.add(root)
        self._threads_read.add(root)
        for start in dict.fromkeys((root, notified)):
            response = await self._xrpc.call(
                "GET", "app.bsky.feed.getPostThread",
                params={"uri": start, "depth": THREAD_DEPTH, "parentHeight": PARENT_HEIGHT}, accept=(400, 404),
            )
            if response.status_code >= 400:
                name, _message = xrpc_error(response)
                if response.status_code == 400 and name not in ("NotFound", "BlockedActor", "BlockedByActor"):
                    raise self._xrpc.error(response, "app.bsky.feed.getPostThread")
                if name == "NotFound" or response.status_code == 404:
                    page.add_deleted(start)
                continue
            items = flatten_thread(decode(response).get("thread"))
            for view in items.posts:
                page.add_post(view, thread_root=root)
            for uri in items.not_found:
                page.add_deleted(uri)
            await self._read_below(page, root, items.cut_off)
            if page.has_post(notified) or notified == start:
                return
            # The notified post was not in the answer (deeper than any read reached): read the rest from it.

    async def _read_below(self, page: PageBuilder, root: str, cut_off: list[str]) -> None:
        """Long threads come back cut at ``THREAD_DEPTH``: read on from each cut, within a bound per thread."""
        pending, reads = list(cut_off), 0
        while pending and reads < MAX_CONTINUATIONS:
            start = pending.pop(0)
            reads += 1
            response = await self._xrpc.call(
                "GET", "app.bsky.feed.getPostThread",
                params={"uri": start, "depth": THREAD_DEPTH, "parentHeight": 0}, accept=(400, 404),
            )
            if response.status_code >= 400:
                continue
            items = flatten_thread(decode(response).get("thread"))
            for view in items.posts:
                if not page.has_post(str(view.get("uri"))):
                    page.add_post(view, thread_root=root)
            for uri in items.not_found:
                page.add_deleted(uri)
            pending += [uri for uri in items.cut_off if uri != start]

    async def _add_counted(self, page: PageBuilder, uris: list[str]) -> None:
        """Posts read again for their counts (a like or repost changes nothing else)."""
        for start in range(0, len(uris), BATCH):
            body = await self._xrpc.get("app.bsky.feed.getPosts", {"uris": uris[start:start + BATCH]})
            for view in list_field(body, "posts", "getPosts"):
                if not isinstance(view, dict):
                    continue
                root, _parent = reply_refs(view.get("record"))
                if root and root not in page.threads_read and root not in self._threads_read:
                    # A reply the business wrote in a conversation Tend has not read yet: read all of it.
                    await self._add_thread(page, root, str(view.get("uri")))
                if not page.has_post(str(view.get("uri"))):
                    page.add_post(view)

    async def _add_profiles(self, page: PageBuilder) -> None:
        for author in await self.fetch_authors(list(page.authors)):
            page.authors[author.id] = author

    async def _mark_seen(self, seen_at: str) -> None:
        try:
            await self._xrpc.call("POST", "app.bsky.notification.updateSeen", json_body={"seenAt": seen_at},
                                  retry_unsafe=True)  # setting the same moment twice is harmless
        except ConnectorError as error:  # everything is stored; the notifications only stay unread in the app
            log.info("could not mark Bluesky notifications seen: %s", error.detail or error)

    # -- threads and people ----------------------------------------------------------------------------------------

    async def refresh_thread(self, root_id: str, known_post_ids: Collection[str] = ()) -> Batch:
        """The thread read again (fresh counts, new replies, who reposted), and its known posts that are gone as
        deletions."""
        page = await self._thread_page(root_id, known_post_ids)
        await self._add_resharers(page)
        await self._add_profiles(page)
        return page.batch("threads")

    async def _thread_page(self, root_id: str, known_post_ids: Collection[str]) -> PageBuilder:
        page = self._new_page()
        root = native(root_id)
        if root.startswith(CHAT_PREFIX) or not AT_URI.fullmatch(root):
            return page
        await self._add_thread(page, root, root)
        missing = [u for u in map(native, known_post_ids) if AT_URI.fullmatch(u) and not page.has_post(u)
                   and post_id(u) not in page.deleted]
        for start in range(0, len(missing), BATCH):
            chunk = missing[start:start + BATCH]
            body = await self._xrpc.get("app.bsky.feed.getPosts", {"uris": chunk})
            found = {
                v["uri"]: v for v in list_field(body, "posts", "getPosts")
                if isinstance(v, dict) and isinstance(v.get("uri"), str)  # a view without a usable uri is skipped
            }
            for uri in chunk:
                if uri in found:
                    page.add_post(found[uri], thread_root=root)  # cut off from the thread, not deleted
                else:
                    page.add_deleted(uri)
        return page

    async def _add_resharers(self, page: PageBuilder) -> None:
        """Who reposted the page's reposted posts. ``getRepostedBy`` does not say when, so ``reshared_at`` is this
        reading's time (the store keeps a notification's exact time when one came first). Its cursor is opaque and
        a short page is not the end (the AppView drops hidden accounts after paging), so only the cursor ends it."""
        due = self._resharer_reads.due(page.posts.values())
        for post in due:
            uri, cursor = native(post.id), None
            for _ in range(resharers.MAX_PAGES):
                params: dict[str, Any] = {"uri": uri, "limit": resharers.PAGE_SIZE}
                if cursor:
                    params["cursor"] = cursor
                response = await self._xrpc.call("GET", "app.bsky.feed.getRepostedBy", params=params,
                                                 accept=(400, 404))
                if response.status_code >= 400:
                    name, _message = xrpc_error(response)
                    if response.status_code == 404 or name == "NotFound":
                        break  # deleted since the thread was read: nobody to name
                    raise self._xrpc.error(response, "app.bsky.feed.getRepostedBy")
                body = decode(response)
                page.add_resharers(uri, list_field(body, "repostedBy", "getRepostedBy"), page.scope.observed_at)
                following = body.get("cursor")
                if not isinstance(following, str) or not following or following == cursor:
                    break
                cursor = following
        self._resharer_reads.remember(due)

    async def fetch_thread(self, root_id: str) -> list[Post]:
        return list((await self._thread_page(root_id, ())).posts.values())

    async def fetch_authors(self, author_ids: Sequence[str]) -> list[Author]:
        dids = list(dict.fromkeys(d for d in (native(i) if i.startswith("bluesky:") else i for i in author_ids)
                                  if d.startswith("did:")))
        page = self._new_page()
        for start in range(0, len(dids), BATCH):
            body = await self._xrpc.get("app.bsky.actor.getProfiles", {"actors": dids[start:start + BATCH]})
            for profile in list_field(body, "profiles", "getProfiles"):
                page.add_author(profile, full=True)
        return list(page.authors.values())

    # -- answering -------------------------------------------------------------------------------------------------

    async def send_reply(self, reply: OutgoingReply) -> Post:
        parent = reply.in_reply_to
        if reply.visibility is Visibility.DIRECT or parent.visibility is Visibility.DIRECT:
            return await self._send_message(reply)
        return await self._publisher.publish(parent, reply.text, reply.idempotency_key, self._resolve_mentions)

    async def _send_message(self, reply: OutgoingReply) -> Post:
        """A direct message: in the conversation being answered, or a new one with the author of a public post."""
        check_length(reply.text)  # chat allows 1000; Tend keeps one limit per network
        parent = reply.in_reply_to
        thread = native(parent.thread_id)
        convo_id = thread.removeprefix(CHAT_PREFIX) if thread.startswith(CHAT_PREFIX) else None
        facets = build_facets(reply.text, await self._resolve_mentions(written_mentions(reply.text)))
        scope = Scope(self.account.id, self.did, iso_utc(self._clock()))
        return await self.chat.send(scope, native(parent.author_id), convo_id, reply.text, facets)

    async def _resolve_mentions(self, handles: list[str]) -> dict[str, str]:
        return await mention_dids(self._xrpc, handles)

    def suggested_delay(self, default_interval: float) -> float:
        return self._http.suggested_delay(default_interval)

    async def aclose(self) -> None:
        await self._http.aclose()
