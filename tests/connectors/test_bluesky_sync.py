"""Filling a real inbox from the local Bluesky server: whole threads, counts, followers, cursors, chat."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from console.connectors.bluesky import BlueskyConnector
from console.domain import Batch
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import SyncEngine
from tests.connectors.bluesky_server import BlueskyTestServer, bluesky, connector_for  # noqa: F401
from tests.connectors.bluesky_world import Person, StoredPost, iso


@pytest.fixture
def inbox_path(tmp_path: Path) -> Path:
    return tmp_path / "inbox.db"


@pytest.fixture
def writer(inbox_path: Path) -> Iterator[StoreWriter]:
    writer = StoreWriter(Inbox.open(inbox_path))
    yield writer
    writer.close()


def rows(path: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


_ENGINES: dict[int, SyncEngine] = {}


async def sync(writer: StoreWriter, connector: BlueskyConnector):  # noqa: ANN201
    """One pass of the real sync engine (one engine per connector, on the world's clock)."""
    engine = _ENGINES.get(id(connector))
    if engine is None or connector not in engine._connectors:
        await writer.call(Inbox.ensure_account, connector.account)
        engine = _ENGINES[id(connector)] = SyncEngine(writer, [connector], clock=connector.session._clock)
    (result,) = await engine.sync_once()
    return result


async def batches(connector: BlueskyConnector, stream: str, cursor: str | None) -> list[Batch]:
    return [b async for b in connector.fetch_since(stream, cursor)]


class Shop:
    """A business and its customers, with a conversation the business is in."""

    def __init__(self, server: BlueskyTestServer) -> None:
        world = server.world
        self.world = world
        self.biz = server.business("shop.test", display_name="The Shop", followers=120, follows=10)
        self.anna = world.person("anna.test", display_name="Anna", followers=5000, follows=300, posts=900)
        self.ben = world.person("ben.test", followers=12)
        self.carol = world.person("carol.test", followers=40)

    def conversation(self) -> tuple[StoredPost, StoredPost, StoredPost, StoredPost]:
        w = self.world
        root = w.mention(self.anna, self.biz, "do you have oat milk? 🥛")
        answer = w.reply(self.biz, root, "Yes, every day!")
        aside = w.reply(self.ben, root, "they do, it's great")  # notifies Anna only: Bluesky never tells the shop
        thanks = w.reply(self.anna, answer, "thank you 🙏", notify=self.biz)
        return root, answer, aside, thanks


@pytest.mark.asyncio
async def test_first_sync_stores_whole_threads_counts_and_follower_figures(
    bluesky: BlueskyTestServer, writer: StoreWriter, inbox_path: Path  # noqa: F811
) -> None:
    shop = Shop(bluesky)
    root, answer, aside, thanks = shop.conversation()
    shop.world.like(shop.anna, answer)
    shop.world.repost(shop.ben, answer)
    quote = shop.world.quote(shop.carol, answer, "best café in town")
    shop.world.follow(shop.ben, shop.biz)
    connector = connector_for(bluesky, shop.biz)

    result = await sync(writer, connector)

    assert result.error is None
    thread = f"bluesky:{root.uri}"
    stored = rows(inbox_path, "SELECT id, parent_id, author_id, direction FROM posts WHERE thread_id = ? "
                              "ORDER BY created_at", thread)
    assert stored == [
        (f"bluesky:{root.uri}", None, f"bluesky:{shop.anna.did}", "in"),
        (f"bluesky:{answer.uri}", f"bluesky:{root.uri}", f"bluesky:{shop.biz.did}", "out"),
        (f"bluesky:{aside.uri}", f"bluesky:{root.uri}", f"bluesky:{shop.ben.did}", "in"),
        (f"bluesky:{thanks.uri}", f"bluesky:{answer.uri}", f"bluesky:{shop.anna.did}", "in"),
    ]
    assert rows(inbox_path, "SELECT reshare_count, quote_count, like_count, reply_count FROM posts WHERE id = ?",
                f"bluesky:{answer.uri}") == [(1, 1, 1, 1)]
    assert rows(inbox_path, "SELECT text FROM posts WHERE id = ?", f"bluesky:{root.uri}") == [
        ("@shop.test do you have oat milk? 🥛",)]
    assert rows(inbox_path, "SELECT thread_id FROM posts WHERE id = ?", f"bluesky:{quote.uri}") == [
        (f"bluesky:{quote.uri}",)]  # a quote starts its own conversation
    authors = dict((r[0], r[1:]) for r in rows(
        inbox_path, "SELECT handle, followers_count, following_count, posts_count, display_name FROM authors"))
    assert authors["@anna.test"] == (5000, 300, 900 + 2, "Anna")
    assert authors["@ben.test"][0] == 12 and authors["@shop.test"][0] == 121  # Ben's follow counted
    newest = shop.world.notifications[0]["indexedAt"]
    assert rows(inbox_path, "SELECT cursor FROM sync_cursors WHERE stream = 'notifications'") == [(newest,)]
    assert shop.world.seen_at == [newest]
    # Both sides of the wire: the access token (never the refresh token) on reads; profiles in batches.
    # A short page is not the end (the AppView drops muted and blocked items after paging): the walk goes on
    # until an empty page.
    listing, end = bluesky.requests_to("app.bsky.notification.listNotifications")
    assert end.param("cursor") == shop.world.notifications[-1]["indexedAt"]
    assert listing.bearer in bluesky.world.access and listing.params("reasons") == [
        "mention", "reply", "quote", "repost", "like", "follow"]
    threads = {r.param("uri") for r in bluesky.requests_to("app.bsky.feed.getPostThread")}
    assert threads == {quote.uri, root.uri}  # each conversation read from its root, once per notification page
    assert all(r.param("depth") == "50" and r.param("parentHeight") == "80"
               for r in bluesky.requests_to("app.bsky.feed.getPostThread"))
    assert bluesky.requests_to("com.atproto.server.createSession") == []
    await connector.aclose()


@pytest.mark.asyncio
async def test_a_second_sync_reads_only_what_is_new_and_a_repost_only_updates_counts(
    bluesky: BlueskyTestServer, writer: StoreWriter, inbox_path: Path  # noqa: F811
) -> None:
    shop = Shop(bluesky)
    _root, answer, _aside, _thanks = shop.conversation()
    connector = connector_for(bluesky, shop.biz)
    await sync(writer, connector)
    posts_before = rows(inbox_path, "SELECT count(*) FROM posts")[0][0]
    bluesky.requests.clear()

    nothing = await sync(writer, connector)
    assert (nothing.error, nothing.new_posts) == (None, 0)
    assert {r.nsid for r in bluesky.requests} == {"app.bsky.notification.listNotifications"}

    shop.world.repost(shop.carol, answer)
    shop.world.repost(shop.ben, answer)
    bluesky.requests.clear()
    result = await sync(writer, connector)
    assert (result.error, result.new_posts) == (None, 0)
    assert rows(inbox_path, "SELECT count(*) FROM posts")[0][0] == posts_before
    assert rows(inbox_path, "SELECT reshare_count FROM posts WHERE id = ?", f"bluesky:{answer.uri}") == [(2,)]
    (get_posts,) = bluesky.requests_to("app.bsky.feed.getPosts")
    assert get_posts.params("uris") == [answer.uri]
    assert bluesky.requests_to("app.bsky.feed.getPostThread") == []
    assert rows(inbox_path, "SELECT followers_count FROM authors WHERE handle = '@carol.test'") == [(40,)]
    await connector.aclose()


@pytest.mark.asyncio
async def test_pages_are_walked_back_and_only_the_last_one_moves_the_cursor(
    bluesky: BlueskyTestServer,  # noqa: F811
) -> None:
    shop = Shop(bluesky)
    mentions = [shop.world.mention(shop.anna, shop.biz, f"question {i}") for i in range(7)]
    connector = connector_for(bluesky, shop.biz, page_size=3, overlap=timedelta(minutes=2))

    pages = await batches(connector, "notifications", None)

    newest = shop.world.notifications[0]["indexedAt"]
    assert [(b.cursor, b.more, len(b.posts)) for b in pages] == [
        (None, True, 3), (None, True, 3), (None, True, 1), (newest, False, 0)]
    assert sorted(p.id for b in pages for p in b.posts) == sorted(f"bluesky:{m.uri}" for m in mentions)
    listing = bluesky.requests_to("app.bsky.notification.listNotifications")
    assert [r.param("cursor") for r in listing] == [None] + [
        shop.world.notifications[i]["indexedAt"] for i in (2, 5, 6)]

    later = shop.world.mention(shop.ben, shop.biz, "new one")
    bluesky.requests.clear()
    pages = await batches(connector, "notifications", pages[-1].cursor)
    assert [p.id for b in pages for p in b.posts] == [f"bluesky:{later.uri}"]
    # Back to two minutes (the overlap) behind the stored cursor, and no further.
    assert [r.param("cursor") for r in bluesky.requests_to("app.bsky.notification.listNotifications")] == [
        None, shop.world.notifications[2]["indexedAt"]]
    assert pages[-1].cursor == shop.world.notifications[0]["indexedAt"] == later.indexed_at
    await connector.aclose()


@pytest.mark.asyncio
async def test_the_first_sync_goes_back_fourteen_days_only(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    shop = Shop(bluesky)
    old = shop.world.mention(shop.anna, shop.biz, "last month", at=iso(shop.world.now - timedelta(days=20)))
    recent = shop.world.mention(shop.anna, shop.biz, "today")
    connector = connector_for(bluesky, shop.biz, page_size=1)
    pages = await batches(connector, "notifications", None)
    ids = {p.id for b in pages for p in b.posts}
    assert f"bluesky:{recent.uri}" in ids and f"bluesky:{old.uri}" not in ids
    assert len(bluesky.requests_to("app.bsky.notification.listNotifications")) == 2
    await connector.aclose()


@pytest.mark.asyncio
async def test_a_post_indexed_late_just_behind_the_cursor_is_still_read_once(
    bluesky: BlueskyTestServer,  # noqa: F811
) -> None:
    shop = Shop(bluesky)
    shop.world.mention(shop.anna, shop.biz, "first")
    connector = connector_for(bluesky, shop.biz)
    cursor = (await batches(connector, "notifications", None))[-1].cursor
    assert cursor is not None
    late = shop.world.mention(shop.ben, shop.biz, "written a minute ago, indexed now",
                              at=iso(shop.world.now - timedelta(minutes=1)))
    pages = await batches(connector, "notifications", cursor)
    assert [p.id for b in pages for p in b.posts] == [f"bluesky:{late.uri}"]
    assert {b.cursor for b in pages} == {None}  # nothing newer than the cursor: it stays where it is
    assert await batches(connector, "notifications", cursor) == []  # handled once, not again
    await connector.aclose()


@pytest.mark.asyncio
async def test_deleted_and_blocked_posts_in_a_thread(
    bluesky: BlueskyTestServer, writer: StoreWriter, inbox_path: Path  # noqa: F811
) -> None:
    shop = Shop(bluesky)
    root, answer, aside, thanks = shop.conversation()
    connector = connector_for(bluesky, shop.biz)
    await sync(writer, connector)

    bluesky.world.delete(aside)
    bluesky.world.blocked.add(thanks.uri)
    thread = f"bluesky:{root.uri}"
    known = [r[0] for r in rows(inbox_path, "SELECT id FROM posts WHERE thread_id = ?", thread)]
    batch = await connector.refresh_thread(thread, known)
    assert batch.deleted_post_ids == (f"bluesky:{aside.uri}",)  # gone from Bluesky
    assert f"bluesky:{thanks.uri}" not in batch.deleted_post_ids  # only hidden by a block: not deleted
    await writer.call(Inbox.apply_batch, batch)
    assert rows(inbox_path, "SELECT id FROM posts WHERE deleted_at IS NOT NULL") == [(f"bluesky:{aside.uri}",)]

    bluesky.world.delete(root)  # the root gone: what is left around the answer still belongs to the thread
    batch = await connector.refresh_thread(thread, known)
    assert f"bluesky:{root.uri}" in batch.deleted_post_ids
    assert f"bluesky:{answer.uri}" in {p.id for p in batch.posts}
    assert {p.thread_id for p in batch.posts} == {thread}
    assert await connector.refresh_thread("bluesky:chat/c1", ()) == Batch(connector.account.id, "threads")
    await connector.aclose()


@pytest.mark.asyncio
async def test_without_chat_the_sync_carries_on_and_says_so_once(
    bluesky: BlueskyTestServer, writer: StoreWriter, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    shop = Shop(bluesky)
    shop.conversation()
    connector = connector_for(bluesky, shop.biz)
    with caplog.at_level(logging.INFO, logger="console.connectors.bluesky_chat"):
        first = await sync(writer, connector)
        second = await sync(writer, connector)
    assert first.error is None and second.error is None and first.new_posts == 4
    assert "chat service did not answer" in connector.chat_unavailable
    assert len([r for r in caplog.records if "direct messages are not available" in r.getMessage()]) == 1
    (asked,) = bluesky.requests_to("chat.bsky.convo.listConvos")  # remembered: not asked again at once
    assert asked.headers["atproto-proxy"] == "did:web:api.bsky.chat#bsky_chat"
    await connector.aclose()


@pytest.mark.asyncio
async def test_an_app_password_without_dm_access_is_explained(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    shop = Shop(bluesky)
    bluesky.chat_status = bluesky.Response(400, {"error": "InvalidToken", "message": "Bad token scope"})
    connector = connector_for(bluesky, shop.biz)
    assert await batches(connector, "chat", None) == []
    assert "without access to direct messages" in connector.chat_unavailable
    assert connector.account.needs_reconnect is False
    await connector.aclose()


@pytest.mark.asyncio
async def test_direct_messages_are_stored_as_private_conversations(
    bluesky: BlueskyTestServer, writer: StoreWriter, inbox_path: Path  # noqa: F811
) -> None:
    shop = Shop(bluesky)
    bluesky.enable_chat()
    convo = shop.world.convo(shop.biz, shop.anna)
    shop.world.message(convo, shop.anna, "Can I pick up at 5?")
    shop.world.message(convo, shop.biz, "Sure!")
    connector = connector_for(bluesky, shop.biz)
    result = await sync(writer, connector)
    assert result.error is None and connector.chat_unavailable == ""
    assert rows(inbox_path, "SELECT text, visibility, direction, thread_id FROM posts ORDER BY created_at") == [
        ("Can I pick up at 5?", "direct", "in", f"bluesky:chat/{convo.id}"),
        ("Sure!", "direct", "out", f"bluesky:chat/{convo.id}"),
    ]
    assert rows(inbox_path, "SELECT cursor FROM sync_cursors WHERE stream = 'chat'") == [
        (convo.messages[-1]["sentAt"],)]
    assert (await sync(writer, connector)).new_posts == 0
    shop.world.message(convo, shop.anna, "Thanks")
    assert (await sync(writer, connector)).new_posts == 1
    await connector.aclose()


@pytest.mark.asyncio
async def test_fetch_authors_asks_in_batches_of_twenty_five(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    biz = bluesky.business()
    people: list[Person] = [bluesky.world.person(f"p{i}.test", followers=i) for i in range(30)]
    connector = connector_for(bluesky, biz)
    authors = await connector.fetch_authors([f"bluesky:{p.did}" for p in people] + ["mastodon:x/1"])
    assert sorted(a.followers_count for a in authors) == list(range(30))
    assert [len(r.params("actors")) for r in bluesky.requests_to("app.bsky.actor.getProfiles")] == [25, 5]
    await connector.aclose()
