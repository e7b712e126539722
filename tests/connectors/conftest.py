"""A real HTTP server on 127.0.0.1 that answers from a script and remembers what it was asked.

Connector tests drive the real client over a real socket, then assert on both sides of the wire: what the client
sent (method, path, headers, body) and how it handled what came back.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.connectors.loopback import Answer, LoopbackServer

# One scripted answer. ``truncate_to`` sends only that many body bytes while announcing the full length; ``delay``
# holds the answer back (to make the client time out).
Reply = Answer


@dataclass(frozen=True)
class Received:
    """One request exactly as it arrived on the socket."""

    method: str
    path: str
    query: dict[str, str]
    raw_target: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ScriptedServer(LoopbackServer):
    """Per-path queues of replies; the last reply of a queue repeats so "always fails" needs one line.

    ``Reply`` hangs off the server so test modules need no import from this conftest.
    """

    Reply = Reply
    thread_name = "scripted-http"
    methods = ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH")

    def __init__(self) -> None:
        super().__init__()
        self._script: dict[str, deque[Reply]] = defaultdict(deque)

    def script(self, path: str, *replies: Reply) -> None:
        with self.lock:
            self._script[path].extend(replies)

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def next_reply(self, path: str) -> Reply:
        with self.lock:
            queue = self._script.get(path)
            if not queue:
                return Reply(404, json={"error": f"nothing scripted for {path}"})
            return queue.popleft() if len(queue) > 1 else queue[0]

    def record(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Received:
        parts = urlsplit(target)
        return Received(method, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), target, headers, body)

    def answer(self, seen: Received) -> Reply:
        return self.next_reply(seen.path)


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


class FakeSleep:
    """Stands in for ``asyncio.sleep``: records every wait and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()
