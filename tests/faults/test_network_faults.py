"""Network faults through a local TCP proxy: bounded retries with growing, jittered waits, a plain status, recovery.

``FaultProxy`` sits on 127.0.0.1 in front of a small JSON server and, connection by connection, passes traffic
through, resets it, stalls, answers 429, cuts the body short or speaks garbage to a TLS client. A DNS failure uses a
``.invalid`` host (RFC 2606: never resolves). The client side is the real ``HttpClient`` under the real
``SyncEngine``, with ``sleep`` injected so waits are recorded instead of waited.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from console.connectors import BadResponse, ConnectorError, ServerError
from console.connectors.http import HttpClient
from console.domain import Account, Author, Batch, Post
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import AccountStatus, SyncEngine, SyncResult, SyncState

ACCOUNT = Account("mastodon:biz", "mastodon", "biz@example.social", "https://example.social", "The Bakery")
MAX_ATTEMPTS = 4
BACKOFF = 0.5


class Backend(BaseHTTPRequestHandler):
    """Three customer messages, as JSON; HTTP/1.0, so every answer ends its connection."""

    def do_GET(self) -> None:  # noqa: N802 - the base class names it
        body = json.dumps([{"id": str(n), "text": f"where is order {n}?"} for n in range(1, 4)]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class FaultProxy:
    """A TCP proxy whose next connections misbehave as scripted (``script``); afterwards it passes traffic."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.modes: deque[str] = deque()
        self.connections = 0
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def script(self, *modes: str) -> None:
        self.modes.clear()
        self.modes.extend(modes)
        self.connections = 0

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            mode = self.modes.popleft() if self.modes else "pass"
            threading.Thread(target=self._handle, args=(client, mode), daemon=True).start()

    def _handle(self, client: socket.socket, mode: str) -> None:
        try:
            client.settimeout(5)
            if mode == "garbage":  # what a TLS client gets from something that is not a TLS server
                client.sendall(b"SSH-2.0-not-tls\r\n\x00\x01\x02garbage")
                return
            request = client.recv(65536)
            if mode == "pass":
                self._forward(client, request)
            elif mode == "reset":
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
            elif mode == "stall":
                self._stop.wait(10)
            elif mode == "429":
                body = b'{"error":"Too many requests"}'
                client.sendall(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Type: application/json\r\n"
                               b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            elif mode == "partial":
                client.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n"
                               b"Connection: close\r\n\r\n[{\"id\": \"1\", \"te")
            else:
                raise AssertionError(mode)
        except OSError:
            pass
        finally:
            client.close()

    def _forward(self, client: socket.socket, request: bytes) -> None:
        with socket.create_connection(self.upstream, timeout=5) as upstream:
            upstream.sendall(request)
            while chunk := upstream.recv(65536):
                client.sendall(chunk)


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = FaultProxy(server.server_address[:2])
    yield proxy
    proxy.close()
    server.shutdown()
    server.server_close()


