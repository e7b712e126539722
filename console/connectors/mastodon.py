"""The Mastodon connector (also Mastodon-compatible servers): notifications, direct messages, whole threads, replies.

Streams and their cursors (kept verbatim by the store):

- ``notifications``: ``GET /api/v1/notifications``. Cursor: the id of the newest notification already stored (a
  Mastodon id string, e.g. ``"117020576916218297"`` or ``"42"``). Mentions and quotes bring their whole thread
  (``/api/v1/statuses/:id/context``); boosts and favourites refresh the counts of the business's post they are
  about, and a boost also names its booster (a ``Reshare`` at the notification's time); follows bring the
  follower's profile; edits refresh the edited post when its thread involves the business.
- ``conversations``: ``GET /api/v1/conversations`` (direct messages). Cursor: the id of the newest conversation's
  last status already stored (the id Mastodon pages conversations by). Each conversation brings its whole thread.

Both are walked page by page by ``mastodon_paging`` (first sync bounded to ``first_sync_days``, then forward from
the cursor); each page is yielded, and so stored, before the next is asked for.

Boosts of customers' posts notify the customer, not the business: ``refresh_thread`` asks
``/api/v1/statuses/:id/reblogged_by`` who boosted the thread's boosted posts (bounded: see ``resharers``).

Brand watches (``fetch_watch``: search and hashtag timelines, posts that name the business without tagging it) are
in ``mastodon_watch``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import aclosing
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from console.connectors import resharers
from console.connectors.base import OutgoingReply
from console.connectors.errors import AuthExpired, ConnectorError, RateLimited, ServerError
from console.connectors.http import HttpClient
from console.connectors.mastodon_paging import LinkPager, ListReader, decode_json
from console.connectors.mastodon_parse import (
    NATIVE_ID, NETWORK, Conversation, Json, Notification, PageBuilder, Scope, as_list, instance_settings, mentioned_ids,
    native_id, parse_author, parse_conversation, parse_context, parse_notification, parse_status, reply_to,
    status_author_id, status_id, text_field, unwrap_reblog,
)
from console.connectors.mastodon_stream import UNAVAILABLE, follow_notifications, streaming_base
from console.connectors.mastodon_text import mention_first, status_length
from console.connectors.mastodon_watch import WATCH_DAYS, MastodonWatch
from console.connectors.resharers import ResharerReads
from console.domain import Account, Author, Batch, Direction, Post, Visibility, iso_utc, utc_now
from console.domain.watches import BrandWatch

NOTIFICATIONS = "notifications"
CONVERSATIONS = "conversations"
# "quote" exists from Mastodon 4.4; servers ignore types they do not know.
NOTIFICATION_TYPES = ("mention", "quote", "reblog", "favourite", "follow", "update")
PAGE_SIZE = 40
DEFAULT_CHAR_LIMIT = 500
DEFAULT_URL_LENGTH = 23
_GONE = (404, 410)
_VISIBILITY_ORDER = (Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE, Visibility.DIRECT)


def server_host(server_url: str) -> str:
    """``host[:port]`` of the server, lower-case: the namespace of every id this account's records carry."""
    netloc = urlsplit(server_url).netloc.rsplit("@", 1)[-1].lower()
    if not netloc:
        raise ValueError(f"not a server URL: {server_url!r}")
    return netloc


def reply_visibility(requested: Visibility, parent: Visibility) -> Visibility:
    """A reply is never more public than what it answers: a direct message stays direct, followers-only stays so."""
    return max(requested, parent, key=_VISIBILITY_ORDER.index)


