"""Bluesky direct messages (``chat.bsky.convo.*``), read and sent through the PDS with the ``atproto-proxy`` header.

Chat is a separate service the PDS forwards to, and it is not always there: a development network may run
without it (the PDS then answers 500), and an app password created without "Allow access to your direct messages"
is refused (``Bad token scope``). Neither is a reason to fail the whole sync: the chat stream then yields nothing,
says so once in the log and in ``unavailable``, and asks again later.

Cursor of the ``chat`` stream: the ``sentAt`` of the newest message already stored (verbatim, as Bluesky wrote it).
Conversations come newest activity first; the walk stops at the first one with nothing newer than the cursor.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from console.connectors.bluesky_parse import (
    CHAT_PREFIX, NETWORK, PageBuilder, Scope, as_object, attachments, author_id, chat_thread_id, did_of, list_field,
    moment, text,
)
from console.connectors.bluesky_richtext import render_text
from console.connectors.bluesky_session import xrpc_error
from console.connectors.bluesky_xrpc import Forbidden, Xrpc, decode
from console.connectors.errors import ConnectorError
from console.connectors.mastodon_text import cap_text
from console.domain import Post, Visibility, iso_utc
from console.domain.records import make_id

log = logging.getLogger(__name__)

CHAT_PROXY = {"atproto-proxy": "did:web:api.bsky.chat#bsky_chat"}
CHAT = "chat"
PAGE_SIZE = 50
MAX_PAGES = 20
# Statuses that mean "no chat here (now)": answered, not raised, so the rest of the sync carries on.
_UNAVAILABLE_STATUSES = (400, 403, 404, 500, 501, 502, 503, 504)
_RECHECK_AFTER_REFUSAL = timedelta(hours=6)
_RECHECK_AFTER_FAILURE = timedelta(minutes=30)
NO_CHAT = "Bluesky direct messages are not available for this account"


@dataclass(frozen=True, slots=True)
class ChatPage:
    builder: PageBuilder
    cursor: str | None
    more: bool


class Chat:
    """The chat side of one account."""

    def __init__(self, xrpc: Xrpc, clock: Callable[[], datetime], first_sync_days: int) -> None:
        self._xrpc = xrpc
        self._clock = clock
        self._first_sync_days = first_sync_days
        self._down_until: datetime | None = None
        self.unavailable: str = ""  # why chat is off, in the owner's words; empty while it works

    # -- reading ---------------------------------------------------------------------------------------------------

    async def pages(self, cursor: str | None, new_page: Callable[[], PageBuilder]) -> AsyncIterator[ChatPage]:
        if self._down_until is not None and self._clock() < self._down_until:
            return
        horizon = self._horizon(cursor)
        newest = cursor
        api_cursor: str | None = None
        for page_number in range(1, MAX_PAGES + 1):
            params: dict[str, Any] = {"limit": PAGE_SIZE}
            if api_cursor:
                params["cursor"] = api_cursor
            response = await self._call("GET", "chat.bsky.convo.listConvos", params=params)
            if response is None:
                return
            body = decode(response)
            builder = new_page()
            last = False
            for convo in list_field(body, "convos", "listConvos"):
                convo = as_object(convo, "convo")
                active = _last_activity(convo)
                if active is None:
                    continue  # a conversation without messages yet
                if active <= horizon:
                    last = True  # newest first: everything after this is already stored
                    break
                newest = max(newest or "", _raw_last_sent(convo) or "", key=lambda t: moment(t) or "")
                await self._read_convo(builder, convo, horizon)
            following = body.get("cursor")
            last = last or not isinstance(following, str) or not following or following == api_cursor
            last = last or page_number == MAX_PAGES
            yield ChatPage(builder, newest if last else None, not last)
            if last:
                return
            api_cursor = following

    async def _read_convo(self, builder: PageBuilder, convo: dict[str, Any], horizon: str) -> None:
        convo_id = convo.get("id")
        if not isinstance(convo_id, str) or not convo_id:
            return
        for member in list_field(convo, "members", "convo"):
            builder.add_author(member, full=False)
        api_cursor: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"convoId": convo_id, "limit": PAGE_SIZE}
            if api_cursor:
                params["cursor"] = api_cursor
            response = await self._call("GET", "chat.bsky.convo.getMessages", params=params)
            if response is None:
                return
            body = decode(response)
            older = False
            for message in list_field(body, "messages", "getMessages"):
                sent = moment(message.get("sentAt")) if isinstance(message, dict) else None
                if sent is not None and sent <= horizon:
                    older = True
                    continue
                post = parse_message(message, convo_id, builder.scope)
                if post is not None:
                    builder.posts[post.id] = post
            following = body.get("cursor")
            if older or not isinstance(following, str) or not following or following == api_cursor:
                return
            api_cursor = following

    def _horizon(self, cursor: str | None) -> str:
        stored = moment(cursor)
        if stored is not None:
            return stored
        return iso_utc(self._clock() - timedelta(days=self._first_sync_days))

    # -- sending ---------------------------------------------------------------------------------------------------

    async def send(self, scope: Scope, recipient_did: str, convo_id: str | None, text: str,
                   facets: list[dict[str, Any]]) -> Post:
        if convo_id is None:
            response = await self._call("GET", "chat.bsky.convo.getConvoForMembers",
                                        params={"members": [recipient_did]}, sending=True)
            convo = as_object(decode(response).get("convo"), "convo") if response is not None else {}
            convo_id = convo.get("id") if isinstance(convo.get("id"), str) else None
        if not convo_id:
            raise ConnectorError(f"{NO_CHAT}, so the message was not sent: {self.unavailable or 'no conversation'}.")
        message: dict[str, Any] = {"text": text}
        if facets:
            message["facets"] = facets
        response = await self._call("POST", "chat.bsky.convo.sendMessage",
                                    json_body={"convoId": convo_id, "message": message}, sending=True)
        post = parse_message(decode(response), convo_id, scope) if response is not None else None
        if post is None:
            raise ConnectorError(f"{NO_CHAT}, so the message was not sent.")
        return post

    # -- plumbing --------------------------------------------------------------------------------------------------

    async def _call(self, method: str, nsid: str, *, sending: bool = False, **kwargs: Any) -> httpx.Response | None:
        """The answer, or ``None`` (noted once) when chat is not available; when sending, an error instead."""
        try:
            response = await self._xrpc.call(method, nsid, headers=CHAT_PROXY, accept=_UNAVAILABLE_STATUSES,
                                              **kwargs)
        except Forbidden as error:
            response, reason = None, _refusal_words(error.detail)
        else:
            if response.status_code < 400:
                if self.unavailable:
                    log.info("Bluesky direct messages are available again")
                self._down_until, self.unavailable = None, ""
                return response
            reason = _unavailable_words(response)
        if sending:
            raise ConnectorError(f"{NO_CHAT}, so the message was not sent: {reason}.")
        if not self.unavailable:
            log.info("%s: %s", NO_CHAT, reason)  # shown in the account status, not on every terminal sync
        self.unavailable = reason
        failed = response is not None and response.status_code >= 500
        self._down_until = self._clock() + (_RECHECK_AFTER_FAILURE if failed else _RECHECK_AFTER_REFUSAL)
        return None


def parse_message(message: Any, convo_id: str, scope: Scope) -> Post | None:
    """A chat message as a direct post; deleted and system messages are ``None``."""
    message = as_object(message, "chat message")
    kind = str(message.get("$type", ""))
    if kind and not kind.endswith("#messageView"):
        return None
    if "text" not in message:
        return None
    message_id = text(message, "id", "chat message", required=True)
    sender = as_object(message.get("sender"), "chat message sender")
    did = did_of(sender, "chat message sender")
    sent = moment(message.get("sentAt")) or scope.observed_at
    reply_to = message.get("replyTo")
    parent = reply_to.get("id") if isinstance(reply_to, dict) and isinstance(reply_to.get("id"), str) else None
    return Post(
        id=make_id(NETWORK, f"{CHAT_PREFIX}{convo_id}/{message_id}"),
        network=NETWORK,
        account_id=scope.account_id,
        thread_id=chat_thread_id(convo_id),
        author_id=author_id(did),
        text=cap_text(render_text(message.get("text", ""), message.get("facets"))),
        created_at=sent,
        observed_at=scope.observed_at,
        parent_id=make_id(NETWORK, f"{CHAT_PREFIX}{convo_id}/{parent}") if parent else None,
        visibility=Visibility.DIRECT,
        direction=scope.direction(did),
        attachments=attachments(message.get("embed")),
    )


def _unavailable_words(response: httpx.Response) -> str:
    name, message = xrpc_error(response)
    if "scope" in message.lower():
        return _refusal_words(message)
    if response.status_code >= 500:
        return f"the chat service did not answer (error {response.status_code})"
    return f"the server does not offer chat ({name or response.status_code}{': ' + message if message else ''})"


def _refusal_words(detail: str) -> str:
    if "scope" in detail.lower():
        return ("the app password was created without access to direct messages; create one with "
                "\"Allow access to your direct messages\" and reconnect")
    return f"Bluesky refused ({detail[:120]})"


def _last_activity(convo: dict[str, Any]) -> str | None:
    return moment(_raw_last_sent(convo))


def _raw_last_sent(convo: dict[str, Any]) -> str | None:
    last = convo.get("lastMessage")
    sent = last.get("sentAt") if isinstance(last, dict) else None
    return sent if isinstance(sent, str) else None


__all__ = ["CHAT", "CHAT_PROXY", "Chat", "ChatPage", "NO_CHAT", "parse_message"]
