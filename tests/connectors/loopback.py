"""What every test server here shares: a real HTTP server on 127.0.0.1 (a free port, its own thread) that records
each request as it arrived on the socket, answers with an ``Answer``, and takes one-shot faults from a queue.

A server subclasses ``LoopbackServer`` and says how a request is recorded (``record``) and answered (``answer``).
Used as a context manager it runs for the ``with`` block, which is what the pytest fixtures do. ``HandClock`` is the
clock the connectors under test read.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlsplit

JSON_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """One answer. ``json``/``body`` is the payload; ``delay`` holds it back (for client timeouts); ``truncate_to``
    sends only that many bytes of it while announcing all; ``drop`` closes the connection without answering."""

    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate_to: int | None = None
    drop: bool = False

    def payload(self) -> bytes:
        return json.dumps(self.json).encode() if self.json is not None else self.body


@dataclass(frozen=True)
class Request:
    """One request exactly as it arrived on the socket."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def bearer(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ")


A = TypeVar("A", bound=Answer)


class Faults(Generic[A]):
    """One-shot answers per key (a path, ``(method, path)``, an XRPC method), consumed in order; ``after`` lets that
    many requests through first. The server holds its lock around these calls."""

    def __init__(self) -> None:
        self._queued: dict[Hashable, deque[A]] = defaultdict(deque)
        self._after: dict[Hashable, int] = {}

    def add(self, key: Hashable, faults: Iterable[A], after: int = 0) -> None:
        self._queued[key].extend(faults)
        self._after[key] = after

    def take(self, key: Hashable) -> A | None:
        if not self._queued.get(key):
            return None
        if self._after.get(key, 0) > 0:
            self._after[key] -= 1
            return None
        return self._queued[key].popleft()


class LoopbackServer:
    """A server on 127.0.0.1 in a thread of its own. ``requests`` holds every request as ``record`` made it;
    ``stopping`` is set on ``stop``, which wakes handlers that are holding back an answer."""

    thread_name = "loopback-http"
    methods: tuple[str, ...] = ("GET", "POST", "PUT", "DELETE", "PATCH")
    Seen: type[Request] = Request

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # A short poll interval keeps shutdown (and so every test's teardown) to a few milliseconds.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                        name=self.thread_name, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- what a server says --------------------------------------------------------------------------------------

    def record(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
        """The request as ``requests`` keeps it (and ``answer`` reads it)."""
        parts = urlsplit(target)
        return self.Seen(method, parts.path, tuple(parse_qsl(parts.query, keep_blank_values=True)), headers, body)

    def answer(self, seen: Any) -> Answer:
        raise NotImplementedError

    def rewrite(self, data: bytes) -> bytes:
        """What the answer's payload and header values become on the wire (as they are, unless a server says)."""
        return data

    def send(self, handler: BaseHTTPRequestHandler, answer: Answer) -> None:
        payload = self.rewrite(answer.payload())
        headers = {k.lower(): self.rewrite(v.encode()).decode() for k, v in answer.headers.items()}
        if answer.json is not None:
            headers.setdefault("content-type", JSON_TYPE)
        headers.setdefault("content-length", str(len(payload)))  # a lying length, when an answer gives one
        handler.send_response(answer.status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload if answer.truncate_to is None else payload[: answer.truncate_to])

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _handler_for(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so a cut-off body or a stream ends when the connection closes.
        protocol_version = "HTTP/1.0"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = server.record(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            server.requests.append(seen)
            answer = server.answer(seen)
            if answer.delay and server.stopping.wait(answer.delay):
                return
            if answer.drop:
                self.close_connection = True
                return
            try:
                server.send(self, answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing left to say

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
            pass

    for method in server.methods:
        setattr(Handler, f"do_{method}", Handler._handle)
    return Handler


class HandClock:
    """A clock the test moves by hand; every reading is a new millisecond, as observations are in real life.
    ``start`` is where a clock made without one starts."""

    start: datetime

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start if start is not None else self.start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
