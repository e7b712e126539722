"""A local Bluesky server for connector tests: PDS, AppView, PLC directory and chat in one, on 127.0.0.1.

It answers XRPC (``/xrpc/<nsid>``) from a ``World`` (``bluesky_world``) the test builds, in the shapes and with the
errors the reference services use (``400 ExpiredToken``, ``400 NotFound``, ``401 AuthenticationRequired``, ``500``
for a record key that already exists, ``RateLimit-*`` headers), serves DID documents as a PLC directory does
(``GET /did:plc:…``), and records every request so tests assert on both sides of the wire.

Faults are injected per method (``inject``): one-shot answers consumed in order — a 429, a 5xx, a delay (for client
timeouts), a cut-off or non-JSON body — before the world answers again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.connectors.bluesky_world import Person, World, fake_cid
from tests.connectors.loopback import Answer, Faults, LoopbackServer, Request

CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"

Response = Answer


def error(status: int, name: str, message: str = "") -> Response:
    return Response(status, {"error": name, "message": message or name})


@dataclass(frozen=True)
class Seen(Request):
    @property
    def nsid(self) -> str:
        return self.path.removeprefix("/xrpc/")

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)

    def params(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]


class BlueskyTestServer(LoopbackServer):
    Response = Response
    Seen = Seen
    thread_name = "bluesky-test-server"
    methods = ("GET", "POST")

    def __init__(self) -> None:
        super().__init__()
        self.world = World()
        self._faults: Faults[Response] = Faults()
        self.chat_status: Response | None = error(500, "InternalServerError", "Internal Server Error")
        # com.atproto.identity.resolveDid: "open" (answers anyone), "auth" (401 AuthMissing without a session, as the
        # dev-env PDS does) or "none" (501); describeRepo answers for the accounts it hosts unless turned off.
        self.resolve_did = "auth"
        self.describe_repo = True
        self.main_passwords: dict[str, str] = {}  # did -> the account's own password (not an app password)
        self.pds_url: str | None = None  # the PDS DID documents name (this server unless a test says otherwise)
        # app.bsky.feed.searchPosts: off answers 501 as a service without search does; ``since`` can be ignored as
        # the reference AppView (dev-env) ignores it.
        self.search_enabled = True
        self.search_honours_since = True

    # -- scripting -------------------------------------------------------------------------------------------------

    def business(self, handle: str = "shop.test", password: str = "aaaa-bbbb-cccc-dddd", **kwargs: Any) -> Person:
        return self.world.person(handle, app_password=password, **kwargs)

    def enable_chat(self) -> None:
        self.chat_status = None

    def inject(self, nsid: str, *faults: Response, after: int = 0) -> None:
        """Answer the next calls of ``nsid`` with ``faults``, once each; ``after`` lets that many through first."""
        with self.lock:
            self._faults.add(nsid, faults, after)

    def requests_to(self, nsid: str) -> list[Seen]:
        return [r for r in self.requests if r.nsid == nsid]

    def session_for(self, person: Person) -> dict[str, Any]:
        with self.lock:
            return self.world.new_session(person.did)

    # -- answering -------------------------------------------------------------------------------------------------

    def answer(self, seen: Seen) -> Response:
        with self.lock:
            fault = self._faults.take(seen.nsid)
            if fault is not None:
                return fault
            if seen.path.startswith("/did:"):
                did = seen.path[1:]
                if did not in self.world.people:
                    return Response(404, {"message": f"DID not registered: {did}"})
                return Response(200, self.world.did_document(did, self.pds_url or self.url))
            handler = getattr(self, "x_" + seen.nsid.replace(".", "_"), None)
            if handler is None:
                return error(501, "MethodNotImplemented", "Method Not Implemented")
            if seen.nsid.startswith("chat.") and seen.headers.get("atproto-proxy") != CHAT_PROXY:
                return error(400, "InvalidToken", "Bad token method")
            return handler(seen)

    def _viewer(self, seen: Seen) -> str | Response:
        token = seen.bearer
        if not token:
            return error(401, "AuthenticationRequired", "Authentication Required")
        if token in self.world.expired:
            return error(400, "ExpiredToken", "Token has expired")
        did = self.world.access.get(token)
        return did if did is not None else error(400, "InvalidToken", "Token could not be verified")

    # identity and sessions

    def x_com_atproto_identity_resolveHandle(self, seen: Seen) -> Response:
        handle = seen.param("handle") or ""
        for person in self.world.people.values():
            if person.handle == handle:
                return Response(200, {"did": person.did})
        return error(400, "HandleNotFound", "Unable to resolve handle")

    def x_com_atproto_identity_resolveDid(self, seen: Seen) -> Response:
        if self.resolve_did == "none":
            return error(501, "MethodNotImplemented", "Method Not Implemented")
        if self.resolve_did == "auth" and not seen.bearer:
            return error(401, "AuthMissing", "Authentication Required")
        did = seen.param("did") or ""
        if did not in self.world.people:
            return error(400, "DidNotFound", "DID not found")
        return Response(200, {"didDoc": self.world.did_document(did, self.pds_url or self.url)})

    def x_com_atproto_repo_describeRepo(self, seen: Seen) -> Response:
        did = seen.param("repo") or ""
        if not self.describe_repo or did not in self.world.people:
            return error(400, "RepoNotFound", f"Could not find repo for DID: {did}")
        person = self.world.people[did]
        return Response(200, {"handle": person.handle, "did": did, "handleIsCorrect": True, "collections": [],
                              "didDoc": self.world.did_document(did, self.pds_url or self.url)})

    def x_com_atproto_server_createSession(self, seen: Seen) -> Response:
        body = seen.json()
        identifier = body.get("identifier", "")
        person = next((p for p in self.world.people.values() if identifier in (p.did, p.handle)), None)
        if person is not None and self.main_passwords.get(person.did) == body.get("password"):
            return Response(200, self.world.new_session(person.did, scope="com.atproto.access"))
        if person is None or self.world.passwords.get(person.did) != body.get("password"):
            return error(401, "AuthenticationRequired", "Invalid identifier or password")
        return Response(200, self.world.new_session(person.did))

    def x_com_atproto_server_refreshSession(self, seen: Seen) -> Response:
        did = self.world.refresh.get(seen.bearer)
        if did is None:
            return error(400, "ExpiredToken", "Token has been revoked")
        del self.world.refresh[seen.bearer]
        return Response(200, self.world.new_session(did))

    def x_com_atproto_server_deleteSession(self, seen: Seen) -> Response:
        self.world.refresh.pop(seen.bearer, None)
        return Response(200, body=b"")

    # profiles

    def x_app_bsky_actor_getProfile(self, seen: Seen) -> Response:
        viewer = self._viewer(seen)
        if isinstance(viewer, Response):
            return viewer
        person = self.world.people.get(seen.param("actor") or "")
        return Response(200, person.detailed()) if person else error(400, "InvalidRequest", "Profile not found")

    def x_app_bsky_actor_getProfiles(self, seen: Seen) -> Response:
        viewer = self._viewer(seen)
        if isinstance(viewer, Response):
            return viewer
        actors = seen.params("actors")
        if len(actors) > 25:
            return error(400, "InvalidRequest", "Error: actors must not have more than 25 elements")
        return Response(200, {"profiles": [self.world.people[a].detailed() for a in actors
                                           if a in self.world.people]})

    # notifications

    def x_app_bsky_notification_listNotifications(self, seen: Seen) -> Response:
        viewer = self._viewer(seen)
        if isinstance(viewer, Response):
            return viewer
        limit = int(seen.param("limit") or 50)
        reasons = set(seen.params("reasons"))
        items = [n for n in self.world.notifications if not reasons or n["reason"] in reasons]
        cursor = seen.param("cursor")
        if cursor:
            items = [n for n in items if n["indexedAt"] < cursor]
        page = items[:limit]
        body: dict[str, Any] = {"notifications": page, "priority": False}
        if page:
            body["cursor"] = page[-1]["indexedAt"]
            body["seenAt"] = self.world.seen_at[-1] if self.world.seen_at else page[0]["indexedAt"]
        return Response(200, body)

    def x_app_bsky_notification_updateSeen(self, seen: Seen) -> Response:
        viewer = self._viewer(seen)
        if isinstance(viewer, Response):
            return viewer
        self.world.seen_at.append(seen.json()["seenAt"])
        return Response(200, body=b"")  # the reference server answers 200 with no body at all

    # posts and threads

    def x_app_bsky_feed_getPostThread(self, seen: Seen) -> Response:
        viewer = self._viewer(seen)
        if isinstance(viewer, Response):
            return viewer
        uri = seen.param("uri") or ""
        thread = self.world.thread(uri, int(seen.param("depth") or 6), int(seen.param("parentHeight") or 80))
        if thread is None:
            return error(400, "NotFound", f"Post not found: {uri}")
        return Response(200, {"thread": thread})

    def x_app_bsky_feed_getPosts(self, seen: Seen) -> Response:
        viewer = self._viewer(seen)
        if isinstance(viewer, Response):
            return viewer
        uris = seen.params("uris")
        if len(uris) > 25:
            return error(400, "InvalidRequest", "Error: uris must not have more than 25 elements")
        return Response(200, {"posts": [self.world.posts[u].view() for u in uris if u in self.world.posts]})

    def x_app_bsky_feed_searchPosts(self, seen: Seen) -> Response:
        """Loose, as a search service is: every word of ``q`` anywhere in the text, any case (so "crumbs" is found
        for "crumb"); ``sort=latest`` newest first by ``sortAt`` (the earlier of createdAt and indexedAt); ``since``
        inclusive; an opaque cursor (here: how many were listed before); unbalanced quotes are a BadQueryString."""
        viewer = self._viewer(seen)
        if isinstance(viewer, Response):
            return viewer
        if not self.search_enabled:
            return error(501, "MethodNotImplemented", "Method Not Implemented")
        q = seen.param("q")
        if not q:
            return error(400, "InvalidRequest", 'Error: Params must have the property "q"')
        if q.count('"') % 2:
            return error(400, "BadQueryString", "unbalanced quotes in query")
        limit = int(seen.param("limit") or 25)
        if not 1 <= limit <= 100:
            return error(400, "InvalidRequest", "Error: limit must be between 1 and 100")
        words = q.replace('"', " ").casefold().split()
        found = [p for p in self.world.posts.values()
                 if all(w in str(p.record.get("text", "")).casefold() for w in words)]
        found.sort(key=lambda p: (min(p.record["createdAt"], p.indexed_at), p.uri), reverse=True)
        since = seen.param("since")
        if since and self.search_honours_since:
            found = [p for p in found if min(p.record["createdAt"], p.indexed_at) >= since]
        start = int(seen.param("cursor") or 0)
        body: dict[str, Any] = {"posts": [p.view() for p in found[start:start + limit]], "hitsTotal": len(found)}
        if start + limit < len(found):
            body["cursor"] = str(start + limit)
        return Response(200, body)

    def x_app_bsky_feed_getRepostedBy(self, seen: Seen) -> Response:
        """Newest reposters first; the cursor is opaque to clients (here: how many were listed before)."""
        viewer = self._viewer(seen)
        if isinstance(viewer, Response):
            return viewer
        uri, limit = seen.param("uri") or "", int(seen.param("limit") or 50)
        if not 1 <= limit <= 100:
            return error(400, "InvalidRequest", "Error: limit must be between 1 and 100")
        post = self.world.posts.get(uri)
        everyone = post.reposted_by if post else []
        start = int(seen.param("cursor") or 0)
        body: dict[str, Any] = {"uri": uri, "repostedBy": [p.basic() for p in everyone[start:start + limit]]}
        if post:
            body["cid"] = post.cid
        if start + limit < len(everyone):
            body["cursor"] = str(start + limit)
        return Response(200, body)

    def x_com_atproto_repo_createRecord(self, seen: Seen) -> Response:
        viewer = self._viewer(seen)
        if isinstance(viewer, Response):
            return viewer
        body = seen.json()
        if body.get("repo") != viewer or body.get("collection") != "app.bsky.feed.post":
            return error(400, "InvalidRequest", "Invalid repo or collection")
        rkey = body.get("rkey") or None
        uri = f"at://{viewer}/app.bsky.feed.post/{rkey}"
        if rkey and uri in self.world.posts:
            return error(500, "InternalServerError", "Internal Server Error")  # as the reference PDS does
        record = body["record"]
        reply = record.get("reply")
        parent = self.world.posts.get(reply["parent"]["uri"]) if reply else None
        if reply and (parent is None or reply["parent"]["cid"] != parent.cid):
            return error(400, "InvalidRequest", "Invalid reply parent")
        author = self.world.people[viewer]
        stored = self.world.post(author, record["text"], reply_to=parent, facets=record.get("facets"),
                                 at=record["createdAt"], rkey=rkey)
        stored.record = record
        return Response(200, {"uri": stored.uri, "cid": stored.cid, "commit": {"cid": fake_cid("c"), "rev": "r"},
                              "validationStatus": "valid"})

    def x_com_atproto_repo_getRecord(self, seen: Seen) -> Response:
        uri = f"at://{seen.param('repo')}/{seen.param('collection')}/{seen.param('rkey')}"
        post = self.world.posts.get(uri)
        if post is None:
            return error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return Response(200, {"uri": uri, "cid": post.cid, "value": post.record})

    # chat

    def _chat(self, seen: Seen) -> str | Response:
        viewer = self._viewer(seen)
        if isinstance(viewer, Response):
            return viewer
        return self.chat_status if self.chat_status is not None else viewer

    def x_chat_bsky_convo_listConvos(self, seen: Seen) -> Response:
        viewer = self._chat(seen)
        if isinstance(viewer, Response):
            return viewer
        convos = sorted(self.world.convos.values(), key=lambda c: c.messages[-1]["sentAt"] if c.messages else "",
                        reverse=True)
        return Response(200, {"convos": [self.world.convo_view(c) for c in convos]})

    def x_chat_bsky_convo_getMessages(self, seen: Seen) -> Response:
        viewer = self._chat(seen)
        if isinstance(viewer, Response):
            return viewer
        convo = self.world.convos.get(seen.param("convoId") or "")
        if convo is None:
            return error(400, "InvalidConvo", "Convo not found")
        return Response(200, {"messages": list(reversed(convo.messages))})

    def x_chat_bsky_convo_getConvoForMembers(self, seen: Seen) -> Response:
        viewer = self._chat(seen)
        if isinstance(viewer, Response):
            return viewer
        wanted = {viewer, *seen.params("members")}
        for convo in self.world.convos.values():
            if {m.did for m in convo.members} == wanted:
                return Response(200, {"convo": self.world.convo_view(convo)})
        convo = self.world.convo(*(self.world.people[d] for d in sorted(wanted)))
        return Response(200, {"convo": self.world.convo_view(convo)})

    def x_chat_bsky_convo_sendMessage(self, seen: Seen) -> Response:
        viewer = self._chat(seen)
        if isinstance(viewer, Response):
            return viewer
        body = seen.json()
        convo = self.world.convos.get(body["convoId"])
        if convo is None:
            return error(400, "InvalidConvo", "Convo not found")
        return Response(200, self.world.message(convo, self.world.people[viewer], body["message"]["text"]))


@pytest.fixture
def bluesky() -> Iterator[BlueskyTestServer]:
    with BlueskyTestServer() as server:
        yield server


class WorldClock:
    """The connector's clock: the world's own time (what the server dates things with), moved on by tests."""

    def __init__(self, world: World) -> None:
        self.world = world

    def __call__(self):  # noqa: ANN204 - a datetime
        return self.world.now


def connector_for(server: BlueskyTestServer, business: Person, *, saved: list[str] | None = None,
                  sleep: Any = None, timeout: float = 5.0, **kwargs: Any):  # noqa: ANN201 - a BlueskyConnector
    """A connector signed in as ``business`` the way Tend is after ``tend account add bluesky``: with a refresh
    token only. Rotated refresh tokens are appended to ``saved``."""
    from console.connectors.bluesky import BlueskyConnector
    from console.connectors.http import HttpClient
    from console.domain import Account

    async def no_wait(_seconds: float) -> None:
        return None

    clock = WorldClock(server.world)
    session = server.session_for(business)
    account = Account(f"bluesky:{business.did}", "bluesky", f"@{business.handle}", server.url,
                      remote_id=business.did, char_limit=300)
    http = HttpClient(server.url, service_name="Bluesky", sleep=sleep or no_wait, clock=clock, timeout=timeout,
                      random=lambda: 0.0)
    return BlueskyConnector(account, session["refreshJwt"], client=http, clock=clock,
                            save_refresh_token=(saved.append if saved is not None else None), **kwargs)
