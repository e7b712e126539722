"""A real HTTP server on 127.0.0.1 that answers from a script and remembers what it was asked.

Connector tests drive the real client over a real socket, then assert on both sides of the wire: what the client
sent (method, path, headers, body) and how it handled what came back.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``truncate_to`` sends only that many body bytes while announcing the full length;
    ``delay`` holds the answer back (to make the client time out)."""

    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate_to: int | None = None

    def payload(self) -> bytes:
        return json.dumps(self.json).encode() if self.json is not None else self.body


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


class ScriptedServer:
    """Per-path queues of replies; the last reply of a queue repeats so "always fails" needs one line.

    ``Reply`` hangs off the server so test modules need no import from this conftest.
    """

    Reply = Reply

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._script: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # A short poll interval keeps shutdown (and so every test's teardown) to a few milliseconds.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, name="scripted-http", daemon=True
        )

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._script[path].extend(replies)

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def next_reply(self, path: str) -> Reply:
        with self._lock:
            queue = self._script.get(path)
            if not queue:
                return Reply(404, json={"error": f"nothing scripted for {path}"})
            return queue.popleft() if len(queue) > 1 else queue[0]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()  # wakes handlers that are holding back a reply
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler_for(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so a truncated body ends with the connection closing.
        protocol_version = "HTTP/1.0"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            server.requests.append(
                Received(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    raw_target=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
            reply = server.next_reply(parts.path)
            if reply.delay and server.stopping.wait(reply.delay):
                return
            payload = reply.payload()
            try:
                self.send_response(reply.status)
                if reply.json is not None:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                sent = payload if reply.truncate_to is None else payload[: reply.truncate_to]
                self.wfile.write(sent)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test); nothing left to say

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
            pass

    return Handler


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class FakeSleep:
    """Stands in for ``asyncio.sleep``: records every wait and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()
