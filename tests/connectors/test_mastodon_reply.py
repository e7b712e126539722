"""Answering on Mastodon: the request the server receives, the post Tend keeps, and the checks before sending."""

from __future__ import annotations

import pytest

from console.connectors.base import OutgoingReply
from console.connectors.errors import ConnectorError, ServerError
from console.connectors.mastodon import reply_visibility
from console.domain import Direction, Visibility
from tests.connectors.mastodon_server import (  # noqa: F401 - mastodon_server is a fixture
    ADMIN,
    TOKEN,
    MastodonTestServer,
    Response,
    cassette,
    make_connector,
    mastodon_server,
    post_id,
    recorded,
    recorded_status,
)

PARENT = "117020583245459824"  # recorded: "Toot, finally!" by @mastodonpy_test_2 (test_status_reply.yaml)
STATUSES = "/api/v1/statuses"


def recorded_reply() -> Response:
    """recorded: @admin's reply "@mastodonpy_test_2 same!" to the parent (test_status_reply.yaml)."""
    [answer] = [i for i in cassette("test_status_reply") if i.method == "POST" and "in_reply_to_id" in
                (i.request_body or "")]
    return Response.from_interaction(answer)


def recorded_direct_post() -> Response:
    """recorded: a direct message as Mastodon returns it after posting (test_status_post[None-direct].yaml)."""
    return Response.from_interaction(cassette("test_status_post[None-direct]")[0])


async def setup(server: MastodonTestServer, sleep, **parent_changes):
    server.replay("test_instance")  # recorded: max_characters 500, 23 characters per URL, streaming URL
    server.publish(recorded_status(PARENT, **parent_changes))
    connector = make_connector(server, sleep, business=ADMIN, handle="admin")
    [parent] = await connector.fetch_thread(post_id(server, PARENT))
    return connector, parent


@pytest.mark.asyncio
async def test_a_public_reply_is_posted_once_with_its_idempotency_key(mastodon_server, fake_sleep):
    connector, parent = await setup(mastodon_server, fake_sleep)
    mastodon_server.respond("POST", STATUSES, recorded_reply())
    sent = await connector.send_reply(OutgoingReply(parent, "@mastodonpy_test_2 same!", Visibility.PUBLIC, "key-1"))
    await connector.aclose()

    [request] = mastodon_server.requests_to(STATUSES, "POST")
    assert request.json() == {"status": "@mastodonpy_test_2 same!", "in_reply_to_id": PARENT, "visibility": "public"}
    assert request.headers["idempotency-key"] == "key-1"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.id == post_id(mastodon_server, "117020583258292382")
    assert (sent.parent_id, sent.thread_id) == (parent.id, parent.thread_id)
    assert (sent.direction, sent.visibility, sent.author_id) == (Direction.OUT, Visibility.PUBLIC,
                                                                 post_id(mastodon_server, ADMIN))
    assert sent.text == f"@mastodonpy_test_2@{mastodon_server.host} same!"


@pytest.mark.asyncio
async def test_a_failed_send_is_retried_with_the_same_key(mastodon_server, fake_sleep):
    connector, parent = await setup(mastodon_server, fake_sleep)
    mastodon_server.inject("POST", STATUSES, Response(502), Response(drop=True))
    mastodon_server.respond("POST", STATUSES, recorded_reply())
    sent = await connector.send_reply(OutgoingReply(parent, "same!", Visibility.PUBLIC, "key-2"))
    await connector.aclose()
    posts = mastodon_server.requests_to(STATUSES, "POST")
    assert len(posts) == 3 and {r.headers["idempotency-key"] for r in posts} == {"key-2"}
    assert sent.id == post_id(mastodon_server, "117020583258292382")


@pytest.mark.asyncio
async def test_a_public_reply_names_the_customer_so_they_are_notified(mastodon_server, fake_sleep):
    connector, parent = await setup(mastodon_server, fake_sleep)
    mastodon_server.respond("POST", STATUSES, recorded_reply())
    await connector.send_reply(OutgoingReply(parent, "same!", Visibility.PUBLIC, "k11"))
    await connector.send_reply(OutgoingReply(parent, f"@mastodonpy_test_2@{mastodon_server.host} same!",
                                             Visibility.PUBLIC, "k12"))
    await connector.aclose()
    first, second = (r.json()["status"] for r in mastodon_server.requests_to(STATUSES, "POST"))
    assert first == "@mastodonpy_test_2 same!"
    assert second == f"@mastodonpy_test_2@{mastodon_server.host} same!"  # already named: left alone


