"""Publishing a reply on Bluesky: ``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post``, sent once.

A retried send must not post twice, and Bluesky has no idempotency header. Instead the client chooses the record
key: a TID (the timestamp identifier every post key is) derived from the reply's idempotency key, so every attempt
at the same reply writes to the same address. When a create fails in any way that leaves doubt (a 500, which is how
the reference PDS reports a record that already exists; a timeout; a garbled answer), the record is looked up at
that address and, when it is there, returned instead of posting again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from console.connectors.bluesky_parse import (
    AT_URI, Scope, as_object, author_id, moment, native, post_id, post_url, reply_refs, strong_ref,
)
from console.connectors.bluesky_richtext import (
    MAX_GRAPHEMES, build_facets, grapheme_count, render_text, written_mentions,
)
from console.connectors.bluesky_xrpc import Xrpc, decode
from console.connectors.errors import AuthExpired, ConnectorError, RateLimited
from console.domain import Direction, Post, Visibility, iso_utc, parse_iso

log = logging.getLogger(__name__)

POST = "app.bsky.feed.post"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_HALF_SECOND_US = 2**19


def encode_tid(micros: int, clock_id: int) -> str:
    """A TID: 53 bits of microseconds since 1970 and 10 bits of clock id, in base32-sortable, 13 characters."""
    value = ((micros & (2**53 - 1)) << 10) | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def reply_rkey(idempotency_key: str, after: str) -> str:
    """The record key of a reply: the same for every attempt at it, a valid TID, and a moment just after ``after``
    (the post answered), so the key also reads as a plausible time."""
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:8], "big")
    try:
        base = int(parse_iso(after).timestamp() * 1_000_000)
    except ValueError:
        base = 0
    micros = max(base, 0) + 1 + digest % _HALF_SECOND_US
    return encode_tid(micros, digest >> 54)


def check_length(text: str) -> None:
    length = grapheme_count(text)
    if length > MAX_GRAPHEMES:
        over = length - MAX_GRAPHEMES
        raise ConnectorError(
            f"This reply is {length} characters long and Bluesky allows {MAX_GRAPHEMES}; "
            f"shorten it by {over} character{'s' if over > 1 else ''} before sending.",
            detail=f"{length} graphemes > {MAX_GRAPHEMES}",
        )
    if not text.strip():
        raise ConnectorError("This reply is empty; write something before sending.")


async def mention_dids(xrpc: Xrpc, handles: list[str]) -> dict[str, str]:
    """DIDs of the written @handles that exist; an unknown one stays plain text, as in Bluesky's app."""
    found: dict[str, str] = {}
    for handle in handles[:20]:
        response = await xrpc.call("GET", "com.atproto.identity.resolveHandle", params={"handle": handle},
                                   accept=(400, 404))
        if response.status_code < 400:
            did = decode(response).get("did")
            if isinstance(did, str) and did.startswith("did:"):
                found[handle] = did
    return found


class ReplyPublisher:
    """Writes replies into the business's repository (its DID) on its PDS."""

    def __init__(self, xrpc: Xrpc, did: str, handle: str, clock: Callable[[], datetime]) -> None:
        self._xrpc = xrpc
        self._did = did
        self._handle = handle.removeprefix("@")
        self._clock = clock

    async def parent_refs(self, parent_uri: str) -> tuple[dict[str, str], dict[str, str]]:
        """(root, parent) strong references (uri + cid) of the post being answered."""
        body = await self._xrpc.get("app.bsky.feed.getPosts", {"uris": [parent_uri]})
        views = [v for v in body.get("posts") or [] if isinstance(v, dict) and v.get("uri") == parent_uri]
        if not views:
            raise ConnectorError("The post you are answering was deleted on Bluesky (or is hidden from you), so "
                                 "the reply was not sent.", detail=f"getPosts found no {parent_uri}")
        parent = strong_ref(views[0], "post answered")
        record = as_object(views[0].get("record"), "post answered")
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        root = reply.get("root") if isinstance(reply.get("root"), dict) else None
        root_uri, _ = reply_refs(record)
        if root is not None and root_uri and isinstance(root.get("cid"), str) and root["cid"]:
            return {"uri": root_uri, "cid": root["cid"]}, parent
        return parent, parent

    async def publish(self, parent: Post, text: str, idempotency_key: str,
                      resolve: Callable[[list[str]], Awaitable[dict[str, str]]]) -> Post:
        check_length(text)
        parent_uri = native(parent.id)
        if not AT_URI.fullmatch(parent_uri):
            raise ConnectorError("Tend cannot tell which Bluesky post this answers.", detail=f"id {parent.id!r}")
        root, parent_ref = await self.parent_refs(parent_uri)
        facets = build_facets(text, await resolve(written_mentions(text)))
        record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": iso_utc(self._clock()),
                                  "reply": {"root": root, "parent": parent_ref}}
        if facets:
            record["facets"] = facets
        rkey = reply_rkey(idempotency_key, parent.created_at)
        try:
            body = decode(await self._xrpc.call(
                "POST", "com.atproto.repo.createRecord",
                json_body={"repo": self._did, "collection": POST, "rkey": rkey, "record": record},
            ))
            uri, written = body.get("uri"), record
        except (AuthExpired, RateLimited):
            raise  # nothing was written
        except ConnectorError as error:
            try:
                existing = await self.existing(rkey)
            except ConnectorError:
                existing = None
            if existing is None:
                raise error from None
            log.info("reply %s was already published; not posting it twice (%s)", rkey, error.detail)
            uri, written = existing
        if not isinstance(uri, str) or not AT_URI.fullmatch(uri):
            raise ConnectorError("Bluesky did not say where it published the reply; check the thread on Bluesky "
                                 "before sending again.", detail=f"createRecord uri={str(uri)[:80]!r}")
        return self._as_post(uri, written, parent)

    async def existing(self, rkey: str) -> tuple[str, dict[str, Any]] | None:
        response = await self._xrpc.call("GET", "com.atproto.repo.getRecord",
                                         params={"repo": self._did, "collection": POST, "rkey": rkey},
                                         accept=(400, 404))
        if response.status_code >= 400:
            return None
        body = decode(response)
        value = body.get("value")
        return (body.get("uri"), value) if isinstance(value, dict) else None

    def _as_post(self, uri: str, record: dict[str, Any], parent: Post) -> Post:
        now = iso_utc(self._clock())
        return Post(
            id=post_id(uri),
            network="bluesky",
            account_id=parent.account_id,
            thread_id=parent.thread_id,
            author_id=author_id(self._did),
            text=render_text(record.get("text", ""), record.get("facets")),
            created_at=moment(record.get("createdAt")) or now,
            observed_at=now,
            parent_id=parent.id,
            url=post_url(uri, self._handle),
            visibility=Visibility.PUBLIC,
            direction=Direction.OUT,
        )


__all__ = ["ReplyPublisher", "Scope", "check_length", "encode_tid", "mention_dids", "reply_rkey"]
