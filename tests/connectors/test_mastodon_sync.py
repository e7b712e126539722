"""The Mastodon connector filling a real inbox from a local server that answers with recorded Mastodon 4.6.4 data.

The recordings hold real mention notifications (ids 20-25), statuses, conversations and accounts; scenarios compose
them (a reply chain, a boost notification around a recorded status) where one recording alone is too small.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console.connectors.mastodon import MastodonConnector
from console.domain import Direction, Visibility
from tests.connectors.mastodon_server import (  # noqa: F401 - mastodon_server is a fixture
    ADMIN,
    BUSINESS,
    CUSTOMER,
    TOKEN,
    Clock,
    MastodonTestServer,
    make_account,
    make_connector,
    mastodon_server,
    new_inbox,
    notification,
    post_id,
    query,
    recorded,
    recorded_account,
    recorded_events,
    recorded_notification,
    recorded_status,
    sync_into,
)

MENTIONS = ("25", "24", "23", "21", "20")  # recorded mention notifications, each from @admin to @mastodonpy_test
ROOT = "117020576916218297"  # the status of mention 20: "@mastodonpy_test hello!" by @admin


async def collect(connector: MastodonConnector, stream: str, cursor: str | None):
    return [batch async for batch in connector.fetch_since(stream, cursor)]


def serve_mentions(server: MastodonTestServer, ids=MENTIONS, **changes) -> list[dict]:
    notes = [recorded_notification(n, **changes) for n in ids]
    server.timeline("/api/v1/notifications", notes)
    server.publish(*(n["status"] for n in notes))
    return notes


@pytest.fixture
def inbox_path(tmp_path: Path, mastodon_server: MastodonTestServer) -> Path:
    return new_inbox(tmp_path / "inbox.db", make_account(mastodon_server))


# ------------------------------------------------------------------------------------------------ paging


@pytest.mark.asyncio
async def test_first_sync_follows_link_headers_and_sets_the_cursor_only_on_the_last_page(mastodon_server, fake_sleep):
    serve_mentions(mastodon_server)
    connector = make_connector(mastodon_server, fake_sleep, page_size=2)
    batches = await collect(connector, "notifications", None)
    await connector.aclose()

    assert [b.cursor for b in batches] == [None, None, "25"]
    assert [b.more for b in batches] == [True, True, False]
    assert [len(b.posts) for b in batches] == [2, 2, 1]
    listing = mastodon_server.requests_to("/api/v1/notifications")
    assert [r.params.get("max_id") for r in listing] == [None, ["24"], ["21"]]  # from the Link headers
    assert all(set(r.params["types[]"]) == {"mention", "quote", "reblog", "favourite", "follow", "update"}
               for r in listing)
    assert listing[0].params["limit"] == ["2"]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in mastodon_server.requests)


@pytest.mark.asyncio
async def test_later_syncs_walk_forward_from_the_cursor_and_every_page_moves_it(mastodon_server, fake_sleep):
    serve_mentions(mastodon_server)
    connector = make_connector(mastodon_server, fake_sleep, page_size=2)
    batches = await collect(connector, "notifications", "21")
    await connector.aclose()

    assert [b.cursor for b in batches] == ["24", "25"]
    assert [sorted(p.id for p in b.posts) for b in batches] == [
        sorted(post_id(mastodon_server, recorded_notification(n)["status"]["id"]) for n in ("24", "23")),
        [post_id(mastodon_server, recorded_notification("25")["status"]["id"])],
    ]
    listing = mastodon_server.requests_to("/api/v1/notifications")
    assert [r.params.get("min_id") for r in listing] == [["21"], ["24"]]


@pytest.mark.asyncio
async def test_nothing_new_yields_nothing_and_keeps_the_cursor(mastodon_server, fake_sleep):
    serve_mentions(mastodon_server)
    connector = make_connector(mastodon_server, fake_sleep)
    assert await collect(connector, "notifications", "25") == []
    await connector.aclose()


@pytest.mark.asyncio
async def test_first_sync_goes_back_only_first_sync_days(mastodon_server, fake_sleep):
    notes = serve_mentions(mastodon_server)
    for old in notes[3:]:  # 21 and 20 happened a month earlier
        old["created_at"] = "2026-07-01T10:00:00.000Z"
    connector = make_connector(mastodon_server, fake_sleep, page_size=2, first_sync_days=14)
    batches = await collect(connector, "notifications", None)
    await connector.aclose()

    assert [b.cursor for b in batches] == [None, "25"]
    fetched = {p.id for b in batches for p in b.posts}
    assert fetched == {post_id(mastodon_server, n["status"]["id"]) for n in notes[:3]}
    assert not mastodon_server.requests_to(f"/api/v1/statuses/{notes[3]['status']['id']}/context")
    assert len(mastodon_server.requests_to("/api/v1/notifications")) == 2  # stopped at the first old one


@pytest.mark.asyncio
async def test_pagination_links_to_another_server_are_refused(mastodon_server, fake_sleep):
    from console.connectors.errors import BadResponse

    R = mastodon_server.Response
    note = recorded_notification("20")
    mastodon_server.publish(note["status"])
    mastodon_server.respond("GET", "/api/v1/notifications", R(json=[note], headers={
        "Link": '<https://elsewhere.example/api/v1/notifications?max_id=20>; rel="next"'}))
    connector = make_connector(mastodon_server, fake_sleep)
    with pytest.raises(BadResponse):
        await collect(connector, "notifications", None)
    await connector.aclose()
    assert not any("elsewhere" in r.path for r in mastodon_server.requests)


@pytest.mark.asyncio
async def test_unknown_stream_is_a_programming_error(mastodon_server, fake_sleep):
    connector = make_connector(mastodon_server, fake_sleep)
    with pytest.raises(ValueError):
        await collect(connector, "home", None)
    await connector.aclose()


# ------------------------------------------------------------------------------------------------ threads


def conversation_about_root(server: MastodonTestServer) -> dict[str, dict]:
    """A thread grown from recorded statuses: @admin's mention, the business's answer, a customer's follow-up."""
    root = recorded_notification("20")["status"]
    answer = recorded_status("117020574393907247", in_reply_to_id=ROOT, in_reply_to_account_id=ADMIN,
                             created_at="2026-08-01T14:00:00.000Z")  # "Reply!" by @mastodonpy_test
    follow_up = recorded_status("117020583245459824", in_reply_to_id=answer["id"],  # "Toot, finally!" by _test_2
                                in_reply_to_account_id=BUSINESS, created_at="2026-08-01T14:05:00.000Z",
                                reblogs_count=3, favourites_count=5,
                                replies_count=0, quotes_count=1)
    follow_up["account"]["followers_count"] = 1200
    root["replies_count"] = 1
    server.publish(root, answer, follow_up)
    return {"root": root, "answer": answer, "follow_up": follow_up}


