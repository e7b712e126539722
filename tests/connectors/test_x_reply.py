"""Answering on X: what X receives, the post Tend keeps, the length check before sending, and a send whose outcome
is unknown looked up on X instead of posted twice."""

from __future__ import annotations

import pytest

from console.connectors.base import OutgoingReply
from console.connectors.errors import ConnectorError, RateLimited, ServerError
from console.connectors.x_api import Forbidden
from console.domain import Direction, Visibility
from tests.connectors.x_server import (  # noqa: F401 - x_server is a fixture
    CONVERSATION, DM_PEER, HAPPYCAMPER, SNOWMAN, TWEEPYDEV, XTestServer, make_connector, pid, problem, tweepy_json,
    x_server,
)

PARENT = "1276035977375477760"  # recorded: @happycamper's "@snowman Ooo, thanks error message, …"
TWEETS = "/2/tweets"
OWN_TWEETS = f"/2/users/{SNOWMAN}/tweets"


async def parent_post(connector, native: str = PARENT):
    [post] = [p for p in await connector.fetch_thread(pid(CONVERSATION)) if p.id == pid(native)]
    return post


def replies_to(server: XTestServer, parent: str) -> list[dict]:
    return [t for t in server.tweets.values()
            if any(r["id"] == parent and r["type"] == "replied_to" for r in t.get("referenced_tweets", []))
            and t["author_id"] == SNOWMAN]


# ------------------------------------------------------------------------------------------------ public replies


