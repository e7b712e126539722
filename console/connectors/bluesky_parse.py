"""Bluesky (AppView and chat) JSON as domain records: pure functions, no I/O.

Ids are global on Bluesky, so they need no server in them: a post is ``bluesky:<at-uri>``, a person
``bluesky:<did>``, a thread the id of its root post, and a direct-message conversation ``bluesky:chat/<convo id>``.
Every field is checked, so JSON of the wrong shape becomes ``BadResponse`` in plain words, never a ``KeyError``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from console.connectors.bluesky_richtext import render_text
from console.connectors.errors import BadResponse
from console.connectors.mastodon_text import cap_text, neutralise, well_formed
from console.domain import Attachment, Author, Direction, Post, Visibility
from console.connectors.payload import Json, PageRecords, PayloadReader, count, moment, native_part
from console.domain.records import Reshare, make_id

log = logging.getLogger(__name__)

NETWORK = "bluesky"
UNREADABLE = "Bluesky sent a reply Tend could not understand — Tend will try again later"
WEB = "https://bsky.app"
# An author seen only in passing (a post's author, without follower figures) is stored with this observation time,
# so it fills a gap but never overwrites the figures a full profile brought.
PASSING_OBSERVATION = "1970-01-01T00:00:00.000Z"
CHAT_PREFIX = "chat/"
DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]{1,2048}")
AT_URI = re.compile(r"at://(did:[a-z]+:[A-Za-z0-9._:%-]+|[A-Za-z0-9.-]+)/([A-Za-z0-9.-]+)/([A-Za-z0-9._~:-]{1,512})")
_MAX_DESCRIPTION = 1_500
_MAX_NAME = 200

_payload = PayloadReader("Bluesky", UNREADABLE)
malformed = _payload.malformed
as_object = _payload.as_object
as_list = _payload.as_list


# ------------------------------------------------------------------------------------------------ field checkers


def list_field(obj: Mapping[str, Any], key: str, what: str) -> list[Any]:
    return as_list(obj.get(key), f"{what}.{key}")


def text(obj: Mapping[str, Any], key: str, what: str, *, required: bool = False) -> str:
    return _payload.text_field(obj, what, key, required=required)


def at_uri(obj: Mapping[str, Any], what: str, key: str = "uri") -> str:
    return _payload.id_field(obj, what, key, AT_URI, kind="an at:// address", shown=60)


def did_of(obj: Mapping[str, Any], what: str, key: str = "did") -> str:
    return _payload.id_field(obj, what, key, DID, kind="a DID", shown=60)


def web_url(url: Any) -> str:
    return well_formed(url) if isinstance(url, str) and url.lower().startswith(("https://", "http://")) else ""


# ------------------------------------------------------------------------------------------------ ids


def post_id(uri: str) -> str:
    return make_id(NETWORK, uri)


def author_id(did: str) -> str:
    return make_id(NETWORK, did)


def chat_thread_id(convo_id: str) -> str:
    return make_id(NETWORK, f"{CHAT_PREFIX}{convo_id}")


def native(inbox_id: str) -> str:
    """``bluesky:<x>`` → ``<x>``, or ``""`` for an id of another network."""
    return native_part(NETWORK, inbox_id)


def post_url(uri: str, handle: str = "") -> str:
    match = AT_URI.fullmatch(uri)
    if not match or match.group(2) != "app.bsky.feed.post":
        return ""
    return f"{WEB}/profile/{handle or match.group(1)}/post/{match.group(3)}"


def uri_author(uri: str) -> str:
    match = AT_URI.fullmatch(uri)
    return match.group(1) if match else ""


# ------------------------------------------------------------------------------------------------ records


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose inbox, who the business is (its DID), and when these payloads were read."""

    account_id: str
    business_did: str
    observed_at: str

    def direction(self, did: str) -> Direction:
        return Direction.OUT if did == self.business_did else Direction.IN


def reply_refs(record: Any) -> tuple[str | None, str | None]:
    """(root uri, parent uri) of a post record's reply reference, or ``(None, None)`` for a top-level post."""
    reply = record.get("reply") if isinstance(record, dict) else None
    if not isinstance(reply, dict):
        return None, None
    refs = []
    for key in ("root", "parent"):
        ref = reply.get(key)
        uri = ref.get("uri") if isinstance(ref, dict) else None
        refs.append(uri if isinstance(uri, str) and AT_URI.fullmatch(uri) else None)
    root, parent = refs
    return root or parent, parent


def strong_ref(view: Mapping[str, Any], what: str = "post") -> dict[str, str]:
    cid = view.get("cid")
    if not isinstance(cid, str) or not cid:
        raise malformed(what, "cid missing")
    return {"uri": at_uri(view, what), "cid": cid}


