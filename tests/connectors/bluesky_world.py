"""The state behind the local Bluesky test server: people, posts, notifications, sessions and chats.

Views are built in the shapes the real services answer with (checked against the lexicons in
``../shared/fixtures/bluesky/lexicons/`` and against answers of the reference PDS/AppView from ``@atproto/dev-env``):
``postView`` with ``record``/counts/``indexedAt``, ``threadViewPost`` trees with ``#notFoundPost``/``#blockedPost``
items, ``notification`` items whose ``indexedAt`` is also the page cursor, ``profileViewDetailed`` with figures.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

START = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def did_for(handle: str) -> str:
    digest = hashlib.sha256(handle.encode()).digest()
    return "did:plc:" + "".join(_B32[b % 32] for b in digest[:24])


def fake_cid(seed: str) -> str:
    return "bafyrei" + "".join(_B32[b % 32] for b in hashlib.sha256(seed.encode()).digest()[:52])[:52]


def jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'at+jwt', 'alg': 'HS256'})}.{part(claims)}.c2lnbmF0dXJl"


@dataclass
class Person:
    did: str
    handle: str
    display_name: str = ""
    followers: int = 0
    follows: int = 0
    posts: int = 0

    def basic(self) -> dict[str, Any]:
        view: dict[str, Any] = {"did": self.did, "handle": self.handle, "viewer": {"muted": False,
                                "blockedBy": False}, "labels": []}
        if self.display_name:
            view["displayName"] = self.display_name
        return view

    def detailed(self) -> dict[str, Any]:
        return {**self.basic(), "followersCount": self.followers, "followsCount": self.follows,
                "postsCount": self.posts, "associated": {"lists": 0, "feedgens": 0, "starterPacks": 0}}


@dataclass
class StoredPost:
    uri: str
    cid: str
    author: Person
    record: dict[str, Any]
    indexed_at: str
    replies: int = 0
    reposts: int = 0
    likes: int = 0
    quotes: int = 0
    embed_view: dict[str, Any] | None = None
    reposted_by: list[Person] = field(default_factory=list)  # newest first, as getRepostedBy lists them

    @property
    def root_uri(self) -> str:
        reply = self.record.get("reply")
        return reply["root"]["uri"] if reply else self.uri

    @property
    def parent_uri(self) -> str | None:
        reply = self.record.get("reply")
        return reply["parent"]["uri"] if reply else None

    def ref(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}

    def view(self) -> dict[str, Any]:
        view = {"uri": self.uri, "cid": self.cid, "author": self.author.basic(), "record": self.record,
                "bookmarkCount": 0, "replyCount": self.replies, "repostCount": self.reposts,
                "likeCount": self.likes, "quoteCount": self.quotes, "indexedAt": self.indexed_at,
                "viewer": {"bookmarked": False, "threadMuted": False}, "labels": []}
        if self.embed_view is not None:
            view["embed"] = self.embed_view
        return view


@dataclass
class Convo:
    id: str
    members: list[Person]
    messages: list[dict[str, Any]] = field(default_factory=list)  # oldest first


class World:
    """Everything the server knows. Test code changes it directly; the server reads it under its lock."""

    def __init__(self) -> None:
        self.now = START
        self.people: dict[str, Person] = {}
        self.posts: dict[str, StoredPost] = {}
        self.blocked: set[str] = set()
        self.notifications: list[dict[str, Any]] = []  # newest first
        self.seen_at: list[str] = []
        self.convos: dict[str, Convo] = {}
        self.passwords: dict[str, str] = {}  # did -> app password
        self.access: dict[str, str] = {}  # live access token -> did
        self.refresh: dict[str, str] = {}  # live refresh token -> did
        self.expired: set[str] = set()  # access tokens the server now calls expired
        self.token_lifetime = timedelta(hours=2)
        self._ids = itertools.count(1)

    # -- time and ids ----------------------------------------------------------------------------------------------

    def tick(self, minutes: float = 1) -> str:
        self.now += timedelta(minutes=minutes)
        return iso(self.now)

    def _rkey(self) -> str:
        return f"3n{next(self._ids):011d}".replace("0", "a").replace("1", "b").replace("8", "c").replace("9", "d")

    # -- people ----------------------------------------------------------------------------------------------------

    def person(self, handle: str, *, display_name: str = "", followers: int = 0, follows: int = 0,
               posts: int = 0, app_password: str | None = None) -> Person:
        person = Person(did_for(handle), handle, display_name, followers, follows, posts)
        self.people[person.did] = person
        if app_password:
            self.passwords[person.did] = app_password
        return person

    def did_document(self, did: str, pds_url: str) -> dict[str, Any]:
        person = self.people[did]
        return {"@context": ["https://www.w3.org/ns/did/v1"], "id": did, "alsoKnownAs": [f"at://{person.handle}"],
                "verificationMethod": [], "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                                       "serviceEndpoint": pds_url}]}

    # -- sessions --------------------------------------------------------------------------------------------------

    def new_session(self, did: str, scope: str = "com.atproto.appPass") -> dict[str, Any]:
        exp = int((self.now + self.token_lifetime).timestamp())
        serial = next(self._ids)
        access = jwt({"scope": scope, "sub": did, "iat": exp - 7200, "exp": exp, "n": serial})
        refresh = jwt({"scope": "com.atproto.refresh", "sub": did, "jti": f"r{serial}", "n": serial})
        self.access[access] = did
        self.refresh[refresh] = did
        return {"accessJwt": access, "refreshJwt": refresh, "handle": self.people[did].handle, "did": did,
                "active": True}

    def expire_access_tokens(self) -> None:
        self.expired.update(self.access)

    # -- posts -----------------------------------------------------------------------------------------------------

    def post(self, author: Person, text: str, *, reply_to: StoredPost | None = None, facets: list | None = None,
             at: str | None = None, embed: dict[str, Any] | None = None, embed_view: dict[str, Any] | None = None,
             rkey: str | None = None) -> StoredPost:
        when = at or self.tick()
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": when}
        if reply_to is not None:
            root = self.posts.get(reply_to.root_uri, reply_to)
            record["reply"] = {"root": root.ref(), "parent": reply_to.ref()}
            reply_to.replies += 1
        if facets:
            record["facets"] = facets
        if embed:
            record["embed"] = embed
        uri = f"at://{author.did}/app.bsky.feed.post/{rkey or self._rkey()}"
        stored = StoredPost(uri, fake_cid(uri + text), author, record, when, embed_view=embed_view)
        self.posts[uri] = stored
        author.posts += 1
        return stored

    def delete(self, post: StoredPost) -> None:
        self.posts.pop(post.uri, None)

    def notify(self, reason: str, author: Person, uri: str, record: dict[str, Any], *, subject: str | None = None,
               at: str | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {"uri": uri, "cid": fake_cid(uri), "author": author.basic(), "reason": reason,
                                "record": record, "isRead": False, "indexedAt": at or iso(self.now), "labels": []}
        if subject:
            item["reasonSubject"] = subject
        self.notifications.insert(0, item)
        self.notifications.sort(key=lambda n: n["indexedAt"], reverse=True)
        return item

    # -- what customers do -----------------------------------------------------------------------------------------

    def mention(self, author: Person, business: Person, text: str, **kwargs: Any) -> StoredPost:
        """``author`` writes ``@business text``, with the mention facet at the right byte offsets."""
        full = f"@{business.handle} {text}"
        facet = {"index": {"byteStart": 0, "byteEnd": len(business.handle.encode()) + 1},
                 "features": [{"$type": "app.bsky.richtext.facet#mention", "did": business.did}]}
        post = self.post(author, full, facets=[facet], **kwargs)
        self.notify("mention", author, post.uri, post.record, at=post.indexed_at)
        return post

    def reply(self, author: Person, parent: StoredPost, text: str, *, notify: Person | None = None,
              **kwargs: Any) -> StoredPost:
        post = self.post(author, text, reply_to=parent, **kwargs)
        root = self.posts.get(post.root_uri)
        if notify is not None and notify.did in (parent.author.did, root.author.did if root else ""):
            self.notify("reply", author, post.uri, post.record, subject=parent.uri, at=post.indexed_at)
        return post

    def like(self, author: Person, post: StoredPost) -> None:
        post.likes += 1
        when = self.tick()
        uri = f"at://{author.did}/app.bsky.feed.like/{self._rkey()}"
        record = {"$type": "app.bsky.feed.like", "subject": post.ref(), "createdAt": when}
        self.notify("like", author, uri, record, subject=post.uri, at=when)

    def repost(self, author: Person, post: StoredPost, *, notify: bool = True) -> None:
        """``notify=False``: a repost of someone else's post, which notifies that author, not the business."""
        post.reposts += 1
        post.reposted_by.insert(0, author)
        when = self.tick()
        uri = f"at://{author.did}/app.bsky.feed.repost/{self._rkey()}"
        record = {"$type": "app.bsky.feed.repost", "subject": post.ref(), "createdAt": when}
        if notify:
            self.notify("repost", author, uri, record, subject=post.uri, at=when)

    def quote(self, author: Person, quoted: StoredPost, text: str) -> StoredPost:
        quoted.quotes += 1
        embed = {"$type": "app.bsky.embed.record", "record": quoted.ref()}
        view = {"$type": "app.bsky.embed.record#view", "record": {
            "$type": "app.bsky.embed.record#viewRecord", "uri": quoted.uri, "cid": quoted.cid,
            "author": quoted.author.basic(), "value": quoted.record, "indexedAt": quoted.indexed_at}}
        post = self.post(author, text, embed=embed, embed_view=view)
        self.notify("quote", author, post.uri, post.record, subject=quoted.uri, at=post.indexed_at)
        return post

    def follow(self, author: Person, business: Person) -> None:
        business.followers += 1
        author.follows += 1
        when = self.tick()
        uri = f"at://{author.did}/app.bsky.graph.follow/{self._rkey()}"
        self.notify("follow", author, uri, {"$type": "app.bsky.graph.follow", "subject": business.did,
                                            "createdAt": when}, at=when)

    # -- threads ---------------------------------------------------------------------------------------------------

    def thread(self, uri: str, depth: int, parent_height: int) -> dict[str, Any] | None:
        post = self.posts.get(uri)
        if post is None:
            return None
        node = self._down(post, depth)
        child, parent_uri, height = node, post.parent_uri, 0
        while parent_uri and height < parent_height:
            parent = self.posts.get(parent_uri)
            if parent is None:
                child["parent"] = {"$type": "app.bsky.feed.defs#notFoundPost", "uri": parent_uri, "notFound": True}
                break
            if parent.uri in self.blocked:
                child["parent"] = {"$type": "app.bsky.feed.defs#blockedPost", "uri": parent.uri, "blocked": True,
                                   "author": {"did": parent.author.did, "viewer": {"blockedBy": True}}}
                break
            up = {"$type": "app.bsky.feed.defs#threadViewPost", "post": parent.view()}
            child["parent"], child, parent_uri, height = up, up, parent.parent_uri, height + 1
        return node

    def _down(self, post: StoredPost, depth: int) -> dict[str, Any]:
        node: dict[str, Any] = {"$type": "app.bsky.feed.defs#threadViewPost", "post": post.view()}
        if depth > 0:
            replies = []
            for child in sorted(self.posts.values(), key=lambda p: p.indexed_at):
                if child.parent_uri != post.uri:
                    continue
                if child.uri in self.blocked:
                    replies.append({"$type": "app.bsky.feed.defs#blockedPost", "uri": child.uri, "blocked": True,
                                    "author": {"did": child.author.did, "viewer": {"blockedBy": True}}})
                else:
                    replies.append(self._down(child, depth - 1))
            node["replies"] = replies
        return node

    # -- chat ------------------------------------------------------------------------------------------------------

    def message(self, convo: Convo, sender: Person, text: str) -> dict[str, Any]:
        message = {"$type": "chat.bsky.convo.defs#messageView", "id": f"m{next(self._ids)}",
                   "rev": f"2222{next(self._ids):09d}", "text": text, "sender": {"did": sender.did},
                   "sentAt": self.tick()}
        convo.messages.append(message)
        return message

    def convo(self, *members: Person) -> Convo:
        convo = Convo(f"convo{next(self._ids)}", list(members))
        self.convos[convo.id] = convo
        return convo

    def convo_view(self, convo: Convo) -> dict[str, Any]:
        view: dict[str, Any] = {"id": convo.id, "rev": convo.messages[-1]["rev"] if convo.messages else "2222",
                                "members": [m.basic() for m in convo.members], "muted": False, "unreadCount": 0}
        if convo.messages:
            view["lastMessage"] = convo.messages[-1]
        return view