@pytest.mark.asyncio
async def test_a_mention_brings_its_whole_thread_with_counts_and_followers(mastodon_server, fake_sleep, inbox_path):
    thread = conversation_about_root(mastodon_server)
    mastodon_server.timeline("/api/v1/notifications", [recorded_notification("20", status=thread["root"])])
    connector = make_connector(mastodon_server, fake_sleep)
    result = await sync_into(inbox_path, connector)

    assert result.error is None and result.new_posts == 3
    host = mastodon_server.host
    rows = query(inbox_path, "SELECT id, thread_id, parent_id, direction, reshare_count, like_count, quote_count, "
                             "reply_count, visibility, text FROM posts ORDER BY created_at")
    root_id = post_id(mastodon_server, ROOT)
    assert rows == [
        (root_id, root_id, None, "in", 0, 0, 0, 1, "public", f"@mastodonpy_test@{host} hello!"),
        (post_id(mastodon_server, thread["answer"]["id"]), root_id, root_id, "out", 0, 0, 0, 0, "unlisted",
         "Reply!"),
        (post_id(mastodon_server, thread["follow_up"]["id"]), root_id,
         post_id(mastodon_server, thread["answer"]["id"]), "in", 3, 5, 1, 0, "public", "Toot, finally!"),
    ]
    authors = query(inbox_path, "SELECT id, handle, followers_count, following_count, posts_count FROM authors "
                                "ORDER BY handle")
    posts_by_customer = thread["follow_up"]["account"]["statuses_count"]
    assert (post_id(mastodon_server, CUSTOMER), f"@mastodonpy_test_2@{host}", 1200, 0, posts_by_customer) in authors
    assert (post_id(mastodon_server, ADMIN), f"@admin@{host}", 1, 0, 2) in authors
    threads = query(inbox_path, "SELECT id, post_count, reshare_total, needs_reply FROM threads")
    assert threads == [(root_id, 3, 4, 1)]
    assert query(inbox_path, "SELECT stream, cursor FROM sync_cursors ORDER BY stream") == [("notifications", "20")]
    assert len(mastodon_server.requests_to(f"/api/v1/statuses/{ROOT}/context")) == 1

    again = await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep))
    assert again.error is None and again.new_posts == 0
    assert query(inbox_path, "SELECT count(*) FROM posts") == [(3,)]