def parse_author(profile: Any, scope: Scope, *, full: bool = True) -> Author:
    """A profile view as an author; ``full`` ones (``getProfiles``) carry the follower figures."""
    profile = as_object(profile, "profile")
    did = did_of(profile, "profile")
    handle = text(profile, "handle", "profile")
    if handle in ("", "handle.invalid") or any(c.isspace() or not c.isprintable() for c in handle):
        handle = did
    name = neutralise(text(profile, "displayName", "profile")).strip()[:_MAX_NAME]
    return Author(
        id=author_id(did),
        network=NETWORK,
        handle=f"@{handle}",
        display_name=name or handle.split(".")[0],
        followers_count=count(profile, "followersCount"),
        following_count=count(profile, "followsCount"),
        posts_count=count(profile, "postsCount"),
        url=f"{WEB}/profile/{handle}",
        observed_at=scope.observed_at if full else PASSING_OBSERVATION,
    )


def parse_post(view: Any, scope: Scope, *, thread_root: str | None = None) -> Post:
    """A ``postView`` with its counts. ``thread_root`` (an at:// uri) overrides the root the record names."""
    view = as_object(view, "post")
    uri = at_uri(view, "post")
    author = as_object(view.get("author"), "post author")
    did = did_of(author, "post author")
    record = as_object(view.get("record"), "post record")
    root, parent = reply_refs(record)
    indexed = moment(view.get("indexedAt")) or scope.observed_at
    created = moment(record.get("createdAt"))
    # Bluesky sorts by the earlier of the two: a client may claim any createdAt, the AppView's clock is honest.
    created_at = min(created, indexed) if created else indexed
    return Post(
        id=post_id(uri),
        network=NETWORK,
        account_id=scope.account_id,
        thread_id=post_id(thread_root or root or uri),
        author_id=author_id(did),
        text=cap_text(render_text(record.get("text", ""), record.get("facets"))),
        created_at=created_at,
        observed_at=scope.observed_at,
        parent_id=post_id(parent) if parent else None,
        url=post_url(uri, text(author, "handle", "post author")),
        reshare_count=count(view, "repostCount"),
        quote_count=count(view, "quoteCount"),
        like_count=count(view, "likeCount"),
        reply_count=count(view, "replyCount"),
        visibility=Visibility.PUBLIC,
        direction=scope.direction(did),
        attachments=attachments(view.get("embed")),
    )


def attachments(embed: Any, depth: int = 0) -> tuple[Attachment, ...]:
    """Pictures, videos, link cards and quoted posts of a hydrated embed view (``…#view``)."""
    if not isinstance(embed, dict) or depth > 2:
        return ()
    kind = str(embed.get("$type", "")).split("#")[0]
    found: list[Attachment] = []
    if kind == "app.bsky.embed.images":
        for image in embed.get("images") if isinstance(embed.get("images"), list) else []:
            if isinstance(image, dict):
                url = web_url(image.get("fullsize")) or web_url(image.get("thumb"))
                found.append(Attachment("image", url, _describe(image.get("alt"))))
    elif kind == "app.bsky.embed.video":
        found.append(Attachment("video", web_url(embed.get("playlist")) or web_url(embed.get("thumbnail")),
                                _describe(embed.get("alt"))))
    elif kind == "app.bsky.embed.external":
        external = embed.get("external") if isinstance(embed.get("external"), dict) else {}
        found.append(Attachment("link", web_url(external.get("uri")), _describe(external.get("title"))))
    elif kind == "app.bsky.embed.record":
        found += _quoted(embed.get("record"), depth)
    elif kind == "app.bsky.embed.recordWithMedia":
        found += attachments(embed.get("media"), depth + 1)
        record = embed.get("record")
        found += _quoted(record.get("record") if isinstance(record, dict) else None, depth)
    return tuple(found)


def _quoted(record: Any, depth: int) -> list[Attachment]:
    if not isinstance(record, dict) or not isinstance(record.get("uri"), str):
        return []
    uri = record["uri"]
    author = record.get("author") if isinstance(record.get("author"), dict) else {}
    handle = author.get("handle") if _is_handle(author.get("handle")) else ""
    value = record.get("value") if isinstance(record.get("value"), dict) else {}
    said = render_text(value.get("text", ""), value.get("facets")) if value else ""
    if record.get("notFound") or record.get("blocked") or record.get("detached"):
        said = "quoted post no longer available"
    description = f"@{handle}: {said}" if handle else said
    return [Attachment("quote", post_url(uri, handle), _describe(description))]


def _is_handle(value: Any) -> bool:
    """A handle fit for a web address and a line of text: no spaces, slashes, controls or lone surrogates."""
    return isinstance(value, str) and bool(value) and value.isprintable() and not any(
        c.isspace() or c in "/?#" for c in value)


def _describe(value: Any) -> str:
    return neutralise(value).strip()[:_MAX_DESCRIPTION] if isinstance(value, str) else ""


# ------------------------------------------------------------------------------------------------ notifications


@dataclass(frozen=True, slots=True)
class Notification:
    uri: str
    reason: str
    reason_subject: str | None
    author: Json
    record: Json
    indexed_at: str