@pytest.mark.asyncio
async def test_moving_to_direct_messages_mentions_the_customer(mastodon_server, fake_sleep):
    connector, parent = await setup(mastodon_server, fake_sleep)
    mastodon_server.respond("POST", STATUSES, recorded_direct_post())
    sent = await connector.send_reply(OutgoingReply(parent, "Let's sort this out here.", Visibility.DIRECT, "k3"))
    again = await connector.send_reply(OutgoingReply(parent, "Hi @mastodonpy_test_2, order no?", Visibility.DIRECT,
                                                     "k4"))
    await connector.aclose()
    first, second = (r.json() for r in mastodon_server.requests_to(STATUSES, "POST"))
    assert first == {"status": "@mastodonpy_test_2 Let's sort this out here.", "in_reply_to_id": PARENT,
                     "visibility": "direct"}
    assert second["status"] == "Hi @mastodonpy_test_2, order no?" and second["visibility"] == "direct"
    assert sent.visibility is Visibility.DIRECT and again.direction is Direction.OUT


@pytest.mark.asyncio
async def test_a_direct_message_to_a_deleted_post_is_refused(mastodon_server, fake_sleep):
    connector, parent = await setup(mastodon_server, fake_sleep)
    mastodon_server.delete(PARENT)
    with pytest.raises(ConnectorError, match="deleted"):
        await connector.send_reply(OutgoingReply(parent, "hello", Visibility.DIRECT, "k5"))
    await connector.aclose()
    assert not mastodon_server.requests_to(STATUSES, "POST")


@pytest.mark.asyncio
async def test_replies_never_widen_who_can_read_the_conversation(mastodon_server, fake_sleep):
    connector, parent = await setup(mastodon_server, fake_sleep, visibility="unlisted")
    mastodon_server.respond("POST", STATUSES, recorded_reply())
    await connector.send_reply(OutgoingReply(parent, "thanks", Visibility.PUBLIC, "k6"))
    await connector.aclose()
    assert mastodon_server.requests_to(STATUSES, "POST")[0].json()["visibility"] == "unlisted"
    assert reply_visibility(Visibility.PUBLIC, Visibility.DIRECT) is Visibility.DIRECT
    assert reply_visibility(Visibility.DIRECT, Visibility.PUBLIC) is Visibility.DIRECT
    assert reply_visibility(Visibility.PUBLIC, Visibility.PRIVATE) is Visibility.PRIVATE


@pytest.mark.asyncio
async def test_a_reply_longer_than_the_server_allows_is_refused_before_sending(mastodon_server, fake_sleep):
    connector, parent = await setup(mastodon_server, fake_sleep)
    with pytest.raises(ConnectorError) as caught:
        await connector.send_reply(OutgoingReply(parent, "@mastodonpy_test_2 " + "x" * 482, Visibility.PUBLIC, "k7"))
    assert str(caught.value) == (f"This reply is 501 characters long and {mastodon_server.host} allows 500; "
                                 "shorten it by 1 characters before sending.")
    assert not mastodon_server.requests_to(STATUSES, "POST")

    # Counted as Mastodon counts: a URL is 23 characters however long.
    mastodon_server.respond("POST", STATUSES, recorded_reply())
    text = "@mastodonpy_test_2 " + "y" * 455 + " https://bakery.example/" + "z" * 200  # 19 + 455 + 1 + 23
    await connector.send_reply(OutgoingReply(parent, text, Visibility.PUBLIC, "k8"))
    await connector.aclose()
    assert len(mastodon_server.requests_to(STATUSES, "POST")) == 1
    assert len(mastodon_server.requests_to("/api/v2/instance")) == 1  # the limit is read once