@pytest.mark.asyncio
async def test_fetch_thread_assembles_from_any_post_of_it(mastodon_server, fake_sleep):
    thread = conversation_about_root(mastodon_server)
    connector = make_connector(mastodon_server, fake_sleep)
    posts = await connector.fetch_thread(post_id(mastodon_server, ROOT))
    assert [p.id for p in posts] == [post_id(mastodon_server, s["id"]) for s in thread.values()]
    assert {p.thread_id for p in posts} == {post_id(mastodon_server, ROOT)}
    assert [p.direction for p in posts] == [Direction.IN, Direction.OUT, Direction.IN]
    await connector.aclose()


@pytest.mark.asyncio
async def test_direct_messages_come_from_conversations_with_their_threads(mastodon_server, fake_sleep, tmp_path):
    # recorded: the conversations of @mastodonpy_test_2 (the business here), two DM threads
    mastodon_server.replay("test_conversations", only=lambda i: i.method == "GET" and "conversations" in i.path)
    first_dm = recorded_status("117020588315335369")  # @mastodonpy_test -> @mastodonpy_test_2, the DM's start
    mastodon_server.publish(first_dm, *(c["last_status"] for c in recorded("test_conversations", "GET",
                                                                            "/api/v1/conversations/")))
    account = make_account(mastodon_server, CUSTOMER, "mastodonpy_test_2")
    inbox_path = new_inbox(tmp_path / "dm.db", account)
    connector = make_connector(mastodon_server, fake_sleep, business=CUSTOMER)
    batches = await collect(connector, "conversations", None)
    assert [b.cursor for b in batches] == ["117020593780198542"]

    result = await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep, business=CUSTOMER,
                                                        handle="mastodonpy_test_2"))
    assert result.error is None
    rows = query(inbox_path, "SELECT id, thread_id, direction, visibility FROM posts WHERE account_id = ? "
                             "ORDER BY created_at", account.id)
    first, reply, other = (post_id(mastodon_server, n) for n in
                           ("117020588315335369", "117020588388552703", "117020593780198542"))
    assert rows == [(first, first, "in", "direct"), (reply, first, "out", "direct"), (other, other, "out", "direct")]
    assert query(inbox_path, "SELECT cursor FROM sync_cursors WHERE stream = 'conversations'") == \
        [("117020593780198542",)]


# ------------------------------------------------------------------------------------------------ counts


def favourited(server: MastodonTestServer) -> dict:
    """recorded: test_grouped_notifications.yaml: two people favourited @mastodonpy_test's post."""
    status = recorded("test_grouped_notifications", "POST", "/api/v1/statuses/117020579695730951/favourite", 1)
    server.publish(status)
    return status


