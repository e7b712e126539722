"""Answering on Bluesky: the record Tend writes (reply refs, facets by bytes, its own key), sent exactly once."""

from __future__ import annotations

import re

import pytest

from console.connectors.base import OutgoingReply
from console.connectors.bluesky_reply import encode_tid, reply_rkey
from console.connectors.errors import ConnectorError, ServerError
from console.domain import Direction, Post, Visibility
from tests.connectors.bluesky_server import BlueskyTestServer, bluesky, connector_for  # noqa: F401

TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")


async def conversation(server: BlueskyTestServer, timeout: float = 5.0):  # noqa: ANN201
    world = server.world
    biz = server.business()
    anna = world.person("anna.test")
    root = world.mention(anna, biz, "is the terrace open?")
    follow_up = world.reply(anna, root, "and for dogs?")
    connector = connector_for(server, biz, timeout=timeout)
    posts = {p.id: p for p in await connector.fetch_thread(f"bluesky:{root.uri}")}
    return connector, biz, anna, root, follow_up, posts


def answer(parent: Post, text: str, key: str = "outbox-1", visibility: Visibility = Visibility.PUBLIC) -> OutgoingReply:
    return OutgoingReply(in_reply_to=parent, text=text, visibility=visibility, idempotency_key=key)


@pytest.mark.asyncio
async def test_a_reply_names_root_and_parent_with_their_cids_and_marks_mentions_and_links_by_bytes(
    bluesky: BlueskyTestServer,  # noqa: F811
) -> None:
    connector, biz, anna, root, follow_up, posts = await conversation(bluesky)
    text = "Oui 🐕 @anna.test! Terrace menu: https://shop.example/terrasse"

    sent = await connector.send_reply(answer(posts[f"bluesky:{follow_up.uri}"], text))

    (create,) = bluesky.requests_to("com.atproto.repo.createRecord")
    body = create.json()
    assert (body["repo"], body["collection"]) == (biz.did, "app.bsky.feed.post") and TID.fullmatch(body["rkey"])
    record = body["record"]
    assert record["$type"] == "app.bsky.feed.post" and record["text"] == text
    assert record["reply"] == {"root": {"uri": root.uri, "cid": root.cid},
                               "parent": {"uri": follow_up.uri, "cid": follow_up.cid}}
    data = text.encode()
    mention, link = record["facets"]
    assert mention["features"] == [{"$type": "app.bsky.richtext.facet#mention", "did": anna.did}]
    assert (mention["index"]["byteStart"], mention["index"]["byteEnd"]) == (9, 19)  # after "Oui 🐕 " (4+4+1 bytes)
    assert data[9:19].decode() == "@anna.test"
    assert link["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": "https://shop.example/terrasse"}]
    assert data[link["index"]["byteStart"]:link["index"]["byteEnd"]].decode() == "https://shop.example/terrasse"
    assert create.bearer in bluesky.world.access

    assert sent.id == f"bluesky:at://{biz.did}/app.bsky.feed.post/{body['rkey']}"
    assert (sent.thread_id, sent.parent_id) == (f"bluesky:{root.uri}", f"bluesky:{follow_up.uri}")
    assert (sent.direction, sent.visibility, sent.author_id) == (Direction.OUT, Visibility.PUBLIC,
                                                                 f"bluesky:{biz.did}")
    assert sent.text == text and sent.url.startswith("https://bsky.app/profile/shop.test/post/")
    # Bluesky now shows it in the thread, as the business's post with the right parent.
    thread = {p.id: p for p in await connector.fetch_thread(f"bluesky:{root.uri}")}
    assert thread[sent.id].parent_id == f"bluesky:{follow_up.uri}" and thread[sent.id].direction is Direction.OUT
    await connector.aclose()


@pytest.mark.asyncio
async def test_a_retried_send_returns_the_first_post_instead_of_posting_twice(
    bluesky: BlueskyTestServer,  # noqa: F811
) -> None:
    connector, biz, _anna, root, _follow_up, posts = await conversation(bluesky)
    parent = posts[f"bluesky:{root.uri}"]
    first = await connector.send_reply(answer(parent, "See you at 9", key="outbox-7"))
    again = await connector.send_reply(answer(parent, "See you at 9", key="outbox-7"))

    assert again.id == first.id and again.text == "See you at 9"
    creates = bluesky.requests_to("com.atproto.repo.createRecord")
    assert len({c.json()["rkey"] for c in creates}) == 1 and len(creates) == 2
    assert [r.param("rkey") for r in bluesky.requests_to("com.atproto.repo.getRecord")] == [creates[0].json()["rkey"]]
    mine = [p for p in bluesky.world.posts.values() if p.author.did == biz.did]
    assert len(mine) == 1
    other = await connector.send_reply(answer(parent, "See you at 9", key="outbox-8"))
    assert other.id != first.id
    await connector.aclose()