def parse_notification(item: Any) -> Notification:
    item = as_object(item, "notification")
    subject = item.get("reasonSubject")
    indexed = text(item, "indexedAt", "notification", required=True)
    if moment(indexed) is None:
        raise malformed("notification", f"indexedAt is not a time: {indexed[:40]!r}")
    return Notification(
        uri=at_uri(item, "notification"),
        reason=text(item, "reason", "notification", required=True),
        reason_subject=subject if isinstance(subject, str) and AT_URI.fullmatch(subject) else None,
        author=as_object(item.get("author"), "notification author"),
        record=item.get("record") if isinstance(item.get("record"), dict) else {},
        indexed_at=indexed,
    )


# ------------------------------------------------------------------------------------------------ threads


@dataclass(slots=True)
class ThreadItems:
    """A thread flattened: readable post views, and the uris of posts that are gone or hidden by a block."""

    posts: list[Json] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    # Posts where the answer stopped at its depth limit: they have replies (replyCount) the answer does not carry.
    cut_off: list[str] = field(default_factory=list)


def flatten_thread(node: Any) -> ThreadItems:
    """Every post of a ``getPostThread`` answer, root first; missing and blocked items are listed, not fatal."""
    items = ThreadItems()
    seen: set[str] = set()
    parents: list[Any] = []
    current = node.get("parent") if isinstance(node, dict) else None
    while isinstance(current, dict) and len(parents) < 1000:
        parents.append(current)
        current = current.get("parent")
    for parent in reversed(parents):
        _take(parent, items, seen, descend=False)
    for item in _walk_down(node):
        _take(item, items, seen, descend=True)
    return items


def _walk_down(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        item = stack.pop()
        yield item
        replies = item.get("replies") if isinstance(item, dict) else None
        if isinstance(replies, list):
            stack.extend(reversed(replies))


def _take(item: Any, items: ThreadItems, seen: set[str], *, descend: bool) -> None:
    if not isinstance(item, dict):
        return
    kind = str(item.get("$type", ""))
    uri = item.get("uri")
    if kind.endswith("#notFoundPost") or item.get("notFound") is True:
        if isinstance(uri, str) and AT_URI.fullmatch(uri):
            items.not_found.append(uri)
        return
    if kind.endswith("#blockedPost") or item.get("blocked") is True:
        if isinstance(uri, str) and AT_URI.fullmatch(uri):
            items.blocked.append(uri)
        return
    post = item.get("post")
    if isinstance(post, dict) and isinstance(post.get("uri"), str) and post["uri"] not in seen:
        seen.add(post["uri"])
        items.posts.append(post)
        if descend and "replies" not in item and isinstance(post.get("replyCount"), int) and post["replyCount"] > 0:
            items.cut_off.append(post["uri"])


# ------------------------------------------------------------------------------------------------ pages


class PageBuilder(PageRecords):
    """Collects one page's posts, authors and deletions; a later reading of the same post replaces the earlier."""

    scope: Scope

    def __init__(self, scope: Scope) -> None:
        super().__init__(scope)
        self.threads_read: set[str] = set()  # root uris whose whole thread this page already holds

    def add_post(self, view: Json, *, thread_root: str | None = None) -> Post | None:
        """Add a post view; a malformed one is skipped (logged) so one bad post never blocks the whole inbox."""
        try:
            post = parse_post(view, self.scope, thread_root=thread_root)
            self.add_author(view.get("author"), full=False)
        except BadResponse as error:
            log.warning("skipping an unreadable Bluesky post: %s", error.detail)
            return None
        self.posts[post.id] = post
        return post

    def add_author(self, profile: Any, *, full: bool) -> None:
        author = parse_author(profile, self.scope, full=full)
        if full or author.id not in self.authors:
            self.authors[author.id] = author

    def add_reshare(self, uri: str, profile: Any, reshared_at: str) -> None:
        """``profile`` reposted the post at ``uri``; the profile comes along (its audience is how far the post went,
        and the page's ``getProfiles`` fills in the figures). The first sighting in a page wins."""
        self.add_author(profile, full=False)
        did = did_of(profile, "profile")  # add_author has checked the profile
        when = moment(reshared_at) or self.scope.observed_at
        self.reshares.setdefault((post_id(uri), author_id(did)), Reshare(post_id(uri), author_id(did), when))

    def add_resharers(self, uri: str, profiles: list[Any], reshared_at: str) -> None:
        """A ``getRepostedBy`` list; an unreadable profile is skipped (logged), as an unreadable post is, so one
        odd account never stops a thread from refreshing."""
        for profile in profiles:
            try:
                self.add_reshare(uri, profile, reshared_at)
            except BadResponse as error:
                log.warning("skipping an unreadable Bluesky reposter: %s", error.detail)

    def add_deleted(self, uri: str) -> None:
        self.deleted.setdefault(post_id(uri), None)

    def author_dids(self) -> list[str]:
        return [native(a) for a in self.authors]

    def has_post(self, uri: str) -> bool:
        return post_id(uri) in self.posts