@pytest.mark.asyncio
async def test_boosts_and_favourites_update_counts_and_never_add_posts(mastodon_server, fake_sleep, inbox_path):
    status = favourited(mastodon_server)
    favourites = [notification("31", "favourite", recorded_account(ADMIN), status, "2026-08-01T13:52:23.000Z"),
                  notification("32", "favourite", recorded_account(CUSTOMER), status, "2026-08-01T13:52:23.230Z")]
    mastodon_server.timeline("/api/v1/notifications", favourites)
    clock = Clock()
    first = await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep, clock=clock))
    native = post_id(mastodon_server, status["id"])
    assert first.new_posts == 1
    assert query(inbox_path, "SELECT id, direction, like_count, reshare_count FROM posts") == [(native, "out", 2, 0)]
    assert not mastodon_server.requests_to(f"/api/v1/statuses/{status['id']}/context")  # a root needs no context

    booster = recorded_account(CUSTOMER, followers_count=4200, following_count=12, statuses_count=345)
    boosted = {**status, "reblogs_count": 1}
    mastodon_server.timeline("/api/v1/notifications", [*favourites, notification(
        "40", "reblog", booster, boosted, "2026-08-01T15:00:00.000Z")])
    clock.advance(minutes=5)
    second = await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep, clock=clock))

    assert second.error is None and second.new_posts == 0
    assert query(inbox_path, "SELECT id, like_count, reshare_count FROM posts") == [(native, 2, 1)]
    assert query(inbox_path, "SELECT reshare_total FROM threads") == [(1,)]
    assert query(inbox_path, "SELECT followers_count, following_count, posts_count FROM authors WHERE id = ?",
                 post_id(mastodon_server, CUSTOMER)) == [(4200, 12, 345)]
    assert query(inbox_path, "SELECT cursor FROM sync_cursors WHERE stream = 'notifications'") == [("40",)]


@pytest.mark.asyncio
async def test_a_boost_of_a_reply_is_placed_in_its_thread(mastodon_server, fake_sleep):
    thread = conversation_about_root(mastodon_server)
    answer = {**thread["answer"], "reblogs_count": 2}
    mastodon_server.timeline("/api/v1/notifications", [
        notification("41", "reblog", recorded_account(CUSTOMER), answer, "2026-08-02T10:00:00.000Z")])
    connector = make_connector(mastodon_server, fake_sleep)
    [batch] = await collect(connector, "notifications", None)
    await connector.aclose()
    by_id = {p.id: p for p in batch.posts}
    assert by_id[post_id(mastodon_server, answer["id"])].thread_id == post_id(mastodon_server, ROOT)
    assert {a.id for a in batch.authors} >= {post_id(mastodon_server, CUSTOMER)}


@pytest.mark.asyncio
async def test_a_follow_brings_the_follower_only(mastodon_server, fake_sleep):
    follower = recorded_account(CUSTOMER, followers_count=77)
    mastodon_server.timeline("/api/v1/notifications",
                             [notification("50", "follow", follower, None, "2026-08-02T10:00:00.000Z")])
    connector = make_connector(mastodon_server, fake_sleep)
    [batch] = await collect(connector, "notifications", None)
    await connector.aclose()
    assert batch.posts == () and [(a.id, a.followers_count) for a in batch.authors] == [
        (post_id(mastodon_server, CUSTOMER), 77)]


# ------------------------------------------------------------------------------------------------ edits, deletions


@pytest.mark.asyncio
async def test_an_edited_post_is_updated_in_place(mastodon_server, fake_sleep, inbox_path):
    thread = conversation_about_root(mastodon_server)
    mastodon_server.timeline("/api/v1/notifications", [recorded_notification("20")])
    clock = Clock()
    await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep, clock=clock))

    # recorded: test_stream_user_direct.yaml, a "status.update" event: an edit's content and edited_at
    [edit] = [data for name, data in recorded_events("test_stream_user_direct", "/api/v1/streaming/user")
              if name == "status.update"]
    edited = {**thread["follow_up"], "content": edit["content"], "edited_at": edit["edited_at"]}
    mastodon_server.publish(edited)
    mastodon_server.timeline("/api/v1/notifications", [recorded_notification("20"), notification(
        "60", "update", recorded_account(CUSTOMER), edited, "2026-08-02T05:22:24.300Z")])
    clock.advance(minutes=1)
    result = await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep, clock=clock))

    assert result.error is None and result.new_posts == 0
    assert query(inbox_path, "SELECT text, edited_at FROM posts WHERE id = ?",
                 post_id(mastodon_server, edited["id"])) == [("only real animals respond.", "2026-08-02T05:22:24.192Z")]


@pytest.mark.asyncio
async def test_an_edit_outside_the_business_threads_is_ignored(mastodon_server, fake_sleep):
    stranger = recorded_status("117020588242324937", edited_at="2026-08-02T05:22:24.192Z")  # @admin, no mentions
    mastodon_server.publish(stranger)
    mastodon_server.timeline("/api/v1/notifications", [
        notification("61", "update", recorded_account(ADMIN), stranger, "2026-08-02T05:22:24.300Z")])
    connector = make_connector(mastodon_server, fake_sleep)
    [batch] = await collect(connector, "notifications", None)
    await connector.aclose()
    assert batch.posts == () and batch.cursor == "61"