class MastodonConnector:
    """One Mastodon account; satisfies ``console.connectors.base.Connector`` and has a live ``watch()``.

    The connector owns ``client`` once given one (``aclose`` closes it) and puts the token in its headers.
    """

    streams: Sequence[str] = (NOTIFICATIONS, CONVERSATIONS)

    def __init__(
        self,
        account: Account,
        token: str,
        *,
        client: HttpClient | None = None,
        clock: Callable[[], datetime] = utc_now,
        first_sync_days: int = 14,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        page_size: int = PAGE_SIZE,
        stream_idle_timeout: float = 60.0,
        watch_days: int = WATCH_DAYS,
    ) -> None:
        self.account = account
        self.host = server_host(account.server_url)
        self._http = client or HttpClient(account.server_url, service_name="Mastodon", sleep=sleep, clock=clock)
        if token:
            self._http.headers["Authorization"] = f"Bearer {token}"
        self._clock = clock
        self._stream_idle_timeout = stream_idle_timeout
        self._business_id = account.remote_id
        self._roots: dict[str, str] = {}  # native status id -> native id of its thread's root
        self._instance: Json | None = None
        self._bulk_accounts = True
        self._pager = LinkPager(self._http, f"{urlsplit(account.server_url).scheme}://{self.host}", clock,
                                first_sync_days, page_size)
        self._deleted_by_stream: dict[str, None] = {}
        self._resharer_reads = ResharerReads()
        self._watch = MastodonWatch(self._http, self._pager, clock, host=self.host, page_size=page_size,
                                    days=watch_days, new_page=self._new_page, root_of=self._root_of)

    # -- sync ------------------------------------------------------------------------------------------------------

    async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
        if stream == NOTIFICATIONS:
            reader = ListReader(self._read_notifications, lambda n: n.id, lambda n: n.created_at)
            pages = self._pager.pages("/api/v1/notifications", {"types[]": list(NOTIFICATION_TYPES)}, cursor, reader)
            build = self._notifications_page
        elif stream == CONVERSATIONS:
            reader = ListReader(self._read_conversations, lambda c: c.last_status_id, lambda c: c.last_activity)
            pages = self._pager.pages("/api/v1/conversations", {}, cursor, reader, optional=True)
            build = self._conversations_page
        else:
            raise ValueError(f"Mastodon has no stream {stream!r}")
        async with aclosing(pages):
            async for page in pages:
                built = await build(page.items)
                yield built.batch(stream, page.cursor, more=page.more)
        if stream == NOTIFICATIONS and self._deleted_by_stream:
            natives = list(self._deleted_by_stream)
            built = await self._new_page()
            built.add_deleted(natives)
            yield built.batch(stream)
            for native in natives:
                self._deleted_by_stream.pop(native, None)

    async def fetch_watch(self, watch: BrandWatch, cursor: str | None) -> AsyncIterator[Batch]:
        """Brand-watch matches since ``cursor`` (see ``mastodon_watch``), in batches of stream ``watch``."""
        fetched = self._watch.fetch(watch, cursor)
        async with aclosing(fetched):
            async for batch in fetched:
                yield batch

    @property
    def watch_unavailable(self) -> str:
        """Why some watch queries could not run on this server, in the owner's words ("" when all did)."""
        return self._watch.unavailable

    @staticmethod
    def _read_notifications(body: Any) -> list[Notification]:
        return [parse_notification(item) for item in as_list(body, "notifications")]

    @staticmethod
    def _read_conversations(body: Any) -> list[Conversation]:
        return [parse_conversation(item) for item in as_list(body, "conversations")]

    async def _notifications_page(self, notes: list[Notification]) -> PageBuilder:
        page = await self._new_page()
        for note in notes:
            if note.type not in NOTIFICATION_TYPES:
                continue
            if note.account is not None:
                page.add_author(note.account)  # the booster, favouriter or follower: their reach matters
            if note.status is None:
                continue
            if note.type in ("mention", "quote"):
                await self._add_thread(page, note.status)
            elif note.type == "update":
                await self._add_thread(page, note.status, only_if_involved=True)
            else:
                await self._add_counted(page, note.status)
                if note.type == "reblog" and note.account is not None:
                    page.add_reshare(status_id(note.status), note.account, note.created_at)
        return page

    async def _conversations_page(self, conversations: list[Conversation]) -> PageBuilder:
        page = await self._new_page()
        for conversation in conversations:
            if conversation.last_status is not None:
                await self._add_thread(page, unwrap_reblog(conversation.last_status))
        return page

    def _scope(self) -> Scope:
        # The account's handle (@user@domain) was built from the server's own domain when it was connected.
        parts = self.account.handle.lstrip("@").split("@")
        domain = parts[1] if len(parts) == 2 else ""
        return Scope(self.account.id, self.host, self._business_id, iso_utc(self._clock()), domain)

    async def _new_page(self) -> PageBuilder:
        await self._ensure_business_id()
        return PageBuilder(self._scope())

    async def _add_thread(self, page: PageBuilder, status: Json, *, only_if_involved: bool = False) -> None:
        """The whole conversation around ``status`` (ancestors, it, descendants), each post with fresh counts."""
        native = status_id(status)
        if native in page.complete:
            return
        context = await self._get_or_none(f"/api/v1/statuses/{native}/context")
        if context is None:
            page.add_deleted([native])
            return
        ancestors, descendants = parse_context(context)
        chain = [*ancestors, status, *descendants]
        if only_if_involved and not any(self._involves_business(s) for s in chain):
            return
        root = status_id(ancestors[0]) if ancestors else native
        for item in chain:
            page.add_status(item, root)
            self._roots[status_id(item)] = root
        # A descendant's own context is part of this one; an ancestor's is not (it may have other branches).
        page.complete.update(status_id(item) for item in (status, *descendants))

    async def _add_counted(self, page: PageBuilder, status: Json) -> None:
        """A boost or favourite of the business's post: the post with its new counts, never a new post."""
        native = status_id(status)
        if native in page.covered:
            return
        root = native if reply_to(status) is None else self._roots.get(native)
        if root is None:  # a reply whose thread this run has not seen: the thread says where it belongs
            await self._add_thread(page, status)
            return
        page.add_status(status, root)

    async def _root_of(self, status: Json) -> str | None:
        """The native id of the root of ``status``'s conversation (its context's first ancestor, as a mention's
        thread is rooted), or ``None`` when the status is gone."""
        native = status_id(status)
        parent = reply_to(status)
        if parent is None:
            return native
        known = self._roots.get(native) or self._roots.get(parent)
        if known:
            return known
        context = await self._get_or_none(f"/api/v1/statuses/{native}/context")
        if context is None:
            return None
        ancestors, _descendants = parse_context(context)
        root = status_id(ancestors[0]) if ancestors else native
        self._roots[native] = root
        return root

    def _involves_business(self, status: Json) -> bool:
        return status_author_id(status) == self._business_id or self._business_id in mentioned_ids(status)

    async def _get_or_none(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """A GET whose 404 means "gone" (deleted, or no longer visible to the business) rather than failure."""
        response = await self._http.request("GET", path, params=params, accept_status=_GONE)
        return None if response.status_code in _GONE else decode_json(response)

    # -- threads and people ----------------------------------------------------------------------------------------

    async def refresh_thread(self, root_id: str, known_post_ids: Collection[str] = ()) -> Batch:
        """The thread read again (fresh counts, edits, who boosted it) as a batch to store, for threads no
        notification touches.

        ``known_post_ids`` are the thread's posts the inbox already holds: any the server's context no longer shows
        is asked for by itself, and reported in ``deleted_post_ids`` when it is gone (or refreshed when it is only
        cut off from the thread, as a reply to a deleted post is).
        """
        page = await self._thread_page(root_id, known_post_ids)
        await self._add_resharers(page)
        return page.batch("threads")

    async def _thread_page(self, root_id: str, known_post_ids: Collection[str]) -> PageBuilder:
        native = self._native(root_id)
        page = await self._new_page()
        status = await self._get_or_none(f"/api/v1/statuses/{native}")
        if status is None:
            page.add_deleted([native])
        else:
            await self._add_thread(page, unwrap_reblog(status))
        for other in (self._native(i, strict=False) for i in known_post_ids):
            if not other or other == native or other in page.covered:
                continue
            found = await self._get_or_none(f"/api/v1/statuses/{other}")
            if found is None:
                page.add_deleted([other])
            else:
                page.add_status(unwrap_reblog(found), self._roots.get(other, native))
        return page

    async def _add_resharers(self, page: PageBuilder) -> None:
        """Who boosted the page's boosted posts. Mastodon does not say when, so ``reshared_at`` is this reading's
        time (the store keeps a notification's exact time when one came first)."""
        due = self._resharer_reads.due(page.posts.values())
        for post in due:
            native = self._native(post.id)
            accounts = await self._pager.newest(f"/api/v1/statuses/{native}/reblogged_by", {},
                                                page_size=resharers.PAGE_SIZE, max_pages=resharers.MAX_PAGES)
            page.add_resharers(native, accounts or [], page.scope.observed_at)
        self._resharer_reads.remember(due)

    async def fetch_thread(self, root_id: str) -> list[Post]:
        return list((await self._thread_page(root_id, ())).posts.values())

    async def fetch_authors(self, author_ids: Sequence[str]) -> list[Author]:
        natives = [n for n in (self._native(i, strict=False) for i in author_ids) if n]
        scope = (await self._new_page()).scope
        authors: list[Author] = []
        for start in range(0, len(natives), 40):
            chunk = natives[start:start + 40]
            if self._bulk_accounts:  # Mastodon 4.3+; older servers answer 404 and are asked one by one
                response = await self._http.request("GET", "/api/v1/accounts", params={"id[]": chunk},
                                                    accept_status=(400, 404, 405, 422, 501))
                if response.status_code == 200:
                    authors += [parse_author(a, scope) for a in as_list(decode_json(response), "accounts")]
                    continue
                self._bulk_accounts = False
            for native in chunk:
                account = await self._get_or_none(f"/api/v1/accounts/{native}")
                if account is not None:
                    authors.append(parse_author(account, scope))
        return authors

    async def verify_credentials(self) -> Author:
        """The business's own profile; also learns its account id when the inbox did not know it yet."""
        body = await self._http.request_json("GET", "/api/v1/accounts/verify_credentials")
        scope = self._scope()
        author = parse_author(body, scope)
        if not self._business_id:
            self._business_id = native_id(body, "account")
        return author

    async def _ensure_business_id(self) -> None:
        if not self._business_id:
            await self.verify_credentials()

    def _native(self, inbox_id: str, *, strict: bool = True) -> str | None:
        prefix = f"{NETWORK}:{self.host}/"
        native = inbox_id[len(prefix):] if inbox_id.startswith(prefix) else ""
        if native and NATIVE_ID.fullmatch(native):
            return native
        if strict:
            raise ConnectorError(f"This item does not belong to the Mastodon account {self.account.handle}",
                                 detail=f"id {inbox_id!r} is not on {self.host}")
        return None

    # -- answering -------------------------------------------------------------------------------------------------

    async def send_reply(self, reply: OutgoingReply) -> Post:
        parent = reply.in_reply_to
        parent_native = self._native(parent.id)
        visibility = reply_visibility(reply.visibility, parent.visibility)
        text = await self._with_recipient_mentioned(reply.text, parent_native)
        limit = await self.server_char_limit()
        length = status_length(text, url_length=self._url_length())
        if length > limit:
            raise ConnectorError(
                f"This reply is {length} characters long and {self.host} allows {limit}; "
                f"shorten it by {length - limit} characters before sending.",
                detail=f"status length {length} > max_characters {limit}",
            )
        body = await self._http.request_json(
            "POST", "/api/v1/statuses",
            json={"status": text, "in_reply_to_id": parent_native, "visibility": str(visibility)},
            headers={"Idempotency-Key": reply.idempotency_key},
            retry_unsafe=True,  # the Idempotency-Key makes a repeat return the first post instead of a second
        )
        await self._ensure_business_id()
        scope = self._scope()
        post = parse_status(body, scope, thread_id=parent.thread_id)
        root = self._native(parent.thread_id, strict=False)
        if root:
            self._roots[status_id(unwrap_reblog(body))] = root
        return replace(post, direction=Direction.OUT)

    async def _with_recipient_mentioned(self, text: str, parent_native: str) -> str:
        """On Mastodon only a mention notifies, and a direct message reaches only whom it mentions: make sure the
        customer being answered is named (the business answering itself needs no mention)."""
        status = await self._get_or_none(f"/api/v1/statuses/{parent_native}")
        if status is None:
            raise ConnectorError("The post you are answering was deleted on Mastodon, so the reply was not sent.",
                                 detail=f"status {parent_native} is gone")
        status = unwrap_reblog(status)
        author = status.get("account") if isinstance(status.get("account"), dict) else {}
        acct = text_field(author, "status account", "acct", required=True)
        await self._ensure_business_id()
        if status_author_id(status) == self._business_id:
            return text
        local_domain = str((await self._instance_info()).get("domain") or self.host)
        return mention_first(text, acct, local_domains=(local_domain, self.host))

    async def server_char_limit(self) -> int:
        """The server's own post length limit (``configuration.statuses.max_characters``), 500 if it says none."""
        limit, _, _ = instance_settings(await self._instance_info())
        return limit or self.account.char_limit or DEFAULT_CHAR_LIMIT

    def _url_length(self) -> int:
        return instance_settings(self._instance)[1] or DEFAULT_URL_LENGTH

    async def _instance_info(self) -> Json:
        if self._instance is None:
            info = await self._get_or_none("/api/v2/instance")
            if info is None:
                info = await self._get_or_none("/api/v1/instance")
            self._instance = info if isinstance(info, dict) else {}
        return self._instance

    # -- live ------------------------------------------------------------------------------------------------------

    async def watch(self) -> AsyncIterator[None]:
        """Yield whenever the server says something new arrived; raise ``ServerError`` when the stream is down."""
        try:
            advertised = instance_settings(await self._instance_info())[2]
        except (AuthExpired, RateLimited):
            raise
        except ConnectorError as error:
            raise ServerError(UNAVAILABLE, detail=error.detail) from error
        base = streaming_base(advertised, self.account.server_url)
        events = follow_notifications(self._http, base, idle_timeout=self._stream_idle_timeout,
                                      on_delete=self._note_deleted)
        async with aclosing(events):
            async for _ in events:
                yield None

    def _note_deleted(self, native: str) -> None:
        """Remember a deletion the stream announced; the next notifications sync stores it."""
        if NATIVE_ID.fullmatch(native):
            self._deleted_by_stream.setdefault(native, None)

    def suggested_delay(self, default_interval: float) -> float:
        """Seconds until the next poll: the default, or longer when the server's rate budget is nearly spent."""
        return self._http.suggested_delay(default_interval)

    async def aclose(self) -> None:
        await self._http.aclose()
