"""Publishing replies and direct messages on X, each at most once.

X has no idempotency key: a ``POST /2/tweets`` that timed out or failed with a 5xx may have been published all the
same, and posting it again would answer the customer twice. So a send whose outcome is unknown is never simply
repeated: Tend first looks for it (the business's recent posts, ``GET /2/users/:id/tweets``, for one answering the
same post with the same text; for a message, the conversation's recent events) and returns what it finds. Only
when it is not there is the send tried again, once; if that too ends in doubt, the reply is reported as failed and
the next attempt (the owner's Retry, with the same idempotency key) starts with the same search.

Length is checked before anything is sent, the way X counts it (``console.replies.length``: 280 weighted
characters, links 23, emoji and most non-Latin characters 2), so X never has to refuse a reply for it.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

from console.connectors.errors import AuthExpired, BadResponse, ConnectorError, RateLimited, ServerError
from console.connectors.x_api import POST_FIELDS, Forbidden, XApi
from console.connectors.x_dms import DM_EVENT_FIELDS
from console.connectors.x_parse import (
    DM_CONVERSATION_ID, NATIVE_ID, Scope, as_object, author_id, dm_parts, dm_post_id, dm_thread_id, id_field,
    moment, native, native_post, parse_dm_event, parse_tweet, post_id, post_url, reference, snowflake_time,
)
from console.domain import Direction, Post, Visibility, iso_utc
from console.replies.length import X_LIMIT, x_weighted_length

log = logging.getLogger(__name__)

TWEETS = "/2/tweets"
SEND_ATTEMPTS = 2
# X shows a new post in the author's timeline within a moment; the lookup waits this long first.
LOOKUP_DELAY = 2.0
LOOKUP_WINDOW = timedelta(minutes=10)  # an identical older reply (a second "Thank you!") is not this one
_URL = re.compile(r"https?://\S+")
_LEADING_MENTIONS = re.compile(r"^(?:@\w+\s+)+")


def check_length(text: str) -> None:
    if not text.strip():
        raise ConnectorError("This reply is empty; write something before sending.")
    length = x_weighted_length(text)
    if length > X_LIMIT:
        over = length - X_LIMIT
        raise ConnectorError(
            f"This reply is {length} characters long as X counts them (a link counts 23, an emoji or a CJK "
            f"character 2) and X allows {X_LIMIT}; shorten it by {over} character{'s' if over > 1 else ''} before "
            "sending.", detail=f"weighted length {length} > {X_LIMIT}")


def same_text(sent: str, found: str) -> bool:
    """Whether X's copy is the text Tend sent: X shortens links (``t.co``), escapes ``&``, may drop the leading
    @mentions of a reply, and trims."""
    def norm(text: str) -> str:
        text = _URL.sub("<link>", html.unescape(text)).strip()
        return " ".join(_LEADING_MENTIONS.sub("", text).split())
    return norm(sent) == norm(found)


class Sender:
    """Replies and direct messages of one account."""

    def __init__(self, api: XApi, *, scope: Callable[[], Awaitable[Scope]], username: str,
                 clock: Callable[[], datetime], sleep: Callable[[float], Awaitable[None]]) -> None:
        self._api = api
        self._scope = scope
        self._username = username
        self._clock = clock
        self._sleep = sleep
        self._unsure: dict[str, datetime] = {}  # idempotency key -> when its first attempt began

    # -- public replies --------------------------------------------------------------------------------------------

    async def reply(self, parent: Post, text: str, key: str) -> Post:
        check_length(text)
        parent_native = native_post(parent.id)
        if parent_native is None:
            raise ConnectorError("Tend cannot tell which X post this answers.", detail=f"id {parent.id!r}")
        scope = await self._scope()

        async def send() -> Post:
            _response, body = await self._api.call(
                "POST", TWEETS, json={"text": text, "reply": {"in_reply_to_tweet_id": parent_native}},
                what="posting replies")
            data = as_object(as_object(body, "created post").get("data"), "created post")
            new = id_field(data, "created post")
            return Post(
                id=post_id(new), network="x", account_id=scope.account_id, thread_id=parent.thread_id,
                author_id=author_id(scope.business_id), text=text,  # as written: X's copy has t.co links
                created_at=snowflake_time(new) or iso_utc(self._clock()), observed_at=scope.observed_at,
                parent_id=parent.id, url=post_url(new, self._username), visibility=Visibility.PUBLIC,
                direction=Direction.OUT,
            )

        async def find(since: datetime) -> Post | None:
            # Counted, but never refused by the monthly cap: sending is not stopped by it, and must not post twice.
            envelope = await self._api.get(
                f"/2/users/{scope.business_id}/tweets",
                {**POST_FIELDS, "since_id": parent_native, "exclude": "retweets", "max_results": 20},
                what="checking whether the reply was already published", counts_reads=False)
            self._api.reads.add(envelope.post_count())
            for tweet in envelope.data:
                created = moment(tweet.get("created_at")) or snowflake_time(str(tweet.get("id", ""))) or ""
                if reference(tweet, "replied_to") == parent_native and created >= iso_utc(since) \
                        and same_text(text, str(tweet.get("text", ""))):
                    post = parse_tweet(tweet, scope, tweets=envelope.tweets, users=envelope.users)
                    return _as_sent(post, parent, scope)
            return None

        return await self._once(key, send, find)

    # -- direct messages -------------------------------------------------------------------------------------------

    async def message(self, parent: Post, text: str, key: str) -> Post:
        """A direct message: in the conversation being answered, or (a hand-off from a public post) to its author."""
        check_length(text)
        scope = await self._scope()
        path, lookup = self._dm_paths(parent, scope.business_id)

        async def send() -> Post:
            _response, body = await self._api.call("POST", path, json={"text": text},
                                                   what="sending direct messages")
            data = as_object(as_object(body, "sent message").get("data"), "sent message")
            conversation = id_field(data, "sent message", "dm_conversation_id", DM_CONVERSATION_ID)
            event = id_field(data, "sent message", "dm_event_id")
            return Post(
                id=dm_post_id(conversation, event), network="x", account_id=scope.account_id,
                thread_id=dm_thread_id(conversation), author_id=author_id(scope.business_id), text=text,
                created_at=snowflake_time(event) or iso_utc(self._clock()), observed_at=scope.observed_at,
                visibility=Visibility.DIRECT, direction=Direction.OUT,
            )

        async def find(since: datetime) -> Post | None:
            envelope = await self._api.get(
                lookup, {"dm_event.fields": DM_EVENT_FIELDS, "event_types": "MessageCreate", "max_results": 20},
                what="checking whether the message was already sent", counts_reads=False)
            for event in envelope.data:
                post = parse_dm_event(event, scope)
                if post is not None and post.direction is Direction.OUT and post.created_at >= iso_utc(since) \
                        and same_text(text, str(event.get("text", ""))):
                    return post
            return None

        return await self._once(key, send, find)

    @staticmethod
    def _dm_paths(parent: Post, business: str) -> tuple[str, str]:
        """(where to send, where to look for it): one-to-one conversations by the other person's id (their
        conversation id is "<id>-<id>"), group conversations by their own id."""
        parts = dm_parts(parent.thread_id) or dm_parts(parent.id)
        if parts is not None and "-" not in parts[0]:
            return f"/2/dm_conversations/{parts[0]}/messages", f"/2/dm_conversations/{parts[0]}/dm_events"
        if parts is not None:
            others = [p for p in parts[0].split("-") if p != business]
            participant = others[0] if others else ""
        else:
            participant = native(parent.author_id)
        if not NATIVE_ID.fullmatch(participant) or participant == business:
            raise ConnectorError("Tend cannot tell whom to send this direct message to on X.",
                                 detail=f"parent {parent.id!r} by {parent.author_id!r}")
        return (f"/2/dm_conversations/with/{participant}/messages",
                f"/2/dm_conversations/with/{participant}/dm_events")

    # -- at most once ----------------------------------------------------------------------------------------------

    async def _once(self, key: str, send: Callable[[], Awaitable[Post]],
                    find: Callable[[datetime], Awaitable[Post | None]]) -> Post:
        started = self._unsure.get(key)
        if started is not None:
            found = await find(started - LOOKUP_WINDOW)
            if found is not None:
                log.info("reply %s was already published; not sending it twice", key)
                del self._unsure[key]
                return found
        started = started or self._clock()
        doubt: ConnectorError | None = None
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                post = await send()
            except (AuthExpired, RateLimited, Forbidden):
                raise  # refused before anything was written
            except (ServerError, BadResponse) as error:  # it may have been published all the same
                self._unsure[key] = started
                doubt = error
                log.warning("sending %s ended in doubt (%s); looking for it before trying again", key, error.detail)
                await self._sleep(LOOKUP_DELAY)
                try:
                    found = await find(started - LOOKUP_WINDOW)
                except ConnectorError as lookup_error:
                    raise ServerError(
                        "X did not confirm the reply and Tend could not check whether it was published; Tend will "
                        "look for it on X before sending it again.",
                        detail=f"{error.detail}; lookup: {lookup_error.detail or lookup_error}") from None
                if found is not None:
                    del self._unsure[key]
                    return found
                continue
            self._unsure.pop(key, None)
            return post
        assert doubt is not None
        raise ServerError("X did not confirm the reply, and it has not appeared on X; Tend will look for it there "
                          "again before sending it once more.", detail=doubt.detail, retry_after=doubt.retry_after)


def _as_sent(post: Post, parent: Post, scope: Scope) -> Post:
    return replace(post, thread_id=parent.thread_id, parent_id=parent.id, direction=Direction.OUT,
                   author_id=author_id(scope.business_id))


__all__ = ["Sender", "check_length", "same_text"]
