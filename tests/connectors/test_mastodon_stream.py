"""The live stream: recorded server-sent events wake the poller; a stream that drops or is missing says so."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from console.connectors.errors import AuthExpired, ServerError
from console.connectors.mastodon_stream import server_sent_events, streaming_base
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import SyncEngine
from tests.connectors.mastodon_server import (  # noqa: F401 - mastodon_server is a fixture
    TOKEN,
    Response,
    cassette,
    make_account,
    make_connector,
    mastodon_server,
    new_inbox,
    query,
    recorded_notification,
)

STREAM = "/api/v1/streaming/user/notification"


def recorded_user_stream() -> Response:
    """recorded: test_stream_user_direct.yaml, the user stream: updates, two notifications, an edit, a delete."""
    [interaction] = [i for i in cassette("test_stream_user_direct") if i.path == "/api/v1/streaming/user"]
    return Response.from_interaction(interaction)


async def drain(connector) -> tuple[int, BaseException | None]:
    woken = 0
    try:
        async for _ in connector.watch():
            woken += 1
    except Exception as error:  # noqa: BLE001 - the test inspects it
        return woken, error
    return woken, None


@pytest.mark.asyncio
async def test_recorded_events_wake_the_poller_then_the_dropped_stream_is_reported(mastodon_server, fake_sleep):
    mastodon_server.replay("test_instance")  # recorded: streaming at ws://localhost:4000
    mastodon_server.respond("GET", STREAM, recorded_user_stream())
    connector = make_connector(mastodon_server, fake_sleep)
    woken, error = await drain(connector)

    assert woken == 6  # update, notification, update, notification, status.update, delete
    assert isinstance(error, ServerError) and "live updates stopped" in str(error)
    [request] = mastodon_server.requests_to(STREAM)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "text/event-stream"

    # The deletion the stream announced is stored by the next sync.
    batches = [b async for b in connector.fetch_since("notifications", "99")]
    assert [b.deleted_post_ids for b in batches] == [(f"mastodon:{mastodon_server.host}/117024236332527350",)]
    assert batches[0].cursor is None  # a deletion moves no cursor
    assert [b async for b in connector.fetch_since("notifications", "99")] == []  # reported once
    await connector.aclose()


@pytest.mark.asyncio
async def test_a_server_without_streaming_is_reported_at_once(mastodon_server, fake_sleep):
    mastodon_server.replay("test_instance")
    mastodon_server.respond("GET", STREAM, Response(404, json={"error": "Streaming is not enabled"}))
    connector = make_connector(mastodon_server, fake_sleep)
    woken, error = await drain(connector)
    await connector.aclose()
    assert woken == 0 and isinstance(error, ServerError)
    assert str(error) == ("Mastodon's live updates are not available right now; "
                          "Tend checks for new messages regularly instead")


@pytest.mark.asyncio
async def test_a_silent_stream_counts_as_dropped(mastodon_server, fake_sleep):
    mastodon_server.replay("test_instance")
    mastodon_server.respond("GET", STREAM, Response(events=(b":)\n\n",), hold_open=True))
    connector = make_connector(mastodon_server, fake_sleep, stream_idle_timeout=0.2)
    started = time.monotonic()
    woken, error = await drain(connector)
    await connector.aclose()
    assert woken == 0 and isinstance(error, ServerError)
    assert time.monotonic() - started < 3


@pytest.mark.asyncio
async def test_heartbeats_keep_a_quiet_stream_alive(mastodon_server, fake_sleep):
    mastodon_server.replay("test_instance")
    beats = tuple([b":thump\n\n"] * 4) + (b"event: notification\ndata: {}\n\n",)
    mastodon_server.respond("GET", STREAM, Response(events=beats, event_gap=0.1))
    connector = make_connector(mastodon_server, fake_sleep, stream_idle_timeout=1.5)
    woken, error = await drain(connector)
    await connector.aclose()
    assert woken == 1 and isinstance(error, ServerError)


@pytest.mark.asyncio
async def test_a_revoked_token_on_the_stream_is_auth_expired(mastodon_server, fake_sleep):
    mastodon_server.respond("GET", STREAM, Response(401, json={"error": "The access token is invalid"}))
    connector = make_connector(mastodon_server, fake_sleep)
    woken, error = await drain(connector)
    await connector.aclose()
    assert isinstance(error, AuthExpired)
    assert mastodon_server.requests_to("/api/v2/instance")  # no streaming URL advertised: the server's own


@pytest.mark.asyncio
async def test_the_engine_syncs_again_when_the_stream_says_so(mastodon_server, fake_sleep, tmp_path: Path):
    mastodon_server.replay("test_instance")
    note = recorded_notification("20")
    mastodon_server.publish(note["status"])
    mastodon_server.timeline("/api/v1/notifications", [note])
    event = b"event: notification\ndata: {}\n\n"
    mastodon_server.respond("GET", STREAM, Response(events=(b":)\n", event), event_gap=0.3, hold_open=True))
    inbox_path = new_inbox(tmp_path / "inbox.db", make_account(mastodon_server))
    writer = StoreWriter(Inbox.open(inbox_path))
    engine = SyncEngine(writer, [make_connector(mastodon_server, fake_sleep)], interval=3600)
    engine.start()
    try:
        for _ in range(100):
            if len(mastodon_server.requests_to("/api/v1/notifications")) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await engine.stop()
        writer.close()
    listing = mastodon_server.requests_to("/api/v1/notifications")
    assert len(listing) == 2 and listing[1].params["min_id"] == ["20"]
    assert query(inbox_path, "SELECT count(*) FROM posts") == [(1,)]


# ------------------------------------------------------------------------------------------------ pieces


@pytest.mark.asyncio
async def test_server_sent_events_are_parsed_like_the_spec_says():
    async def lines():
        for line in [":)", "event: update", "data: {\"a\":", "data: 1}", "", ":thump", "", "data:x", "",
                     "event: delete", "data: 42", ""]:
            yield line

    events = [(e.name, e.data) async for e in server_sent_events(lines())]
    assert events == [("update", '{"a":\n1}'), ("message", "x"), ("delete", "42")]


def test_streaming_base_turns_websocket_urls_into_http_and_refuses_plain_http_elsewhere():
    assert streaming_base("wss://streaming.example.social", "https://example.social") == \
        "https://streaming.example.social"
    assert streaming_base("ws://127.0.0.1:4000/", "http://127.0.0.1:3000") == "http://127.0.0.1:4000"
    assert streaming_base("ws://streaming.example.social", "https://example.social") == "https://example.social"
    assert streaming_base("", "https://example.social/") == "https://example.social"
