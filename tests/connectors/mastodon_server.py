"""A local Mastodon-API server for connector tests: real recorded answers, composed scenarios, injected faults.

It listens on 127.0.0.1 and answers from the VCR recordings of a real Mastodon 4.6.4 server in
``../shared/fixtures/mastodon/cassettes*/`` (see ``fixtures/SOURCES.md``), rewriting the recorded addresses
(``localhost:3000`` and the streaming ``localhost:4000``) to its own, so Link headers and URLs point back at it.
Tests assert on both sides: every request is recorded (method, path, query, headers, body).

Answers are chosen in this order for ``METHOD /path``:

1. injected faults (``inject``): one-shot answers, consumed in order (429s, 500s, delays, cut-off or non-JSON
   bodies, dropped connections, streams);
2. scripted answers (``respond`` / ``replay``): the last one repeats; a scripted query must match when given;
3. timelines (``timeline``): a list of recorded items paged like Mastodon (``max_id``/``min_id``/``since_id``/
   ``limit``/``types[]``, Link headers with ``rel="next"`` and ``rel="prev"``), hashtag timelines included
   (``/api/v1/timelines/tag/:name``);
   full-text search (``searchable``): ``GET /api/v2/search`` over the statuses made searchable, as a search engine
   answers: loosely (every word of ``q``, any case, anywhere in the HTML, so "crumbs" is found for "crumb"), newest
   first, ``min_id`` a lower bound and ``max_id`` an upper one, no Link headers, the recorded envelope
   (``accounts``/``statuses``/``hashtags``);
4. the status store (``publish``): ``GET /api/v1/statuses/:id`` and ``/context`` worked out from ``in_reply_to_id``,
   ``/reblogged_by`` empty unless served (``boosted_by``); a deleted or unknown status is a 404 exactly as Mastodon
   words it;
5. otherwise 404.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from console.connectors.http import HttpClient
from console.connectors.mastodon import MastodonConnector
from console.domain import Account
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import SyncEngine, SyncResult
from tests.connectors.loopback import Answer, Faults, HandClock, LoopbackServer, Request
from tests.connectors.mastodon_recordings import (  # noqa: F401 - re-exported: tests import them from here
    ADMIN,
    BUSINESS,
    CUSTOMER,
    FIXTURES,
    Interaction,
    normal_path,
    cassette,
    notification,
    recorded,
    recorded_account,
    recorded_events,
    recorded_notification,
    recorded_status,
)

RECORDED_HOSTS = ("localhost:3000", "localhost:4000")
# Headers that describe the recorded connection, not the answer: the server sets its own.
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "keep-alive", "date", "content-encoding"}
NOT_FOUND = {"error": "Record not found"}


# ------------------------------------------------------------------------------------------------ answers


@dataclass(frozen=True)
class Response(Answer):
    """An ``Answer`` that may also stream: ``events`` are chunks (server-sent events) sent ``event_gap`` seconds
    apart, after which the stream closes, or stays open until the server stops when ``hold_open``."""

    events: tuple[bytes, ...] = ()
    event_gap: float = 0.0
    hold_open: bool = False

    @classmethod
    def from_interaction(cls, interaction: Interaction) -> Response:
        headers = {k: v for k, v in interaction.headers.items() if k not in _HOP_HEADERS}
        if "text/event-stream" in interaction.headers.get("content-type", ""):
            return cls(interaction.status, headers=headers, events=(interaction.body,))
        return cls(interaction.status, body=interaction.body, headers=headers)


@dataclass(frozen=True)
class Seen(Request):
    @property
    def params(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = defaultdict(list)
        for key, value in self.query:
            grouped[key].append(value)
        return dict(grouped)


@dataclass
class _Timeline:
    items: list[dict[str, Any]]
    key: Callable[[dict[str, Any]], str]


# ------------------------------------------------------------------------------------------------ the server


class MastodonTestServer(LoopbackServer):
    Response = Response
    Seen = Seen
    thread_name = "mastodon-test-server"

    def __init__(self) -> None:
        super().__init__()
        self._faults: Faults[Response] = Faults()
        self._routes: dict[tuple[str, str], list[tuple[tuple[tuple[str, str], ...] | None, deque[Response]]]] = \
            defaultdict(list)
        self._timelines: dict[str, _Timeline] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.search_index: list[dict[str, Any]] | None = None  # None: search not scripted (404 like any route)
        # An account with nothing new until a test says otherwise.
        self.timeline("/api/v1/notifications", [])
        self.timeline("/api/v1/conversations", [], key=lambda c: c["last_status"]["id"])

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- scripting ---------------------------------------------------------------------------------------------

    def respond(self, method: str, path: str, *responses: Response,
                query: Iterable[tuple[str, str]] | None = None) -> None:
        with self.lock:
            self._routes[(method, normal_path(path))].append(
                (tuple(sorted(query)) if query is not None else None, deque(responses)))

    def replay(self, name: str, *, only: Callable[[Interaction], bool] = lambda i: True) -> None:
        """Answer as the recording ``name`` did, request by request (matching the recorded query when it had one)."""
        grouped: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[Response]] = defaultdict(list)
        for interaction in cassette(name):
            if only(interaction):
                grouped[(interaction.method, interaction.path, interaction.query)].append(
                    Response.from_interaction(interaction))
        for (method, path, query), responses in grouped.items():
            self.respond(method, path, *responses, query=query or None)

    def inject(self, method: str, path: str, *faults: Response, after: int = 0) -> None:
        """Answer the next requests with ``faults``, once each; ``after`` lets that many requests through first."""
        with self.lock:
            self._faults.add((method, normal_path(path)), faults, after)

    def timeline(self, path: str, items: Iterable[dict[str, Any]],
                 key: Callable[[dict[str, Any]], str] = lambda item: item["id"]) -> None:
        self._timelines[normal_path(path)] = _Timeline(list(items), key)

    def publish(self, *statuses: dict[str, Any]) -> None:
        """Make statuses readable one by one and as threads (context) through the status endpoints."""
        for status in statuses:
            self.statuses[status["id"]] = status

    def searchable(self, *statuses: dict[str, Any]) -> None:
        """Statuses ``GET /api/v2/search?type=statuses`` can find (full-text search as an opted-in account sees it)."""
        self.search_index = [*(self.search_index or []), *statuses]

    def boosted_by(self, status_id: str, accounts: Iterable[dict[str, Any]]) -> None:
        """Serve ``/api/v1/statuses/:id/reblogged_by`` as a Link-paged list of these accounts."""
        self.timeline(f"/api/v1/statuses/{status_id}/reblogged_by", accounts)

    def delete(self, status_id: str) -> None:
        self.statuses.pop(status_id, None)

    def requests_to(self, path: str, method: str | None = None) -> list[Seen]:
        return [r for r in self.requests if r.path == normal_path(path) and (method is None or r.method == method)]

    # -- answering ---------------------------------------------------------------------------------------------

    def record(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Seen:
        seen = super().record(method, target, headers, body)
        return dataclasses.replace(seen, path=normal_path(seen.path))

    def answer(self, seen: Seen) -> Answer:
        method, path, query = seen.method, seen.path, seen.query
        with self.lock:
            fault = self._faults.take((method, path))
            if fault is not None:
                return fault
            routes = self._routes.get((method, path), [])
            chosen = next((q for want, q in routes if want == tuple(sorted(query))), None) \
                or next((q for want, q in routes if want is None), None)
            if chosen:
                return chosen.popleft() if len(chosen) > 1 else chosen[0]
        if method == "GET" and path in self._timelines:
            return self._page(path, query)
        if method == "GET" and path == "/api/v2/search" and self.search_index is not None:
            return self._search(query)
        if method == "GET" and path.startswith("/api/v1/statuses/"):
            return self._status_answer(path.split("/")[4:])
        return Response(404, json=NOT_FOUND)

    def _page(self, path: str, query: tuple[tuple[str, str], ...]) -> Response:
        timeline = self._timelines[path]
        params: dict[str, list[str]] = defaultdict(list)
        for k, v in query:
            params[k].append(v)
        number = lambda value: int(value)  # noqa: E731 - Mastodon ids compare as numbers
        items = sorted(timeline.items, key=lambda i: number(timeline.key(i)), reverse=True)
        if params.get("types[]"):
            items = [i for i in items if i.get("type") in params["types[]"]]
        if params.get("max_id"):
            items = [i for i in items if number(timeline.key(i)) < number(params["max_id"][0])]
        if params.get("since_id"):
            items = [i for i in items if number(timeline.key(i)) > number(params["since_id"][0])]
        limit = int(params.get("limit", ["40"])[0])
        if params.get("min_id"):
            newer = [i for i in items if number(timeline.key(i)) > number(params["min_id"][0])]
            page = list(reversed(list(reversed(newer))[:limit]))
        else:
            page = items[:limit]
        headers = {}
        if page:
            kept = sorted((k, v) for k, v in query if k not in ("max_id", "min_id", "since_id"))
            base = f"http://localhost:3000{path}?"
            headers["link"] = (f'<{base}{urlencode(sorted(kept + [("max_id", timeline.key(page[-1]))]))}>; '
                               f'rel="next", <{base}{urlencode(sorted(kept + [("min_id", timeline.key(page[0]))]))}>;'
                               f' rel="prev"')
        return Response(json=page, headers=headers)

    def _search(self, query: tuple[tuple[str, str], ...]) -> Response:
        params = dict(query)
        words = params.get("q", "").replace('"', " ").casefold().split()
        found = []
        if params.get("type") in (None, "statuses") and words:
            found = [s for s in self.search_index or [] if all(w in s.get("content", "").casefold() for w in words)]
        found.sort(key=lambda s: int(s["id"]), reverse=True)
        if params.get("min_id"):
            found = [s for s in found if int(s["id"]) > int(params["min_id"])]
        if params.get("max_id"):
            found = [s for s in found if int(s["id"]) < int(params["max_id"])]
        limit = int(params.get("limit", "20"))
        return Response(json={"accounts": [], "statuses": found[:limit], "hashtags": []})

    def _status_answer(self, parts: list[str]) -> Response:
        status = self.statuses.get(parts[0]) if parts else None
        if status is None:
            return Response(404, json=NOT_FOUND)
        if len(parts) == 1:
            return Response(json=status)
        if parts[1:] == ["reblogged_by"]:
            return Response(json=[])  # nobody this server knows of; ``boosted_by`` serves a list
        if parts[1:] != ["context"]:
            return Response(404, json=NOT_FOUND)
        ancestors = []
        parent = self.statuses.get(status.get("in_reply_to_id") or "")
        while parent is not None:
            ancestors.insert(0, parent)
            parent = self.statuses.get(parent.get("in_reply_to_id") or "")
        descendants, frontier = [], {status["id"]}
        for candidate in sorted(self.statuses.values(), key=lambda s: int(s["id"])):
            if candidate.get("in_reply_to_id") in frontier:
                descendants.append(candidate)
                frontier.add(candidate["id"])
        return Response(json={"ancestors": ancestors, "descendants": descendants})

    def rewrite(self, data: bytes) -> bytes:
        for recorded_host in RECORDED_HOSTS:
            data = data.replace(recorded_host.encode(), self.host.encode())
        return data

    def send(self, handler: BaseHTTPRequestHandler, response: Answer) -> None:
        if not isinstance(response, Response) or not response.events:
            super().send(handler, response)
            return
        handler.send_response(response.status)
        headers = {k.lower(): self.rewrite(v.encode()).decode() for k, v in response.headers.items()}
        headers.setdefault("content-type", "text/event-stream")
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        for number, chunk in enumerate(response.events):
            if number and response.event_gap and self.stopping.wait(response.event_gap):
                return
            handler.wfile.write(self.rewrite(chunk))
            handler.wfile.flush()
        if response.hold_open:
            self.stopping.wait()


@pytest.fixture
def mastodon_server() -> Iterator[MastodonTestServer]:
    with MastodonTestServer() as server:
        yield server


# ------------------------------------------------------------------------------------------------ the client side

TOKEN = "__MASTODON_TEND_TEST_TOKEN"
NOW = datetime(2026, 8, 3, 12, 0, tzinfo=timezone.utc)


class Clock(HandClock):
    start = NOW


def make_account(server: MastodonTestServer, business: str = BUSINESS, handle: str = "mastodonpy_test") -> Account:
    return Account(id=f"mastodon:{handle}@{server.host}", network="mastodon", handle=f"@{handle}@{server.host}",
                   server_url=server.url, remote_id=business)


def make_connector(server: MastodonTestServer, sleep: Callable[[float], Any], *, business: str = BUSINESS,
                   handle: str = "mastodonpy_test", clock: Clock | None = None, read_timeout: float = 2.0,
                   **kwargs: Any) -> MastodonConnector:
    clock = clock or Clock()
    client = HttpClient(server.url, service_name="Mastodon", sleep=sleep, clock=clock, random=lambda: 0.0,
                        timeout=httpx.Timeout(5.0, read=read_timeout))
    return MastodonConnector(make_account(server, business, handle), TOKEN, client=client, clock=clock, **kwargs)


def post_id(server: MastodonTestServer, native: str) -> str:
    return f"mastodon:{server.host}/{native}"


# ------------------------------------------------------------------------------------------------ the inbox side


def new_inbox(path: Path, account: Account) -> Path:
    inbox = Inbox.open(path)
    try:
        inbox.ensure_account(account)
    finally:
        inbox.close()
    return path


def query(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    inbox = Inbox.open(path)
    try:
        return [tuple(row) for row in inbox.db.execute(sql, params).fetchall()]
    finally:
        inbox.close()


async def sync_into(path: Path, connector: MastodonConnector) -> SyncResult:
    """One pass of the real sync engine into the inbox at ``path`` (every stream, each page its own transaction)."""
    writer = StoreWriter(Inbox.open(path))
    try:
        [result] = await SyncEngine(writer, [connector]).sync_once()
    finally:
        writer.close()
    return result
