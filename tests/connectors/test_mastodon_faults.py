"""Faults injected through the local Mastodon server: the connector slows down, retries, or says plainly what broke,
and with the real sync engine and inbox nothing fetched is lost, nothing is duplicated and no cursor runs ahead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.connectors.errors import AuthExpired, BadResponse, RateLimited, ServerError
from console.domain import iso_utc
from tests.connectors.mastodon_server import (  # noqa: F401 - mastodon_server is a fixture
    NOW,
    Clock,
    MastodonTestServer,
    make_account,
    make_connector,
    mastodon_server,
    new_inbox,
    query,
    recorded_notification,
    sync_into,
)

MENTIONS = ("25", "24", "23", "21", "20")
NOTIFICATIONS = "/api/v1/notifications"


def serve_mentions(server: MastodonTestServer, ids=MENTIONS) -> None:
    notes = [recorded_notification(n) for n in ids]
    server.timeline(NOTIFICATIONS, notes)
    server.publish(*(n["status"] for n in notes))


async def first_sync(connector):
    batches = [b async for b in connector.fetch_since("notifications", None)]
    await connector.aclose()
    return batches


@pytest.fixture
def inbox_path(tmp_path: Path, mastodon_server: MastodonTestServer) -> Path:
    return new_inbox(tmp_path / "inbox.db", make_account(mastodon_server))


def stored(path: Path) -> tuple[int, int, list]:
    [(total, distinct)] = query(path, "SELECT count(*), count(DISTINCT id) FROM posts")
    return total, distinct, query(path, "SELECT cursor FROM sync_cursors WHERE stream = 'notifications'")


# ------------------------------------------------------------------------------------------------ rate limits


@pytest.mark.asyncio
async def test_a_short_429_is_waited_out_using_the_reset_header(mastodon_server, fake_sleep):
    serve_mentions(mastodon_server, ("20",))
    reset = iso_utc(NOW.replace(second=30))
    mastodon_server.inject("GET", NOTIFICATIONS, mastodon_server.Response(
        429, json={"error": "Too many requests"},
        headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}))
    batches = await first_sync(make_connector(mastodon_server, fake_sleep))
    assert len(batches) == 1 and len(batches[0].posts) == 1
    [waited] = fake_sleep.calls
    assert 29.9 < waited <= 30.0
    assert len(mastodon_server.requests_to(NOTIFICATIONS)) == 2


@pytest.mark.asyncio
async def test_a_long_429_stops_the_sync_with_when_to_come_back(mastodon_server, fake_sleep, inbox_path):
    serve_mentions(mastodon_server)
    reset = iso_utc(NOW.replace(minute=10))
    mastodon_server.inject("GET", NOTIFICATIONS, mastodon_server.Response(
        429, json={"error": "Too many requests"},
        headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}), after=1)
    result = await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep, page_size=2))
    assert result.error is not None and "slow down" in result.error
    assert 590 < result.retry_after <= 600
    assert fake_sleep.calls == []  # ten minutes is not waited inside a sync: the engine schedules it
    total, distinct, cursor = stored(inbox_path)
    assert (total, distinct, cursor) == (2, 2, [])  # the first page is kept; the cursor did not move past it


@pytest.mark.asyncio
async def test_a_nearly_spent_budget_slows_the_poller(mastodon_server, fake_sleep):
    serve_mentions(mastodon_server, ("20",))
    # recorded: X-RateLimit-* as real Mastodon sends them (ISO 8601 reset), here with 3 calls left for 5 minutes
    mastodon_server.inject("GET", NOTIFICATIONS, mastodon_server.Response(json=[], headers={
        "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": iso_utc(NOW.replace(minute=5))}))
    connector = make_connector(mastodon_server, fake_sleep)
    assert connector.suggested_delay(60.0) == 60.0
    await first_sync(connector)
    assert 99 < connector.suggested_delay(60.0) <= 100  # 300 s left / 3 calls


# ------------------------------------------------------------------------------------------------ retries


@pytest.mark.asyncio
async def test_server_errors_are_retried_with_backoff(mastodon_server, fake_sleep):
    serve_mentions(mastodon_server, ("20",))
    R = mastodon_server.Response
    mastodon_server.inject("GET", NOTIFICATIONS, R(500, body=b"oops"), R(502, body=b"bad gateway"))
    mastodon_server.inject("GET", "/api/v1/statuses/117020576916218297/context", R(503))
    [batch] = await first_sync(make_connector(mastodon_server, fake_sleep))
    assert len(batch.posts) == 1 and batch.cursor == "20"
    assert fake_sleep.calls == [0.5, 1.0, 0.5]


@pytest.mark.asyncio
async def test_server_errors_that_persist_end_in_server_error(mastodon_server, fake_sleep):
    mastodon_server.inject("GET", NOTIFICATIONS, *[mastodon_server.Response(500)] * 4)
    with pytest.raises(ServerError) as caught:
        await first_sync(make_connector(mastodon_server, fake_sleep))
    assert "Mastodon is having trouble" in str(caught.value)


@pytest.mark.asyncio
async def test_a_timeout_is_retried_and_a_persistent_one_reported(mastodon_server, fake_sleep):
    serve_mentions(mastodon_server, ("20",))
    slow = mastodon_server.Response(json=[], delay=2.0)
    mastodon_server.inject("GET", NOTIFICATIONS, slow)
    [batch] = await first_sync(make_connector(mastodon_server, fake_sleep, read_timeout=0.1))
    assert len(batch.posts) == 1

    mastodon_server.inject("GET", NOTIFICATIONS, *[slow] * 4)
    with pytest.raises(ServerError) as caught:
        await first_sync(make_connector(mastodon_server, fake_sleep, read_timeout=0.1))
    assert "not answering" in str(caught.value)


@pytest.mark.asyncio
async def test_a_cut_off_or_dropped_answer_is_retried(mastodon_server, fake_sleep):
    serve_mentions(mastodon_server, ("20",))
    R = mastodon_server.Response
    whole = json.dumps([recorded_notification("20")]).encode()
    mastodon_server.inject("GET", NOTIFICATIONS, R(body=whole, truncate_to=100), R(drop=True))
    [batch] = await first_sync(make_connector(mastodon_server, fake_sleep))
    assert len(batch.posts) == 1 and len(mastodon_server.requests_to(NOTIFICATIONS)) == 3

    mastodon_server.inject("GET", NOTIFICATIONS, *[R(body=whole, truncate_to=100)] * 4)
    with pytest.raises(BadResponse) as caught:
        await first_sync(make_connector(mastodon_server, fake_sleep))
    assert str(caught.value).startswith("Mastodon sent an incomplete reply")


@pytest.mark.asyncio
async def test_a_body_that_is_not_json_is_a_bad_response(mastodon_server, fake_sleep):
    mastodon_server.inject("GET", NOTIFICATIONS, mastodon_server.Response(
        200, body=b"<html><body>502 Bad Gateway</body></html>", headers={"Content-Type": "text/html"}))
    with pytest.raises(BadResponse) as caught:
        await first_sync(make_connector(mastodon_server, fake_sleep))
    assert str(caught.value) == "Mastodon sent a reply Tend could not read — Tend will try again later"


def _mention_with(**changes) -> dict:
    note = recorded_notification("20")
    for dotted, value in changes.items():
        target = note
        *path, last = dotted.split("__")
        for key in path:
            target = target[key]
        if value is KeyError:
            target.pop(last)
        else:
            target[last] = value
    return note


@pytest.mark.parametrize("payload", [
    {"error": "not a list"},
    ["not an object"],
    [_mention_with(id=KeyError)],
    [_mention_with(id="../../admin")],
    [_mention_with(type=7)],
    [_mention_with(created_at="yesterday")],
    [_mention_with(status__account=KeyError)],
    [_mention_with(status__account__acct=None)],
    [_mention_with(status__reblogs_count="many")],
    [_mention_with(status__media_attachments={"type": "image"})],
    [_mention_with(status__mentions="@ann")],
    [_mention_with(status__content=["<p>"])],
], ids=lambda p: json.dumps(p)[:40])
@pytest.mark.asyncio
async def test_json_of_the_wrong_shape_is_a_bad_response_naming_mastodon(mastodon_server, fake_sleep, payload):
    mastodon_server.publish(recorded_notification("20")["status"])
    mastodon_server.inject("GET", NOTIFICATIONS, mastodon_server.Response(json=payload))
    with pytest.raises(BadResponse) as caught:
        await first_sync(make_connector(mastodon_server, fake_sleep))
    assert str(caught.value) == "Mastodon sent a reply Tend could not understand — Tend will try again later"
    assert caught.value.detail.startswith("Mastodon ")


# ------------------------------------------------------------------------------------------------ with the engine


@pytest.mark.asyncio
async def test_revoked_access_mid_first_sync_keeps_the_pages_before_it(mastodon_server, fake_sleep, inbox_path):
    serve_mentions(mastodon_server)
    mastodon_server.inject("GET", NOTIFICATIONS, mastodon_server.Response(
        401, json={"error": "The access token is invalid"}), after=1)  # recorded 401 body
    result = await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep, page_size=2))

    assert result.error == "Mastodon access was revoked or has expired; reconnect the account"
    assert stored(inbox_path) == (2, 2, [])  # page one kept, no cursor: the first sync was not finished
    assert query(inbox_path, "SELECT needs_reconnect FROM accounts") == [(1,)]

    again = await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep, page_size=2))
    assert again.error is None and again.new_posts == 3
    assert stored(inbox_path) == (5, 5, [("25",)])


@pytest.mark.asyncio
async def test_revoked_access_mid_later_sync_keeps_the_cursor_at_the_stored_page(mastodon_server, fake_sleep,
                                                                                inbox_path):
    serve_mentions(mastodon_server, ("21", "20"))
    clock = Clock()
    await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep, clock=clock))
    assert stored(inbox_path) == (2, 2, [("21",)])

    serve_mentions(mastodon_server)  # 23, 24 and 25 arrive
    mastodon_server.inject("GET", NOTIFICATIONS, mastodon_server.Response(
        401, json={"error": "The access token is invalid"}), after=1)
    clock.advance(minutes=1)
    result = await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep, clock=clock, page_size=2))
    assert isinstance(result.error, str) and "reconnect" in result.error
    assert stored(inbox_path) == (4, 4, [("24",)])
    assert [r.params.get("min_id") for r in mastodon_server.requests_to(NOTIFICATIONS)][-2:] == [["21"], ["24"]]

    clock.advance(minutes=1)
    again = await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep, clock=clock, page_size=2))
    assert again.error is None and again.new_posts == 1
    assert stored(inbox_path) == (5, 5, [("25",)])


@pytest.mark.asyncio
async def test_auth_and_rate_limit_errors_keep_their_types(mastodon_server, fake_sleep):
    mastodon_server.inject("GET", NOTIFICATIONS, mastodon_server.Response(401, json={"error": "revoked"}))
    with pytest.raises(AuthExpired):
        await first_sync(make_connector(mastodon_server, fake_sleep))
    mastodon_server.inject("GET", NOTIFICATIONS, mastodon_server.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimited) as caught:
        await first_sync(make_connector(mastodon_server, fake_sleep))
    assert caught.value.retry_after == 3600