@pytest.mark.asyncio
async def test_a_public_reply_is_posted_in_reply_to_the_post(x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    parent = await parent_post(connector)
    sent = await connector.send_reply(OutgoingReply(parent, "Glad it helped! Ping us any time.", Visibility.PUBLIC,
                                                    "key-1"))
    await connector.aclose()

    [request] = x_server.requests_to(TWEETS, "POST")
    assert request.json() == {"text": "Glad it helped! Ping us any time.",
                              "reply": {"in_reply_to_tweet_id": PARENT}}
    assert request.headers["content-type"] == "application/json" and request.bearer
    [created] = replies_to(x_server, PARENT)
    assert sent.id == pid(created["id"]) and sent.text == "Glad it helped! Ping us any time."
    assert (sent.parent_id, sent.thread_id) == (parent.id, parent.thread_id) == (pid(PARENT), pid(CONVERSATION))
    assert sent.direction is Direction.OUT and sent.author_id == pid(SNOWMAN)
    assert sent.url == f"https://x.com/snowman/status/{created['id']}" and sent.visibility is Visibility.PUBLIC
    assert sent.created_at == created["created_at"]


def test_the_recorded_create_answer_is_what_the_server_sends() -> None:
    recorded = tweepy_json("test_client_create_and_delete_tweet", "POST", "/2/tweets")
    assert set(recorded["data"]) == {"id", "text"}  # the shape the test server answers POST /2/tweets with


@pytest.mark.asyncio
async def test_too_long_a_reply_is_refused_before_anything_is_sent(x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    parent = await parent_post(connector)
    before = len(x_server.requests)
    # 249 letters, a space and a link: 249 + 1 + 23 = 273; a space and three emoji (2 each): 280, fits. One more: 282.
    text = "a" * 249 + " https://example.com/a/very/long/path/that/x/counts/as/23"
    await connector.send_reply(OutgoingReply(parent, text + " 🎉🎉🎉", Visibility.PUBLIC, "fits"))
    with pytest.raises(ConnectorError) as caught:
        await connector.send_reply(OutgoingReply(parent, text + " 🎉🎉🎉🎉", Visibility.PUBLIC, "too-long"))
    assert str(caught.value) == ("This reply is 282 characters long as X counts them (a link counts 23, an emoji or a "
                                 "CJK character 2) and X allows 280; shorten it by 2 characters before sending.")
    with pytest.raises(ConnectorError, match="empty"):
        await connector.send_reply(OutgoingReply(parent, "   ", Visibility.PUBLIC, "empty"))
    await connector.aclose()
    assert len(x_server.requests_to(TWEETS, "POST")) == 1 and len(x_server.requests) == before + 1


@pytest.mark.asyncio
async def test_a_reply_x_does_not_allow_is_reported_plainly_and_not_retried(x_server: XTestServer,
                                                                           fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    parent = await parent_post(connector)
    x_server.inject("POST", TWEETS, problem(
        403, "Forbidden", "Reply to this conversation is not allowed because you have not been mentioned or "
                          "otherwise engaged by the author of the post you are replying to."))
    with pytest.raises(Forbidden) as caught:
        await connector.send_reply(OutgoingReply(parent, "Hello", Visibility.PUBLIC, "k"))
    await connector.aclose()
    assert str(caught.value).startswith("X refused posting replies: Reply to this conversation is not allowed")
    assert len(x_server.requests_to(TWEETS, "POST")) == 1 and x_server.requests_to(OWN_TWEETS) == []


# ------------------------------------------------------------------------------------------------ unknown outcomes


@pytest.mark.asyncio
async def test_a_reply_published_despite_a_server_error_is_found_and_not_posted_twice(
        x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    parent = await parent_post(connector)
    x_server.inject("POST", TWEETS, x_server.Response(503, body=b"Service Unavailable", commit=True))
    sent = await connector.send_reply(OutgoingReply(parent, "Thanks & welcome: https://example.com/help",
                                                    Visibility.PUBLIC, "key-503"))
    await connector.aclose()

    [created] = replies_to(x_server, PARENT)
    assert sent.id == pid(created["id"]) and sent.thread_id == pid(CONVERSATION) and sent.parent_id == pid(PARENT)
    assert sent.direction is Direction.OUT
    assert len(x_server.requests_to(TWEETS, "POST")) == 1  # never posted again
    [lookup] = x_server.requests_to(OWN_TWEETS)
    assert lookup.params["since_id"] == PARENT and lookup.params["exclude"] == "retweets"
    assert fake_sleep.calls == [2.0]  # a moment for X to show the new post before looking


@pytest.mark.asyncio
async def test_a_reply_lost_in_a_timeout_is_found(x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep, read_timeout=0.3)
    parent = await parent_post(connector)
    x_server.inject("POST", TWEETS, x_server.Response(201, delay=2.0, commit=True))
    sent = await connector.send_reply(OutgoingReply(parent, "On it!", Visibility.PUBLIC, "key-timeout"))
    await connector.aclose()
    assert [pid(t["id"]) for t in replies_to(x_server, PARENT)] == [sent.id]
    assert len(x_server.requests_to(TWEETS, "POST")) == 1


@pytest.mark.asyncio
async def test_a_reply_that_did_not_go_out_is_looked_for_then_sent_once_more(x_server: XTestServer,
                                                                            fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    parent = await parent_post(connector)
    x_server.inject("POST", TWEETS, x_server.Response(500, json={"title": "Internal Server Error"}))
    sent = await connector.send_reply(OutgoingReply(parent, "Second time lucky", Visibility.PUBLIC, "key-500"))
    await connector.aclose()
    assert [pid(t["id"]) for t in replies_to(x_server, PARENT)] == [sent.id]
    assert [r.path for r in x_server.requests if r.method == "POST" or r.path == OWN_TWEETS] == [
        TWEETS, OWN_TWEETS, TWEETS]


@pytest.mark.asyncio
async def test_a_send_left_in_doubt_is_looked_for_first_when_it_is_retried(x_server: XTestServer,
                                                                          fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    parent = await parent_post(connector)
    doubt = x_server.Response(502, body=b"Bad Gateway")
    x_server.inject("POST", TWEETS, doubt, doubt)
    reply = OutgoingReply(parent, "We have refunded your order.", Visibility.PUBLIC, "key-doubt")
    with pytest.raises(ServerError) as caught:
        await connector.send_reply(reply)
    assert "Tend will look for it there again before sending it once more" in str(caught.value)
    # X shows the post late (a gateway answered 502 although the post went through).
    x_server.post(SNOWMAN, "We have refunded your order.", in_reply_to=PARENT)

    again = await connector.send_reply(reply)  # the owner's Retry, same idempotency key
    await connector.aclose()
    assert [pid(t["id"]) for t in replies_to(x_server, PARENT)] == [again.id]
    assert [r.path for r in x_server.requests if r.method == "POST" or r.path == OWN_TWEETS] == [
        TWEETS, OWN_TWEETS, TWEETS, OWN_TWEETS, OWN_TWEETS]


@pytest.mark.asyncio
async def test_a_rate_limited_send_is_not_looked_up(x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    parent = await parent_post(connector)
    x_server.set_budget("POST", TWEETS, remaining=0, reset_in=600)
    with pytest.raises(RateLimited):
        await connector.send_reply(OutgoingReply(parent, "Hello", Visibility.PUBLIC, "k"))
    await connector.aclose()
    assert x_server.requests_to(OWN_TWEETS) == [] and replies_to(x_server, PARENT) == []


# ------------------------------------------------------------------------------------------------ direct messages


@pytest.mark.asyncio
async def test_a_direct_message_answer_goes_to_the_other_person_of_the_conversation(
        x_server: XTestServer, fake_sleep) -> None:
    x_server.message(DM_PEER, TWEEPYDEV, "Where is my parcel?")
    connector = make_connector(x_server, fake_sleep, business=TWEEPYDEV)
    [batch] = [b async for b in connector.fetch_since("dms", None)]
    mine = next(p for p in batch.posts if p.text == "Testing 2")  # the business's own message, answered again
    sent = await connector.send_reply(OutgoingReply(mine, "It left our shop this morning.", Visibility.DIRECT, "dm"))
    await connector.aclose()

    [request] = x_server.requests_to(f"/2/dm_conversations/with/{DM_PEER}/messages", "POST")
    assert request.json() == {"text": "It left our shop this morning."}
    conversation = "750362064426721281-1072250532645998596"
    event = x_server.dm_events[0]
    assert sent.id == f"x:dm/{conversation}/{event['id']}" and sent.thread_id == f"x:dm/{conversation}"
    assert sent.visibility is Visibility.DIRECT and sent.direction is Direction.OUT
    assert sent.author_id == pid(TWEEPYDEV) and sent.text == "It left our shop this morning."


@pytest.mark.asyncio
async def test_a_public_post_can_be_handed_off_to_a_direct_message(x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    parent = await parent_post(connector)
    sent = await connector.send_reply(OutgoingReply(parent, "Could you send us your order number here?",
                                                    Visibility.DIRECT, "handoff"))
    await connector.aclose()
    [request] = x_server.requests_to(f"/2/dm_conversations/with/{HAPPYCAMPER}/messages", "POST")
    assert request.json() == {"text": "Could you send us your order number here?"}
    assert sent.thread_id == f"x:dm/{SNOWMAN}-{HAPPYCAMPER}" and x_server.requests_to(TWEETS, "POST") == []


@pytest.mark.asyncio
async def test_a_direct_message_sent_despite_a_timeout_is_found_and_not_sent_twice(
        x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep, read_timeout=0.3)
    parent = await parent_post(connector)
    path = f"/2/dm_conversations/with/{HAPPYCAMPER}/messages"
    x_server.inject("POST", path, x_server.Response(201, delay=2.0, commit=True))
    sent = await connector.send_reply(OutgoingReply(parent, "Sent you the label.", Visibility.DIRECT, "dm-doubt"))
    await connector.aclose()
    assert len(x_server.requests_to(path, "POST")) == 1
    [lookup] = x_server.requests_to(f"/2/dm_conversations/with/{HAPPYCAMPER}/dm_events")
    assert lookup.params["event_types"] == "MessageCreate"
    [event] = [e for e in x_server.dm_events if e["text"] == "Sent you the label."]
    assert sent.id == f"x:dm/{SNOWMAN}-{HAPPYCAMPER}/{event['id']}"


@pytest.mark.asyncio
async def test_a_reply_to_another_network_is_refused(x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    parent = await parent_post(connector)
    from dataclasses import replace
    with pytest.raises(ConnectorError, match="does not belong to the X account"):
        await connector.send_reply(OutgoingReply(replace(parent, id="mastodon:h/1"), "Hi", Visibility.PUBLIC, "k"))
    await connector.aclose()