@pytest.mark.asyncio
async def test_deleted_posts_are_reported_and_marked_in_the_inbox(mastodon_server, fake_sleep, inbox_path):
    thread = conversation_about_root(mastodon_server)
    mastodon_server.timeline("/api/v1/notifications", [recorded_notification("20")])
    clock = Clock()
    await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep, clock=clock))

    # The business's answer was favourited, then the whole conversation was deleted before Tend looked.
    answer = thread["answer"]
    mastodon_server.delete(ROOT)
    mastodon_server.delete(answer["id"])
    mastodon_server.timeline("/api/v1/notifications", [recorded_notification("20"), notification(
        "70", "favourite", recorded_account(CUSTOMER), answer, "2026-08-02T11:00:00.000Z")])
    connector = make_connector(mastodon_server, fake_sleep, clock=clock)
    [batch] = await collect(connector, "notifications", "20")
    assert batch.deleted_post_ids == (post_id(mastodon_server, answer["id"]),) and batch.posts == ()
    refreshed = await connector.refresh_thread(post_id(mastodon_server, ROOT))
    assert refreshed.deleted_post_ids == (post_id(mastodon_server, ROOT),)
    assert await connector.fetch_thread(post_id(mastodon_server, ROOT)) == []
    await connector.aclose()

    clock.advance(minutes=1)
    await sync_into(inbox_path, make_connector(mastodon_server, fake_sleep, clock=clock))
    deleted = query(inbox_path, "SELECT id FROM posts WHERE deleted_at IS NOT NULL")
    assert deleted == [(post_id(mastodon_server, answer["id"]),)]
    assert query(inbox_path, "SELECT count(*) FROM posts") == [(3,)]  # history kept


@pytest.mark.asyncio
async def test_the_business_account_id_is_learned_once_when_unknown(mastodon_server, fake_sleep):
    # recorded: @mastodonpy_test's own profile (recorded on another run of the server, so its id is moved here)
    profile = recorded("test_verify_credentials", "GET", "/api/v1/accounts/verify_credentials")
    mastodon_server.respond("GET", "/api/v1/accounts/verify_credentials",
                            mastodon_server.Response(json={**profile, "id": BUSINESS}))
    conversation_about_root(mastodon_server)
    mastodon_server.timeline("/api/v1/notifications", [recorded_notification("20")])
    connector = make_connector(mastodon_server, fake_sleep, business="")
    batches = await collect(connector, "notifications", None)
    batches += await collect(connector, "notifications", "0")
    await connector.aclose()
    assert len(mastodon_server.requests_to("/api/v1/accounts/verify_credentials")) == 1
    directions = {p.id: p.direction for b in batches for p in b.posts}
    assert directions[post_id(mastodon_server, "117020574393907247")] is Direction.OUT
    assert {p.visibility for b in batches for p in b.posts} <= set(Visibility)


@pytest.mark.asyncio
async def test_refreshing_a_thread_finds_deleted_and_cut_off_posts(mastodon_server, fake_sleep):
    """For threads no notification touches: what the inbox holds is checked against the server."""
    thread = conversation_about_root(mastodon_server)
    known = [post_id(mastodon_server, s["id"]) for s in thread.values()]
    mastodon_server.delete(thread["answer"]["id"])  # the follow-up stays, now a reply to a deleted post
    mastodon_server.publish({**thread["follow_up"], "favourites_count": 9})
    connector = make_connector(mastodon_server, fake_sleep)
    batch = await connector.refresh_thread(post_id(mastodon_server, ROOT), known)
    await connector.aclose()

    assert batch.deleted_post_ids == (post_id(mastodon_server, thread["answer"]["id"]),)
    by_id = {p.id: p for p in batch.posts}
    assert set(by_id) == {post_id(mastodon_server, ROOT), post_id(mastodon_server, thread["follow_up"]["id"])}
    follow_up = by_id[post_id(mastodon_server, thread["follow_up"]["id"])]
    assert follow_up.like_count == 9 and follow_up.thread_id == post_id(mastodon_server, ROOT)
    assert batch.cursor is None
