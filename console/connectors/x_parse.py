"""X API v2 JSON as domain records: pure functions, no I/O.

Ids are global on X, so they carry no server: a post is ``x:<tweet id>``, a person ``x:<user id>`` (the form the
outbox uses to recognise the business's own profile), a thread the id of its conversation's first post
(``conversation_id``), a direct-message conversation ``x:dm/<dm_conversation_id>`` and a message in it
``x:dm/<dm_conversation_id>/<event id>``.

X answers with an envelope: ``data`` (the objects asked for), ``includes`` (the objects they refer to: authors,
replied-to, quoted and retweeted posts) and ``errors`` (objects that could not be returned, e.g. deleted). Fields come
only when asked for, so every field is optional here except ids and text. X's newest published schema renames
``retweet_count`` → ``repost_count``, ``tweet_count`` → ``post_count`` and ``referenced_tweets`` →
``referenced_posts``: both spellings are read. Everything is checked, so JSON of the wrong shape becomes
``BadResponse`` in plain words, never a ``KeyError`` deep in a sync. Collecting a page's records is ``x_page``.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from console.connectors.mastodon_text import cap_text, neutralise
from console.connectors.payload import Json, PayloadReader, count, moment, native_part
from console.domain import Attachment, Author, Direction, Post, Visibility, iso_utc
from console.domain.records import make_id

log = logging.getLogger(__name__)

NETWORK = "x"
WEB = "https://x.com"
UNREADABLE = "X sent a reply Tend could not understand — Tend will try again later"
DM_PREFIX = "dm/"
# A person seen without follower figures (recordings, or a field X left out) is stored with this observation time,
# so it fills a gap but never overwrites the figures a full profile brought.
PASSING_OBSERVATION = "1970-01-01T00:00:00.000Z"
NATIVE_ID = re.compile(r"[0-9]{1,25}")  # X ids are decimal strings; this also keeps them safe in a URL path
DM_CONVERSATION_ID = re.compile(r"[0-9]{1,25}(?:-[0-9]{1,25})?")  # "<user>-<user>" one to one, a number for groups
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,50}")
# Snowflake ids carry their creation time: milliseconds since X's epoch in the bits above the lowest 22.
_SNOWFLAKE_EPOCH_MS = 1288834974657
_FIRST_SNOWFLAKE = 10**14  # ids below this (2006-2010 posts, old accounts) are sequence numbers, not snowflakes
_MAX_NAME = 200
_MAX_DESCRIPTION = 1_500

_payload = PayloadReader("X", UNREADABLE, NATIVE_ID)
malformed = _payload.malformed
as_object = _payload.as_object
as_list = _payload.as_list
id_field = _payload.id_field
optional_id = _payload.optional_id
text_field = _payload.text_field


# ------------------------------------------------------------------------------------------------ ids


def post_id(native: str) -> str:
    return make_id(NETWORK, native)


def author_id(native: str) -> str:
    return make_id(NETWORK, native)


def dm_thread_id(conversation: str) -> str:
    return make_id(NETWORK, f"{DM_PREFIX}{conversation}")


def dm_post_id(conversation: str, event: str) -> str:
    return make_id(NETWORK, f"{DM_PREFIX}{conversation}/{event}")


def native(inbox_id: str) -> str:
    """``x:<x>`` → ``<x>``; ``""`` for an id of another network."""
    return native_part(NETWORK, inbox_id)


def native_post(inbox_id: str) -> str | None:
    """The tweet id behind an inbox post or thread id, or ``None`` (another network, or a direct message)."""
    value = native(inbox_id)
    return value if NATIVE_ID.fullmatch(value) else None


def dm_parts(inbox_id: str) -> tuple[str, str | None] | None:
    """``(conversation, event or None)`` of a direct-message thread or message id; ``None`` for anything else."""
    value = native(inbox_id)
    if not value.startswith(DM_PREFIX):
        return None
    conversation, _, event = value[len(DM_PREFIX):].partition("/")
    if not DM_CONVERSATION_ID.fullmatch(conversation) or (event and not NATIVE_ID.fullmatch(event)):
        return None
    return conversation, event or None


def id_order(value: str) -> int:
    """X ids compare as numbers (they grow with time), not as text."""
    return int(value) if NATIVE_ID.fullmatch(value) else -1


def newest_of(*ids: str | None) -> str | None:
    known = [i for i in ids if i and NATIVE_ID.fullmatch(i)]
    return max(known, key=int) if known else None


def snowflake_time(value: str) -> str | None:
    """When a post or message with this id was created, read from the id itself (X's ids are snowflakes)."""
    if not NATIVE_ID.fullmatch(value) or int(value) < _FIRST_SNOWFLAKE:
        return None
    millis = (int(value) >> 22) + _SNOWFLAKE_EPOCH_MS
    return iso_utc(datetime.fromtimestamp(millis / 1000, timezone.utc))


def post_url(tweet_native: str, username: str = "") -> str:
    if username and _USERNAME.fullmatch(username):
        return f"{WEB}/{username}/status/{tweet_native}"
    return f"{WEB}/i/web/status/{tweet_native}"


# ------------------------------------------------------------------------------------------------ field checkers


def _metrics(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    value = obj.get("public_metrics")
    return value if isinstance(value, dict) else None


def references(tweet: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(type, tweet id)`` of what a post replies to, quotes or retweets; unreadable entries are left out."""
    refs = tweet.get("referenced_tweets", tweet.get("referenced_posts"))
    if not isinstance(refs, list):
        return []
    found = []
    for ref in refs:
        if isinstance(ref, dict) and isinstance(ref.get("type"), str) and isinstance(ref.get("id"), str) \
                and NATIVE_ID.fullmatch(ref["id"]):
            found.append((ref["type"], ref["id"]))
    return found


def reference(tweet: Mapping[str, Any], kind: str) -> str | None:
    return next((ref for typ, ref in references(tweet) if typ == kind), None)


def conversation_of(tweet: Mapping[str, Any]) -> str | None:
    value = tweet.get("conversation_id")
    return value if isinstance(value, str) and NATIVE_ID.fullmatch(value) else None


# ------------------------------------------------------------------------------------------------ envelopes


@dataclass(slots=True)
class Envelope:
    """One X answer: its objects, what they refer to (by id), its paging facts and the objects it could not return."""

    data: list[Json]
    users: dict[str, Json]
    tweets: dict[str, Json]
    meta: Json
    errors: list[Json]

    @property
    def next_token(self) -> str | None:
        token = self.meta.get("next_token")
        return token if isinstance(token, str) and token else None

    @property
    def newest_id(self) -> str | None:
        value = self.meta.get("newest_id")
        listed = [i for i in (item.get("id") for item in self.data) if isinstance(i, str)]
        return newest_of(value if isinstance(value, str) else None, *listed)

    def missing(self, resource_type: str) -> list[str]:
        """Ids X says it could not find (deleted, or never existed); not those it may not show (protected)."""
        gone = []
        for error in self.errors:
            kind = str(error.get("type", ""))
            value = error.get("value") if isinstance(error.get("value"), str) else error.get("resource_id")
            if kind.endswith("/resource-not-found") and error.get("resource_type") in (resource_type, None) \
                    and isinstance(value, str) and NATIVE_ID.fullmatch(value):
                gone.append(value)
        return gone

    def post_count(self) -> int:
        """How many posts this answer returned, as X counts them against a monthly cap (expansions included)."""
        return sum(1 for item in self.data if "text" in item and "event_type" not in item) + len(self.tweets)


def read_envelope(body: Any, what: str) -> Envelope:
    """The parts of an answer; a single object under ``data`` reads as a list of one."""
    body = as_object(body, what)
    data = body.get("data", [])
    if isinstance(data, dict):
        data = [data]
    items = [as_object(item, f"{what} item") for item in as_list(data, f"{what}.data")]
    includes = body.get("includes") if body.get("includes") is not None else {}
    includes = as_object(includes, f"{what}.includes")
    users = _by_id(includes.get("users"), f"{what} included users")
    tweets = _by_id(includes.get("tweets", includes.get("posts")), f"{what} included posts")
    meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
    errors = [e for e in body.get("errors") or [] if isinstance(e, dict)] if isinstance(body.get("errors"), list) \
        else []
    return Envelope(items, users, tweets, meta, errors)


def _by_id(value: Any, what: str) -> dict[str, Json]:
    if value is None:
        return {}
    found: dict[str, Json] = {}
    for item in as_list(value, what):
        if isinstance(item, dict) and isinstance(item.get("id"), str) and NATIVE_ID.fullmatch(item["id"]):
            found[item["id"]] = item
    return found


# ------------------------------------------------------------------------------------------------ records


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose inbox, who the business is (its numeric X user id) and when these payloads were read."""

    account_id: str
    business_id: str
    observed_at: str

    def direction(self, user_native: str) -> Direction:
        return Direction.OUT if self.business_id and user_native == self.business_id else Direction.IN


def parse_user(user: Any, scope: Scope) -> Author:
    """A user object; one without ``public_metrics`` is a passing sighting that never overwrites known figures."""
    user = as_object(user, "user")
    native_user = id_field(user, "user")
    username = text_field(user, "user", "username")
    if not _USERNAME.fullmatch(username):
        raise malformed("user", f"username is not a handle: {username[:40]!r}")
    name = neutralise(text_field(user, "user", "name")).strip()[:_MAX_NAME]
    metrics = _metrics(user)
    return Author(
        id=author_id(native_user),
        network=NETWORK,
        handle=f"@{username}",
        display_name=name or username,
        followers_count=count(metrics or {}, "followers_count"),
        following_count=count(metrics or {}, "following_count"),
        posts_count=count(metrics or {}, "tweet_count", "post_count"),
        url=f"{WEB}/{username}",
        observed_at=scope.observed_at if metrics is not None else PASSING_OBSERVATION,
    )


def render_text(tweet: Mapping[str, Any]) -> str:
    """The post as a reader sees it: ``t.co`` links back to where they lead, X's ``&amp;``/``&lt;``/``&gt;``
    undone, and nothing a rich-text renderer could take for markup."""
    text = text_field(tweet, "post", "text", required=True)
    for entity in _url_entities(tweet):
        short, target = entity.get("url"), entity.get("expanded_url")
        if isinstance(short, str) and short and isinstance(target, str) and target.startswith(("https://", "http://")):
            text = text.replace(short, target)
    return cap_text(neutralise(html.unescape(text)))


def _url_entities(tweet: Mapping[str, Any]) -> list[Json]:
    entities = tweet.get("entities")
    urls = entities.get("urls") if isinstance(entities, dict) else None
    return [u for u in urls if isinstance(u, dict)] if isinstance(urls, list) else []


def _describe(value: Any) -> str:
    return neutralise(value).strip()[:_MAX_DESCRIPTION] if isinstance(value, str) else ""


def attachments(tweet: Mapping[str, Any], tweets: Mapping[str, Json], users: Mapping[str, Json]) -> tuple[
        Attachment, ...]:
    """Link cards X unwound, and the post this one quotes (its text, when X included it)."""
    found: list[Attachment] = []
    for entity in _url_entities(tweet):
        target = entity.get("unwound_url") or entity.get("expanded_url")
        if entity.get("title") and isinstance(target, str) and target.startswith(("https://", "http://")):
            found.append(Attachment("link", target, _describe(entity.get("title"))))
    quoted = reference(tweet, "quoted")
    if quoted:
        inner = tweets.get(quoted, {})
        username = _username(users.get(str(inner.get("author_id", ""))))
        said = _describe(html.unescape(inner["text"])) if isinstance(inner.get("text"), str) else ""
        found.append(Attachment("quote", post_url(quoted, username), f"@{username}: {said}" if username else said))
    return tuple(found)


def _username(user: Any) -> str:
    name = user.get("username") if isinstance(user, dict) else None
    return name if isinstance(name, str) and _USERNAME.fullmatch(name) else ""


def parse_tweet(tweet: Any, scope: Scope, *, tweets: Mapping[str, Json] | None = None,
                users: Mapping[str, Json] | None = None) -> Post:
    """One post, with the ``includes`` of its answer (``tweets``, ``users``) for its author's name and quotes."""
    tweet = as_object(tweet, "post")
    tweets, users = tweets or {}, users or {}
    native_tweet = id_field(tweet, "post")
    author = optional_id(tweet, "post", "author_id") or ""
    parent = reference(tweet, "replied_to")
    conversation = conversation_of(tweet) or native_tweet
    created = moment(tweet.get("created_at")) or snowflake_time(native_tweet) or scope.observed_at
    metrics = _metrics(tweet) or {}
    return Post(
        id=post_id(native_tweet),
        network=NETWORK,
        account_id=scope.account_id,
        thread_id=post_id(conversation),
        author_id=author_id(author) if author else "",
        text=render_text(tweet),
        created_at=created,
        observed_at=scope.observed_at,
        parent_id=post_id(parent) if parent else None,
        url=post_url(native_tweet, _username(users.get(author))),
        reshare_count=count(metrics, "retweet_count", "repost_count"),
        quote_count=count(metrics, "quote_count"),
        like_count=count(metrics, "like_count"),
        reply_count=count(metrics, "reply_count"),
        visibility=Visibility.PUBLIC,
        direction=scope.direction(author),
        attachments=attachments(tweet, tweets, users),
    )


def parse_dm_event(event: Any, scope: Scope) -> Post | None:
    """A direct message as a post in its conversation's thread; other events (joins, leaves) are ``None``."""
    event = as_object(event, "direct message")
    kind = event.get("event_type")
    if kind is not None and kind != "MessageCreate" or not isinstance(event.get("text"), str):
        return None
    event_id = id_field(event, "direct message")
    conversation = id_field(event, "direct message", "dm_conversation_id", DM_CONVERSATION_ID)
    sender = id_field(event, "direct message", "sender_id")
    return Post(
        id=dm_post_id(conversation, event_id),
        network=NETWORK,
        account_id=scope.account_id,
        thread_id=dm_thread_id(conversation),
        author_id=author_id(sender),
        text=render_text(event),
        created_at=moment(event.get("created_at")) or snowflake_time(event_id) or scope.observed_at,
        observed_at=scope.observed_at,
        visibility=Visibility.DIRECT,
        direction=scope.direction(sender),
    )


# ------------------------------------------------------------------------------------------------ problems


@dataclass(frozen=True, slots=True)
class Problem:
    """An error answer in X's problem-details form (``title``, ``detail``, ``type``, sometimes ``reason``)."""

    title: str = ""
    detail: str = ""
    type: str = ""
    reason: str = ""

    @property
    def tier(self) -> bool:
        """The app's access level (X API tier) does not include this endpoint: no token or retry will help."""
        said = f"{self.title} {self.detail}".lower()
        return (self.reason in ("client-not-enrolled", "client-forbidden") or self.type.endswith("/client-forbidden")
                or "access level" in said or "enrolled" in said or "api plan" in said)

    @property
    def words(self) -> str:
        return (self.detail or self.title).strip()[:300]


def read_problem(body: Any) -> Problem:
    """The problem details of an error body, wherever X put them (top level, or the first of ``errors``)."""
    if not isinstance(body, dict):
        return Problem()
    source = body
    if not any(isinstance(body.get(k), str) for k in ("title", "detail")) and isinstance(body.get("errors"), list):
        source = next((e for e in body["errors"] if isinstance(e, dict)), {})
    text = {k: source.get(k) if isinstance(source.get(k), str) else "" for k in ("title", "detail", "type", "reason")}
    if not text["detail"] and isinstance(source.get("message"), str):
        text["detail"] = source["message"]
    return Problem(**text)


__all__ = [
    "DM_PREFIX", "NETWORK", "PASSING_OBSERVATION", "UNREADABLE", "Envelope", "Problem", "Scope",
    "author_id", "dm_parts", "dm_post_id", "dm_thread_id", "id_order", "native", "native_post", "newest_of",
    "parse_dm_event", "parse_tweet", "parse_user", "post_id", "read_envelope", "read_problem", "references",
    "snowflake_time",
]
