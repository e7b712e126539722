"""Mastodon's live user stream (server-sent events), used only to wake the poller early.

The stream carries no data Tend stores: every event just means "something new is waiting", and the next poll fetches
it through the same paged, cursor-safe path as always. So a lost event costs nothing, and when the stream is missing
or drops, the connector raises ``ServerError`` and the sync engine keeps polling until it can reconnect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass

from console.connectors.errors import AuthExpired, ConnectorError, RateLimited, ServerError
from console.connectors.http import HttpClient, is_loopback_host

STREAM_PATH = "/api/v1/streaming/user/notification"
# Mastodon sends a ":thump" comment about every 15 s; a minute of silence means the connection is gone.
IDLE_TIMEOUT = 60.0
WAKE_EVENTS = frozenset({"notification", "update", "status.update", "delete", "conversation"})
UNAVAILABLE = "Mastodon's live updates are not available right now; Tend checks for new messages regularly instead"
DROPPED = "Mastodon's live updates stopped; Tend checks for new messages regularly until they are back"


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    name: str
    data: str


async def server_sent_events(lines: AsyncIterator[str]) -> AsyncIterator[ServerSentEvent]:
    """Events from an SSE line stream; comments (heartbeats) are skipped, an event ends at a blank line."""
    name, data = "message", []
    async for line in lines:
        if not line:
            if data:
                yield ServerSentEvent(name, "\n".join(data))
            name, data = "message", []
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "event":
            name = value
        elif key == "data":
            data.append(value)


def streaming_base(advertised: str, server_url: str) -> str:
    """The http(s) origin of the streaming server the instance advertises (as ``wss://``), else the server's own."""
    url = advertised.strip().rstrip("/")
    if url.startswith("wss://"):
        url = "https://" + url[len("wss://"):]
    elif url.startswith("ws://"):
        url = "http://" + url[len("ws://"):]
    if url.startswith("https://"):
        return url
    if url.startswith("http://") and is_loopback_host(url[len("http://"):].split("/")[0].rsplit(":", 1)[0]):
        return url
    return server_url.rstrip("/")


async def follow_notifications(
    http: HttpClient,
    base_url: str,
    *,
    idle_timeout: float = IDLE_TIMEOUT,
    on_delete: Callable[[str], None] = lambda status_id: None,
) -> AsyncIterator[None]:
    """Yield once per event that means new or changed items; raise ``ServerError`` when the stream ends or fails.

    ``on_delete`` hears the id of each status the stream reports deleted, so the next sync can mark it.
    """
    url = base_url.rstrip("/") + STREAM_PATH
    try:
        # aclosing: when the engine stops following, the connection is closed now, not whenever GC gets to it.
        async with aclosing(http.stream_lines(url, headers={"Accept": "text/event-stream"},
                                              idle_timeout=idle_timeout)) as lines, \
                aclosing(server_sent_events(lines)) as events:
            async for event in events:
                if event.name not in WAKE_EVENTS:
                    continue
                if event.name == "delete" and event.data.strip():
                    on_delete(event.data.strip())
                yield None
    except (AuthExpired, RateLimited):
        raise
    except ServerError as error:
        raise ServerError(DROPPED, detail=error.detail, retry_after=error.retry_after) from error
    except ConnectorError as error:  # 404/501 (streaming switched off), garbled or cut-off stream
        raise ServerError(UNAVAILABLE, detail=error.detail) from error
    raise ServerError(DROPPED, detail=f"{url}: the server closed the stream")
