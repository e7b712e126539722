"""When Bluesky fails: rate limits, server errors, garbage and silence become clear errors, and nothing is lost."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.connectors.errors import BadResponse, ServerError
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import SyncEngine
from tests.connectors.bluesky_server import BlueskyTestServer, bluesky, connector_for  # noqa: F401


class Waits:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def inbox_path(tmp_path: Path) -> Path:
    return tmp_path / "inbox.db"


@pytest.fixture
def writer(inbox_path: Path) -> Iterator[StoreWriter]:
    writer = StoreWriter(Inbox.open(inbox_path))
    yield writer
    writer.close()


def scalar(path: Path, sql: str) -> object:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(sql).fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def shop_with_questions(server: BlueskyTestServer, count: int = 5):  # noqa: ANN201
    biz = server.business()
    anna = server.world.person("anna.test", followers=10)
    posts = [server.world.mention(anna, biz, f"question {i}") for i in range(count)]
    return biz, posts


def rate_limited(server: BlueskyTestServer, reset_in: float) -> BlueskyTestServer.Response:
    reset = str(int(server.world.now.timestamp() + reset_in))  # epoch seconds, on the clock Tend is given
    return BlueskyTestServer.Response(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                                      headers={"RateLimit-Limit": "3000", "RateLimit-Remaining": "0",
                                               "RateLimit-Reset": reset, "RateLimit-Policy": "3000;w=300"})


@pytest.mark.asyncio
async def test_a_short_rate_limit_is_waited_out_using_the_ratelimit_headers(
    bluesky: BlueskyTestServer,  # noqa: F811
) -> None:
    biz, posts = shop_with_questions(bluesky, 1)
    waits = Waits()
    connector = connector_for(bluesky, biz, sleep=waits)
    bluesky.inject("app.bsky.notification.listNotifications", rate_limited(bluesky, 20))
    pages = [b async for b in connector.fetch_since("notifications", None)]
    assert [p.id for b in pages for p in b.posts] == [f"bluesky:{posts[0].uri}"]
    assert len(waits.calls) == 1 and 15 <= waits.calls[0] <= 21
    await connector.aclose()


@pytest.mark.asyncio
async def test_a_long_rate_limit_stops_the_pass_and_keeps_the_cursor(
    bluesky: BlueskyTestServer, writer: StoreWriter, inbox_path: Path  # noqa: F811
) -> None:
    biz, _posts = shop_with_questions(bluesky, 5)
    connector = connector_for(bluesky, biz, page_size=2)
    await writer.call(Inbox.ensure_account, connector.account)
    bluesky.inject("app.bsky.notification.listNotifications", rate_limited(bluesky, 900), after=1)
    (result,) = await SyncEngine(writer, [connector]).sync_once()
    assert isinstance(result.retry_after, float) and 800 < result.retry_after <= 900
    assert "slow down" in (result.error or "")
    assert scalar(inbox_path, "SELECT count(*) FROM posts") == 2  # the page read before the limit is kept
    assert scalar(inbox_path, "SELECT cursor FROM sync_cursors") is None  # but the cursor did not move past it
    assert bluesky.world.seen_at == []
    (result,) = await SyncEngine(writer, [connector]).sync_once()  # later: everything arrives
    assert result.error is None and scalar(inbox_path, "SELECT count(*) FROM posts") == 5
    assert scalar(inbox_path, "SELECT cursor FROM sync_cursors") == bluesky.world.notifications[0]["indexedAt"]
    await connector.aclose()


@pytest.mark.asyncio
async def test_server_errors_while_reading_a_thread_are_retried_then_reported(
    bluesky: BlueskyTestServer, writer: StoreWriter, inbox_path: Path  # noqa: F811
) -> None:
    biz, _posts = shop_with_questions(bluesky, 3)
    waits = Waits()
    connector = connector_for(bluesky, biz, sleep=waits)
    await writer.call(Inbox.ensure_account, connector.account)
    boom = BlueskyTestServer.Response(502, body=b"<html>Bad Gateway</html>")
    bluesky.inject("app.bsky.feed.getPostThread", boom, boom)  # two failures, then it works
    (result,) = await SyncEngine(writer, [connector]).sync_once()
    assert result.error is None and result.new_posts == 3 and len(waits.calls) == 2
    bluesky.inject("app.bsky.feed.getPostThread", *[boom] * 4)
    bluesky.world.mention(bluesky.world.people[_posts[0].author.did], biz, "one more")
    (result,) = await SyncEngine(writer, [connector]).sync_once()
    assert "Bluesky is having trouble (server error 502)" in (result.error or "")
    assert scalar(inbox_path, "SELECT count(*) FROM posts") == 3
    await connector.aclose()


@pytest.mark.parametrize(("fault", "words"), [
    (BlueskyTestServer.Response(200, body=b"<!doctype html><h1>Maintenance</h1>"), "could not read"),
    (BlueskyTestServer.Response(200, json={"notifications": "none"}), "could not understand"),
    (BlueskyTestServer.Response(200, json=[1, 2, 3]), "could not read"),
    (BlueskyTestServer.Response(200, json={"notifications": [{"uri": 5}]}), "could not understand"),
])
@pytest.mark.asyncio
async def test_garbage_is_a_bad_response_and_nothing_is_stored(
    bluesky: BlueskyTestServer, writer: StoreWriter, inbox_path: Path, fault: object, words: str  # noqa: F811
) -> None:
    biz, _posts = shop_with_questions(bluesky, 2)
    connector = connector_for(bluesky, biz)
    bluesky.inject("app.bsky.notification.listNotifications", fault)
    with pytest.raises(BadResponse, match=words):
        [b async for b in connector.fetch_since("notifications", None)]
    await writer.call(Inbox.ensure_account, connector.account)
    bluesky.inject("app.bsky.notification.listNotifications", fault)
    (result,) = await SyncEngine(writer, [connector]).sync_once()
    assert words in (result.error or "") and scalar(inbox_path, "SELECT count(*) FROM sync_cursors") == 0
    await connector.aclose()


@pytest.mark.asyncio
async def test_a_cut_off_answer_is_an_incomplete_reply(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    biz, _posts = shop_with_questions(bluesky, 1)
    connector = connector_for(bluesky, biz)
    await connector.fetch_authors([biz.did])
    cut = BlueskyTestServer.Response(200, json={"profiles": [{"did": biz.did, "handle": "shop.test"}]},
                                     truncate_to=10)
    bluesky.inject("app.bsky.actor.getProfiles", *[cut] * 4)
    with pytest.raises(BadResponse, match="incomplete reply"):
        await connector.fetch_authors([biz.did])
    await connector.aclose()


@pytest.mark.asyncio
async def test_silence_is_a_timeout(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    biz, _posts = shop_with_questions(bluesky, 1)
    connector = connector_for(bluesky, biz, timeout=0.3)
    await connector.fetch_authors([biz.did])
    bluesky.inject("app.bsky.actor.getProfiles", *[BlueskyTestServer.Response(delay=2)] * 4)
    with pytest.raises(ServerError, match="not answering"):
        await connector.fetch_authors([biz.did])
    await connector.aclose()


@pytest.mark.asyncio
async def test_a_nearly_spent_budget_slows_polling_down(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    biz, _posts = shop_with_questions(bluesky, 1)
    connector = connector_for(bluesky, biz)
    reset = str(int(bluesky.world.now.timestamp()) + 300)
    bluesky.inject("app.bsky.actor.getProfiles", BlueskyTestServer.Response(
        200, {"profiles": []}, headers={"RateLimit-Limit": "3000", "RateLimit-Remaining": "2",
                                        "RateLimit-Reset": reset}))
    await connector.fetch_authors([biz.did])
    assert connector.suggested_delay(60) > 100  # 2 calls left for 300 s: spread them out
    await connector.aclose()