@pytest.mark.asyncio
async def test_the_character_limit_comes_from_the_server(mastodon_server, fake_sleep):
    instance = recorded("test_instance", "GET", "/api/v2/instance/")
    instance["configuration"]["statuses"]["max_characters"] = 5000
    mastodon_server.respond("GET", "/api/v2/instance", Response(json=instance))
    connector = make_connector(mastodon_server, fake_sleep)
    assert await connector.server_char_limit() == 5000
    await connector.aclose()

    # A server without /api/v2/instance (older Mastodon, Pleroma) says it in v1, or not at all.
    mastodon_server.inject("GET", "/api/v2/instance", Response(404, json={"error": "Not Found"}))
    mastodon_server.inject("GET", "/api/v1/instance", Response(json={"uri": "x", "max_toot_chars": 5000}))
    connector = make_connector(mastodon_server, fake_sleep)
    assert await connector.server_char_limit() == 5000
    await connector.aclose()

    mastodon_server.inject("GET", "/api/v2/instance", Response(404, json={"error": "Not Found"}))
    mastodon_server.inject("GET", "/api/v1/instance", Response(404, json={"error": "Not Found"}))
    connector = make_connector(mastodon_server, fake_sleep)
    assert await connector.server_char_limit() == 500
    await connector.aclose()


@pytest.mark.asyncio
async def test_server_errors_on_send_are_retried_under_one_key_then_reported(mastodon_server, fake_sleep):
    connector, parent = await setup(mastodon_server, fake_sleep)
    mastodon_server.inject("POST", STATUSES, *[Response(500)] * 4)
    with pytest.raises(ServerError):
        await connector.send_reply(OutgoingReply(parent, "hello", Visibility.PUBLIC, "k9"))
    await connector.aclose()
    assert len(mastodon_server.requests_to(STATUSES, "POST")) == 4  # retried, safely: one key for all


@pytest.mark.asyncio
async def test_posts_of_another_server_are_not_answered_here(mastodon_server, fake_sleep):
    connector, parent = await setup(mastodon_server, fake_sleep)
    from dataclasses import replace

    foreign = replace(parent, id="mastodon:other.example/123")
    with pytest.raises(ConnectorError, match="does not belong"):
        await connector.send_reply(OutgoingReply(foreign, "hello", Visibility.PUBLIC, "k10"))
    await connector.aclose()


# ------------------------------------------------------------------------------------------------ people


@pytest.mark.asyncio
async def test_verify_credentials_returns_the_business_profile(mastodon_server, fake_sleep):
    mastodon_server.replay("test_verify_credentials")  # recorded: @mastodonpy_test's own profile
    connector = make_connector(mastodon_server, fake_sleep, business="")
    me = await connector.verify_credentials()
    await connector.aclose()
    profile = recorded("test_verify_credentials", "GET", "/api/v1/accounts/verify_credentials")
    assert me.id == post_id(mastodon_server, profile["id"])
    assert me.handle == f"@mastodonpy_test@{mastodon_server.host}"
    assert (me.followers_count, me.following_count, me.posts_count) == (
        profile["followers_count"], profile["following_count"], profile["statuses_count"])


@pytest.mark.asyncio
async def test_fetch_authors_asks_for_many_at_once(mastodon_server, fake_sleep):
    mastodon_server.replay("test_accounts")  # recorded: GET /api/v1/accounts?id[]=...&id[]=...
    ids = ["117020457910412882", "117020458041994908"]
    connector = make_connector(mastodon_server, fake_sleep)
    authors = await connector.fetch_authors([post_id(mastodon_server, i) for i in ids] + ["bluesky:did:plc:x"])
    await connector.aclose()
    assert [a.handle for a in authors] == [f"@mastodonpy_test@{mastodon_server.host}",
                                           f"@mastodonpy_test_2@{mastodon_server.host}"]
    [request] = mastodon_server.requests_to("/api/v1/accounts")
    assert request.params == {"id[]": ids}


@pytest.mark.asyncio
async def test_fetch_authors_falls_back_to_one_by_one_on_older_servers(mastodon_server, fake_sleep):
    mastodon_server.replay("test_account", only=lambda i: "verify" not in i.path)  # GET /api/v1/accounts/:id
    connector = make_connector(mastodon_server, fake_sleep)
    found = await connector.fetch_authors([post_id(mastodon_server, "117020457910412882"),
                                           post_id(mastodon_server, "999")])
    again = await connector.fetch_authors([post_id(mastodon_server, "117020457910412882")])
    await connector.aclose()
    assert [a.id for a in found] == [post_id(mastodon_server, "117020457910412882")] == [a.id for a in again]
    assert len(mastodon_server.requests_to("/api/v1/accounts")) == 1  # 404 once, then never asked again
