"""Bluesky payloads as records, starting from answers recorded from live bsky.social (fixtures/bluesky/responses)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.connectors.bluesky_chat import parse_message
from console.connectors.bluesky_parse import (
    PASSING_OBSERVATION, PageBuilder, Scope, flatten_thread, parse_author, parse_notification, parse_post, post_url,
)
from console.connectors.bluesky_session import pds_endpoint, token_expiry
from console.connectors.errors import BadResponse
from console.domain import Attachment, Direction, Visibility

RESPONSES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "bluesky" / "responses"
SDK = "did:plc:kvwvcn5iqfooopmyzvb4qzba"  # the account the recordings were made with
NOW = "2026-11-25T12:00:00.000Z"


def recorded(name: str) -> dict:
    return json.loads((RESPONSES / name).read_text())


def scope(business: str = "did:plc:business") -> Scope:
    return Scope("bluesky:" + business, business, NOW)


def test_the_recorded_thread_with_a_picture_and_a_quote_becomes_one_post_with_attachments() -> None:
    thread = recorded("thread_view_post_with_embed_media.json")["thread"]
    items = flatten_thread(thread)
    (view,) = items.posts
    post = parse_post(view, scope(SDK))
    uri = "at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/3kaheyt6vpc22"
    assert post.id == f"bluesky:{uri}" and post.thread_id == post.id and post.parent_id is None
    assert post.author_id == f"bluesky:{SDK}"
    assert post.direction is Direction.OUT and post.visibility is Visibility.PUBLIC
    assert post.created_at == "2023-09-28T12:49:36.735Z"
    assert post.url == "https://bsky.app/profile/test.marshal.dev/post/3kaheyt6vpc22"
    image, quote = post.attachments
    assert image == Attachment("image", "https://cdn.bsky.app/img/feed_fullsize/plain/did:plc:kvwvcn5iqfooopmyzvb4qzba/"
                                        "bafkreic3cp5ky525vsukjvrzxsc2h3jka2gud74l2hgeatw2rhj2qycnmq@jpeg", "")
    assert quote == Attachment("quote", "https://bsky.app/profile/test.marshal.dev/post/3kahesw26il2z",
                               "@test.marshal.dev: test")
    assert (post.reshare_count, post.quote_count, post.like_count, post.reply_count) == (0, 0, 0, 0)


def test_a_customer_post_in_the_recorded_thread_is_incoming() -> None:
    view = recorded("thread_view_post_with_embed_media.json")["thread"]["post"]
    assert parse_post(view, scope()).direction is Direction.IN


def test_the_recorded_did_document_names_the_accounts_own_server() -> None:
    body = recorded("did_doc.json")
    assert pds_endpoint(body["didDoc"], body["did"]) == ("https://shimeji.us-east.host.bsky.network",
                                                         "test.marshal.dev")
    with pytest.raises(BadResponse):
        pds_endpoint(body["didDoc"], "did:plc:someoneelse")


def test_recorded_profiles_become_authors_and_passing_ones_never_overwrite_figures() -> None:
    follows = recorded("get_follows.json")["follows"]
    author = parse_author(follows[0], scope())
    assert (author.id, author.handle, author.display_name) == ("bluesky:did:plc:vpkhqolt662uhesyj6nxm7ys",
                                                               "@why.bsky.team", "Why")
    assert author.url == "https://bsky.app/profile/why.bsky.team" and author.observed_at == NOW
    assert parse_author(follows[0], scope(), full=False).observed_at == PASSING_OBSERVATION
    detailed = {**follows[1], "followersCount": 1200, "followsCount": 80, "postsCount": 4000}
    author = parse_author(detailed, scope())
    assert (author.followers_count, author.following_count, author.posts_count) == (1200, 80, 4000)
    assert author.display_name == "devin ivy 🐋"


def reply_view(uri: str, root: str, parent: str, did: str = "did:plc:cust") -> dict:
    return {"uri": uri, "cid": "bafyx", "author": {"did": did, "handle": "cust.test"}, "indexedAt": NOW,
            "record": {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2026-11-25T11:00:00.000Z",
                       "reply": {"root": {"uri": root, "cid": "c1"}, "parent": {"uri": parent, "cid": "c2"}}},
            "replyCount": 2, "repostCount": 3, "likeCount": 4, "quoteCount": 5}


ROOT = "at://did:plc:cust/app.bsky.feed.post/root"
GONE = "at://did:plc:cust/app.bsky.feed.post/gone"
HIDDEN = "at://did:plc:troll/app.bsky.feed.post/hidden"


def test_a_thread_with_deleted_and_blocked_items_keeps_everything_readable() -> None:
    me = reply_view("at://did:plc:cust/app.bsky.feed.post/me", ROOT, GONE)
    child = reply_view("at://did:plc:business/app.bsky.feed.post/ans", ROOT, me["uri"], "did:plc:business")
    thread = {
        "$type": "app.bsky.feed.defs#threadViewPost", "post": me,
        "parent": {"$type": "app.bsky.feed.defs#notFoundPost", "uri": GONE, "notFound": True},
        "replies": [
            {"$type": "app.bsky.feed.defs#threadViewPost", "post": child, "replies": []},
            {"$type": "app.bsky.feed.defs#blockedPost", "uri": HIDDEN, "blocked": True,
             "author": {"did": "did:plc:troll", "viewer": {}}},
            "garbage",
        ],
    }
    items = flatten_thread(thread)
    assert [p["uri"] for p in items.posts] == [me["uri"], child["uri"]]
    assert items.not_found == [GONE] and items.blocked == [HIDDEN]
    posts = [parse_post(p, scope()) for p in items.posts]
    assert [p.thread_id for p in posts] == [f"bluesky:{ROOT}"] * 2
    assert posts[0].parent_id == f"bluesky:{GONE}" and posts[1].direction is Direction.OUT
    assert (posts[0].reshare_count, posts[0].quote_count, posts[0].like_count, posts[0].reply_count) == (3, 5, 4, 2)


def test_a_client_claiming_a_future_date_is_dated_when_bluesky_saw_it() -> None:
    view = reply_view("at://did:plc:cust/app.bsky.feed.post/x", ROOT, ROOT)
    view["record"]["createdAt"] = "2099-01-01T00:00:00Z"
    assert parse_post(view, scope()).created_at == NOW


@pytest.mark.parametrize("broken", [
    None, [], {"uri": "not-at-uri"}, {"uri": ROOT, "author": {"did": "nope"}, "record": {}},
    {"uri": ROOT, "author": {"did": "did:plc:x"}, "record": "text"},
])
def test_malformed_posts_are_bad_responses_and_the_page_builder_skips_them(broken: object) -> None:
    with pytest.raises(BadResponse):
        parse_post(broken, scope())
    page = PageBuilder(scope())
    assert page.add_post(broken) is None and not page  # type: ignore[arg-type]


def test_notifications_need_a_time_and_an_address() -> None:
    item = {"uri": ROOT, "cid": "c", "reason": "mention", "indexedAt": NOW, "isRead": False,
            "author": {"did": "did:plc:cust", "handle": "cust.test"}, "record": {}}
    assert parse_notification(item).indexed_at == NOW
    with pytest.raises(BadResponse):
        parse_notification({**item, "indexedAt": "yesterday"})
    with pytest.raises(BadResponse):
        parse_notification({**item, "uri": 7})


def test_chat_messages_are_direct_and_deleted_ones_are_skipped() -> None:
    message = {"$type": "chat.bsky.convo.defs#messageView", "id": "m1", "rev": "r", "text": "Open today?",
               "sender": {"did": "did:plc:cust"}, "sentAt": "2026-11-25T10:00:00.000Z"}
    post = parse_message(message, "c1", scope())
    assert post is not None
    assert (post.id, post.thread_id, post.visibility) == ("bluesky:chat/c1/m1", "bluesky:chat/c1", Visibility.DIRECT)
    deleted = {"$type": "chat.bsky.convo.defs#deletedMessageView", "id": "m2", "rev": "r",
               "sender": {"did": "did:plc:cust"}, "sentAt": NOW}
    assert parse_message(deleted, "c1", scope()) is None


def test_web_addresses_and_token_expiry() -> None:
    assert post_url("at://did:plc:x/app.bsky.feed.like/abc") == ""
    assert post_url("at://did:plc:x/app.bsky.feed.post/abc") == "https://bsky.app/profile/did:plc:x/post/abc"
    assert token_expiry("not.a.jwt") is None and token_expiry("") is None