@pytest.mark.asyncio
async def test_a_send_that_times_out_before_anything_was_written_fails_and_posts_nothing(
    bluesky: BlueskyTestServer,  # noqa: F811
) -> None:
    connector, biz, _anna, root, _follow_up, posts = await conversation(bluesky, timeout=0.5)
    bluesky.inject("com.atproto.repo.createRecord", bluesky.Response(delay=3))
    with pytest.raises(ServerError):
        await connector.send_reply(answer(posts[f"bluesky:{root.uri}"], "hello"))
    assert len(bluesky.requests_to("com.atproto.repo.createRecord")) == 1  # a POST is never blindly repeated
    assert not [p for p in bluesky.world.posts.values() if p.author.did == biz.did]
    sent = await connector.send_reply(answer(posts[f"bluesky:{root.uri}"], "hello"))  # the outbox tries again
    assert [p.uri for p in bluesky.world.posts.values() if p.author.did == biz.did] == [sent.id[len("bluesky:"):]]
    await connector.aclose()


@pytest.mark.asyncio
async def test_length_is_checked_in_graphemes_before_anything_is_sent(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    connector, _biz, _anna, root, _follow_up, posts = await conversation(bluesky)
    parent = posts[f"bluesky:{root.uri}"]
    bluesky.requests.clear()
    with pytest.raises(ConnectorError, match="301 characters long and Bluesky allows 300; shorten it by 1 character before"):
        await connector.send_reply(answer(parent, "a" * 301))
    assert bluesky.requests == []
    family = "👨‍👩‍👧" * 300  # 300 characters to a reader, 5,400 bytes
    sent = await connector.send_reply(answer(parent, family, key="long"))
    assert sent.text == family
    await connector.aclose()


@pytest.mark.asyncio
async def test_answering_a_deleted_post_says_so(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    connector, _biz, _anna, root, follow_up, posts = await conversation(bluesky)
    bluesky.world.delete(follow_up)
    with pytest.raises(ConnectorError, match="deleted on Bluesky"):
        await connector.send_reply(answer(posts[f"bluesky:{follow_up.uri}"], "hi"))
    assert bluesky.requests_to("com.atproto.repo.createRecord") == []
    await connector.aclose()


def test_record_keys_are_valid_tids_fixed_by_the_idempotency_key() -> None:
    after = "2026-11-25T10:00:00.000Z"
    assert reply_rkey("k1", after) == reply_rkey("k1", after) != reply_rkey("k2", after)
    assert TID.fullmatch(reply_rkey("k1", after)) and TID.fullmatch(reply_rkey("k1", "not a time"))
    assert encode_tid(0, 0) == "2222222222222" and len(encode_tid(2**53 - 1, 1023)) == 13
    assert reply_rkey("k1", after) > encode_tid(1_795_600_000_000_000, 0)  # reads as a moment after the parent


# -- direct messages -------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_direct_answer_goes_into_the_conversation(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    bluesky.enable_chat()
    biz = bluesky.business()
    anna = bluesky.world.person("anna.test")
    convo = bluesky.world.convo(biz, anna)
    bluesky.world.message(convo, anna, "Do you deliver?")
    connector = connector_for(bluesky, biz)
    (page,) = [b async for b in connector.fetch_since("chat", None)]
    (question,) = page.posts

    sent = await connector.send_reply(answer(question, "Yes, within 5 km", visibility=Visibility.DIRECT))

    (send,) = bluesky.requests_to("chat.bsky.convo.sendMessage")
    assert send.json() == {"convoId": convo.id, "message": {"text": "Yes, within 5 km"}}
    assert send.headers["atproto-proxy"] == "did:web:api.bsky.chat#bsky_chat"
    assert (sent.thread_id, sent.visibility, sent.direction) == (f"bluesky:chat/{convo.id}", Visibility.DIRECT,
                                                                 Direction.OUT)
    await connector.aclose()


@pytest.mark.asyncio
async def test_answering_a_public_post_privately_opens_a_conversation_with_its_author(
    bluesky: BlueskyTestServer,  # noqa: F811
) -> None:
    bluesky.enable_chat()
    connector, biz, anna, root, _follow_up, posts = await conversation(bluesky)
    sent = await connector.send_reply(answer(posts[f"bluesky:{root.uri}"], "Let's talk here",
                                             visibility=Visibility.DIRECT))
    (opened,) = bluesky.requests_to("chat.bsky.convo.getConvoForMembers")
    assert opened.params("members") == [anna.did]
    assert sent.visibility is Visibility.DIRECT and bluesky.requests_to("com.atproto.repo.createRecord") == []
    await connector.aclose()


@pytest.mark.asyncio
async def test_without_chat_a_direct_answer_fails_plainly_and_nothing_is_posted_publicly(
    bluesky: BlueskyTestServer,  # noqa: F811
) -> None:
    connector, _biz, _anna, root, _follow_up, posts = await conversation(bluesky)
    with pytest.raises(ConnectorError, match="direct messages are not available for this account"):
        await connector.send_reply(answer(posts[f"bluesky:{root.uri}"], "psst", visibility=Visibility.DIRECT))
    assert bluesky.requests_to("com.atproto.repo.createRecord") == []
    await connector.aclose()