class RecordedSleep:
    """Stands in for asyncio.sleep: records each wait, yields to the loop, never waits."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


class OrdersNetwork:
    """A minimal connector over the real ``HttpClient``: one GET, one page of posts."""

    streams = ("orders",)

    def __init__(self, http: HttpClient) -> None:
        self.account = ACCOUNT
        self.http = http

    async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
        items = await self.http.get_json("/api/orders")
        at = "2026-11-25T09:00:00.000Z"
        posts = tuple(Post(f"mastodon:{i['id']}", "mastodon", ACCOUNT.id, f"mastodon:{i['id']}", "mastodon:ana",
                           i["text"], at, at) for i in items)
        yield Batch(ACCOUNT.id, stream, posts, (Author("mastodon:ana", "mastodon", "ana", "Ana"),), cursor="3")

    async def aclose(self) -> None:
        await self.http.aclose()


def client_for(base_url: str, sleep: RecordedSleep, seed: int = 8) -> HttpClient:
    return HttpClient(base_url, service_name="Mastodon", sleep=sleep, max_attempts=MAX_ATTEMPTS,
                      backoff_base=BACKOFF, random=random.Random(seed).random, timeout=httpx.Timeout(0.4))


async def sync_pass(inbox: Inbox, network: OrdersNetwork) -> tuple[SyncResult, list[AccountStatus], float, SyncEngine]:
    """One pass; also the longest gap the event loop went without running a 10 ms heartbeat (a UI freeze)."""
    statuses: list[AccountStatus] = []
    writer = StoreWriter(inbox)
    engine = SyncEngine(writer, [network], refresh_per_pass=0)
    engine.on_status.append(statuses.append)
    longest_gap = 0.0
    done = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal longest_gap
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            longest_gap = max(longest_gap, now - last)
            last = now

    beat = asyncio.create_task(heartbeat())
    try:
        result = await engine.sync_account(network)
    finally:
        done.set()
        await beat
        writer._executor.shutdown(wait=True)  # the inbox stays open for the test
    return result, statuses, longest_gap, engine


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Inbox]:
    inbox = Inbox.open(tmp_path / "inbox.db")
    inbox.ensure_account(ACCOUNT)
    yield inbox
    inbox.close()


def assert_backoff_with_jitter(waits: list[float]) -> None:
    assert len(waits) == MAX_ATTEMPTS - 1  # bounded: one wait between each of the tries, none after the last
    for attempt, wait in enumerate(waits, start=1):
        base = BACKOFF * 2 ** (attempt - 1)
        assert base <= wait <= base * 1.25 + 1e-9, (attempt, wait)  # growing waits, never zero: no busy loop
    assert waits == sorted(waits)
    assert any(wait != BACKOFF * 2 ** n for n, wait in enumerate(waits)), "no jitter: clients would retry in step"


FAULTS = [
    ("reset", ServerError, "Mastodon could not be reached (no connection) — Tend will try again later"),
    ("stall", ServerError, "Mastodon is not answering (timed out) — Tend will try again later"),
    ("partial", BadResponse, "Mastodon sent an incomplete reply — Tend will try again later"),
]


@pytest.mark.parametrize(("mode", "error_type", "message"), FAULTS, ids=[f[0] for f in FAULTS])
def test_a_failing_connection_is_retried_a_few_times_with_backoff_then_shown_then_recovers(
    proxy: FaultProxy, inbox: Inbox, mode: str, error_type: type[ConnectorError], message: str
) -> None:
    sleep = RecordedSleep()
    network = OrdersNetwork(client_for(f"http://127.0.0.1:{proxy.port}", sleep))

    async def scenario() -> None:
        proxy.script(*[mode] * 20)  # a fault on every connection: the client must give up on its own
        with pytest.raises(error_type) as raised:
            await network.http.get_json("/api/orders")
        assert str(raised.value) == message
        assert proxy.connections == MAX_ATTEMPTS
        assert_backoff_with_jitter(sleep.waits)

        sleep.waits.clear()
        proxy.script(*[mode] * 20)
        result, statuses, gap, _engine = await sync_pass(inbox, network)
        assert result.error == message
        assert statuses[-1].state is SyncState.ERROR and statuses[-1].message == message
        assert proxy.connections == MAX_ATTEMPTS
        assert gap < 0.25, f"the event loop stalled for {gap:.2f} s"  # the window stays responsive
        assert inbox.cursor(ACCOUNT.id, "orders") is None

        proxy.script()  # the network is back
        result, statuses, _gap, _engine = await sync_pass(inbox, network)
        assert result.error is None and statuses[-1].state is SyncState.OK
        assert inbox.cursor(ACCOUNT.id, "orders") == "3"
        await network.aclose()

    asyncio.run(scenario())
    assert inbox.db.execute("SELECT count(*) FROM posts").fetchone()[0] == 3


def test_a_429_storm_waits_as_told_a_bounded_number_of_times_then_says_when(proxy: FaultProxy, inbox: Inbox) -> None:
    sleep = RecordedSleep()
    network = OrdersNetwork(client_for(f"http://127.0.0.1:{proxy.port}", sleep))

    async def scenario() -> None:
        proxy.script(*["429"] * 50)
        result, statuses, _gap, engine = await sync_pass(inbox, network)
        assert result.error == "Mastodon asked Tend to slow down; Tend will try again in 2 seconds."
        assert statuses[-1].state is SyncState.ERROR and statuses[-1].message == result.error
        assert proxy.connections == MAX_ATTEMPTS
        assert sleep.waits == [2.0] * (MAX_ATTEMPTS - 1)  # the server's Retry-After, honoured exactly
        # The pass reports when to come back, and the engine's next pass waits at least that long.
        assert result.retry_after == 2.0 and engine.next_delay(result) >= 2.0

        proxy.script("429", "429")  # a short storm inside one pass is waited out
        sleep.waits.clear()
        result, _statuses, _gap, _engine = await sync_pass(inbox, network)
        assert result.error is None and sleep.waits == [2.0, 2.0]
        await network.aclose()

    asyncio.run(scenario())


def test_consecutive_failed_passes_back_off_further_and_a_success_resets(proxy: FaultProxy, inbox: Inbox) -> None:
    sleep = RecordedSleep()
    network = OrdersNetwork(client_for(f"http://127.0.0.1:{proxy.port}", sleep))

    async def scenario() -> None:
        writer = StoreWriter(inbox)
        engine = SyncEngine(writer, [network], interval=60.0, refresh_per_pass=0)
        delays = []
        for _ in range(4):
            proxy.script(*["reset"] * MAX_ATTEMPTS)
            result = await engine.sync_account(network)
            assert result.error
            delays.append(engine.next_delay(result))
        assert delays == sorted(delays) and delays[-1] > delays[0]  # failing passes come less and less often
        proxy.script()
        result = await engine.sync_account(network)
        assert result.error is None and engine.next_delay(result) == 60.0
        writer._executor.shutdown(wait=True)
        await network.aclose()

    asyncio.run(scenario())


def test_garbage_instead_of_tls_is_a_plain_connection_error(proxy: FaultProxy, inbox: Inbox) -> None:
    sleep = RecordedSleep()
    network = OrdersNetwork(client_for(f"https://127.0.0.1:{proxy.port}", sleep))

    async def scenario() -> None:
        proxy.script(*["garbage"] * 20)
        result, statuses, _gap, _engine = await sync_pass(inbox, network)
        assert result.error == "Mastodon could not be reached (no connection) — Tend will try again later"
        assert statuses[-1].state is SyncState.ERROR
        assert proxy.connections == MAX_ATTEMPTS  # nothing was sent, so retrying was safe; still bounded
        assert_backoff_with_jitter(sleep.waits)
        await network.aclose()

    asyncio.run(scenario())


def test_a_host_that_does_not_resolve_is_a_plain_connection_error(inbox: Inbox) -> None:
    sleep = RecordedSleep()
    network = OrdersNetwork(client_for("https://tend-fault-test.invalid", sleep))

    async def scenario() -> None:
        started = time.monotonic()
        result, statuses, _gap, _engine = await sync_pass(inbox, network)
        assert result.error == "Mastodon could not be reached (no connection) — Tend will try again later"
        assert statuses[-1].state is SyncState.ERROR
        assert_backoff_with_jitter(sleep.waits)
        assert time.monotonic() - started < 20
        await network.aclose()

    asyncio.run(scenario())
