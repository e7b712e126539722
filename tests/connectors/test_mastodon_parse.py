"""Recorded Mastodon payloads as inbox records, and payloads of the wrong shape as plain ``BadResponse``s."""

from __future__ import annotations

import pytest

from console.connectors.errors import BadResponse
from console.connectors.mastodon_parse import (
    PageBuilder,
    Scope,
    instance_settings,
    parse_author,
    parse_context,
    parse_conversation,
    parse_notification,
    parse_status,
)
from console.domain import Attachment, Direction, Visibility
from tests.connectors.mastodon_server import (
    ADMIN,
    BUSINESS,
    recorded,
    recorded_account,
    recorded_notification,
    recorded_status,
)

HOST = "localhost:3000"  # parsed here without the server, so the recorded addresses stay as they are
SCOPE = Scope(account_id="mastodon:mastodonpy_test@localhost:3000", host=HOST, business_id=BUSINESS,
              observed_at="2026-08-03T12:00:00.000Z")


def pid(native: str) -> str:
    return f"mastodon:{HOST}/{native}"


def test_a_recorded_mention_as_a_post():
    status = recorded_notification("20")["status"]
    post = parse_status(status, SCOPE, thread_id=pid(status["id"]))
    assert post.id == pid("117020576916218297") and post.thread_id == post.id and post.parent_id is None
    assert post.author_id == pid(ADMIN) and post.direction is Direction.IN
    assert post.text == "@mastodonpy_test@localhost:3000 hello!"
    assert post.created_at == "2026-08-01T13:51:39.138Z" and post.observed_at == SCOPE.observed_at
    assert post.url == "http://localhost:3000/@admin/117020576916218297"
    assert post.visibility is Visibility.PUBLIC and post.edited_at is None and post.attachments == ()


def test_the_business_posts_are_outgoing_and_replies_name_their_parent():
    status = recorded_status("117020574393907247")  # "Reply!" by @mastodonpy_test
    post = parse_status(status, SCOPE, thread_id=pid("117020574386452629"))
    assert post.direction is Direction.OUT and post.parent_id == pid("117020574386452629")
    assert post.visibility is Visibility.UNLISTED


def test_media_become_attachments_with_alt_text():
    status = recorded_status("117020606035908211")  # recorded "Status with media", no alt text
    [media] = parse_status(status, SCOPE, thread_id="t").attachments
    assert media == Attachment("image", status["media_attachments"][0]["url"], "")
    status["media_attachments"][0]["description"] = "A sourdough loaf <b>fresh</b>"
    [media] = parse_status(status, SCOPE, thread_id="t").attachments
    assert media.description == "A sourdough loaf \u2039b>fresh\u2039/b>"


def test_content_warnings_lead_the_text():
    status = recorded_status("117020583245459824", spoiler_text="order problem")
    assert parse_status(status, SCOPE, thread_id="t").text == "CW: order problem\n\nToot, finally!"


def test_a_boost_is_read_as_the_post_it_boosts():
    boost = recorded("test_status_reblog_unreblog", "POST", "/api/v1/statuses/117020586019094258/reblog")
    post = parse_status(boost, SCOPE, thread_id="t")
    assert post.id == pid("117020586019094258") and post.reshare_count == 1


def test_counts_and_edits_and_unknown_visibility():
    status = recorded_status("117020583245459824", reblogs_count=3, favourites_count=5, replies_count=2,
                             quotes_count=1, edited_at="2026-08-02T05:22:24.192Z", visibility="local")
    post = parse_status(status, SCOPE, thread_id="t")
    assert (post.reshare_count, post.like_count, post.reply_count, post.quote_count) == (3, 5, 2, 1)
    assert post.edited_at == "2026-08-02T05:22:24.192Z"
    assert post.visibility is Visibility.PRIVATE  # never treated as public
    status.pop("quotes_count")  # mastodon-mock and older servers
    assert parse_status(status, SCOPE, thread_id="t").quote_count == 0


def test_authors_have_unambiguous_handles_and_plain_names():
    admin = recorded_account(ADMIN)
    local = parse_author(admin, SCOPE)
    assert (local.id, local.handle, local.display_name) == (pid(ADMIN), "@admin@localhost:3000", "admin")
    remote = parse_author(recorded_account(ADMIN, acct="ann@other.example", display_name="Ann :blobcat: <3 <b>"),
                          SCOPE)
    assert remote.handle == "@ann@other.example" and remote.display_name == "Ann :blobcat: <3 \u2039b>"
    assert (local.followers_count, local.following_count, local.posts_count) == (
        admin["followers_count"], admin["following_count"], admin["statuses_count"])
    assert local.url == "http://localhost:3000/@admin" and local.observed_at == SCOPE.observed_at


def test_envelopes():
    note = parse_notification(recorded_notification("20"))
    assert (note.id, note.type, note.created_at) == ("20", "mention", "2026-08-01T13:51:39.668Z")
    [conversation] = [parse_conversation(c) for c in recorded("test_conversations", "GET", "/api/v1/conversations")
                      if c["id"] == "15"]
    assert conversation.last_status_id == "117020593780198542"
    assert conversation.last_activity == "2026-08-01T13:55:56.462Z"
    assert parse_context(recorded("test_status_context", "GET",
                                  "/api/v1/statuses/117020585487094447/context")) == ([], [])


def test_instance_settings_from_v2_and_v1():
    assert instance_settings(recorded("test_instance", "GET", "/api/v2/instance")) == (500, 23, "ws://localhost:4000")
    assert instance_settings(recorded("test_instance_v1", "GET", "/api/v1/instance")) == (500, 23,
                                                                                          "ws://localhost:4000")
    assert instance_settings({"max_toot_chars": 5000}) == (5000, None, "")
    assert instance_settings(["nonsense"]) == (None, None, "")


def test_a_page_keeps_the_freshest_reading_and_its_deletions():
    page = PageBuilder(SCOPE)
    page.add_status(recorded_status("117020583245459824", favourites_count=2), "117020583245459824")
    page.add_deleted(["123"])
    batch = page.batch("notifications", "9", more=True)
    assert [p.like_count for p in batch.posts] == [2] and batch.deleted_post_ids == (pid("123"),)
    assert (batch.cursor, batch.more, batch.stream) == ("9", True, "notifications")
    assert [a.id for a in batch.authors] == [pid("117020566092212359")]


@pytest.mark.parametrize("status", [
    "text",
    {"id": "1"},
    {**recorded_status("117020583245459824"), "created_at": 12},
    {**recorded_status("117020583245459824"), "account": []},
    {**recorded_status("117020583245459824"), "favourites_count": True},
    {**recorded_status("117020583245459824"), "in_reply_to_id": "a/b"},
    {**recorded_status("117020583245459824"), "media_attachments": ["x"]},
    {**recorded_status("117020583245459824"), "reblog": "yes"},
    {**recorded_status("117020583245459824"), "edited_at": "soon"},
])
def test_statuses_of_the_wrong_shape_are_bad_responses(status):
    with pytest.raises(BadResponse) as caught:
        parse_status(status, SCOPE, thread_id="t")
    assert str(caught.value) == "Mastodon sent a reply Tend could not understand — Tend will try again later"
