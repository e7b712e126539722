"""Tend against a real local Bluesky network (the official PDS, AppView and PLC, run by ``bluesky-peer``).

A new owner connects the shop's account with ``tend account add bluesky --handle H --service URL
--app-password-stdin`` and runs ``tend sync --once``; the inbox file must then hold what the AppView reports: every
conversation the shop is mentioned in as a whole thread, root to leaves, including customers answering each other
(which never notifies the shop), the shop's own replies as outgoing, and the AppView's counts and follower figures.
Customers act only through the network's public XRPC API, and the truth is read back from the AppView directly.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bluesky_peer import (  # noqa: F401  (the fixtures are used by name)
    PDS_URL,
    Bluesky,
    Person,
    Ref,
    TendCli,
    bluesky,
    bluesky_process,
    dump,
    explain,
)

from console.connectors.base import OutgoingReply
from console.domain import Account, Direction, Post, Visibility
from console.secrets import load_secret, store_secret
from console.store import Inbox

pytestmark = pytest.mark.integration

TABLES = ("accounts", "authors", "posts", "threads", "count_samples")
BUSY_MENTIONS = 55  # more than one page of notifications (Tend asks for 50)
LONG_THREAD = 60  # replies in a row under one mention: deeper than one getPostThread read by Tend (depth 50)
# A link as Bluesky's app writes it: shortened text, the real target only in the facet.
TRACKING_SHOWN = "parcels.example.com/t/1042…"
TRACKING_URL = "https://parcels.example.com/t/1042?carrier=dhl&ref=%C3%BC"


# -- the shop and its customers --------------------------------------------------------------------------------------


@dataclass
class Shop:
    """A bakery on Bluesky and what its customers did, as refs into the network.

    Thread ``order``: alice mentions the shop; bob answers alice and dave answers bob (neither notifies the shop);
    the shop answers alice from its phone; carol answers the shop. Thread ``bakery``: dave asks a question without
    the shop, carol answers mentioning it, alice answers dave too. The shop's own ``hours`` post is quoted by carol,
    reposted by bob and liked by alice; alice's complaint is quoted, reposted and liked by others.
    """

    biz: Person
    alice: Person
    bob: Person
    carol: Person
    dave: Person
    app_password: str
    order: Ref  # alice's complaint, the root
    bob_on_order: Ref
    dave_on_bob: Ref
    shop_on_order: Ref
    carol_on_shop: Ref
    bakery: Ref  # dave's question, a root without the shop
    carol_mentions: Ref
    alice_on_bakery: Ref
    hours: Ref  # the shop's own post
    carol_quotes_hours: Ref
    carol_quotes_order: Ref

    @property
    def customers(self) -> tuple[Person, ...]:
        return (self.alice, self.bob, self.carol, self.dave)


def open_shop(net: Bluesky) -> Shop:
    biz, alice, bob, carol, dave = (net.person(n) for n in ("shop", "alice", "bob", "carol", "dave"))
    # Followers differ per person: alice 3, bob 1, the shop 2, carol and dave none.
    for who, whom in ((bob, alice), (carol, alice), (dave, alice), (carol, bob), (alice, biz), (bob, biz)):
        net.follow(who, whom)
    app_password = net.app_password(biz)

    # Emoji and accents before the mention: facets count UTF-8 bytes, not characters.
    order = net.post(alice, f"Ünd 🧁🧁 my order #1042 never came, @{biz.handle}?", mention=[biz])
    bob_on_order = net.post(bob, f"Same here, tracking says stuck: {TRACKING_SHOWN}", reply_to=order,
                            links=[(TRACKING_SHOWN, TRACKING_URL)])
    dave_on_bob = net.post(dave, "Did you both order on Monday?", reply_to=bob_on_order)
    shop_on_order = net.post(biz, "So sorry! Checking with the courier now.", reply_to=order)
    carol_on_shop = net.post(carol, "Mine came today, thanks!", reply_to=shop_on_order)

    bakery = net.post(dave, "Anyone know a good bakery in town?")
    carol_mentions = net.post(carol, f"@{biz.handle} is the best 🥐", reply_to=bakery, mention=[biz])
    alice_on_bakery = net.post(alice, "Not lately…", reply_to=bakery)

    hours = net.post(biz, "New opening hours from Monday: 7 to 19.")
    carol_quotes_hours = net.post(carol, "Finally, early croissants", quote=hours)
    net.repost(bob, hours)
    net.like(alice, hours)

    carol_quotes_order = net.post(carol, "This again?", quote=order)
    for who in (carol, dave):
        net.repost(who, order)
    for who in (bob, carol, dave):
        net.like(who, order)
    net.like(alice, carol_on_shop)
    net.process_all()
    return Shop(biz, alice, bob, carol, dave, app_password, order, bob_on_order, dave_on_bob, shop_on_order,
                carol_on_shop, bakery, carol_mentions, alice_on_bakery, hours, carol_quotes_hours,
                carol_quotes_order)


# -- Tend --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def tend(tmp_path: Path) -> TendCli:
    """``tend`` on an inbox of its own; HOME (and so the keyring file) is the test's own (tests/conftest.py)."""
    return TendCli(db=tmp_path / "inbox.db")


@pytest.fixture
def shop(bluesky: Bluesky) -> Shop:
    return open_shop(bluesky)


def connect(tend: TendCli, shop: Shop) -> str:
    """``tend account add bluesky`` with the app password on stdin; returns the account id Tend chose."""
    added = tend.add_bluesky(shop.biz.handle, shop.app_password)
    assert added.returncode == 0, explain(added)
    assert shop.app_password not in added.stdout + added.stderr, "the app password was echoed back"
    accounts = tend.rows("SELECT * FROM accounts")
    assert len(accounts) == 1, dump(accounts)
    assert accounts[0]["id"] == shop.biz.tend_id, dump(accounts)
    return str(accounts[0]["id"])


def sync_ok(tend: TendCli) -> str:
    result = tend.sync()
    assert result.returncode == 0, explain(result)
    assert "Traceback" not in result.stdout + result.stderr, explain(result)
    return result.stdout


def tend_id(ref: Ref | str) -> str:
    return f"bluesky:{ref.uri if isinstance(ref, Ref) else ref}"


def posts_by_id(tend: TendCli) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in tend.rows("SELECT * FROM posts")}


def table_counts(tend: TendCli) -> dict[str, int]:
    with tend.inbox() as db:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608


def thread_ids_in_inbox(tend: TendCli, root: Ref) -> set[str]:
    return {r["id"] for r in tend.rows("SELECT id FROM posts WHERE thread_id = ?", tend_id(root))}


def assert_whole_thread(net: Bluesky, tend: TendCli, root: Ref, viewer: Person | None = None
                        ) -> dict[str, dict[str, Any]]:
    """The inbox holds exactly the AppView's thread under ``root`` (as ``viewer`` sees it, when given), each post
    under its right parent."""
    truth = net.thread_posts(root.uri, viewer)
    inbox = posts_by_id(tend)
    assert thread_ids_in_inbox(tend, root) == {tend_id(uri) for uri in truth}, (
        f"thread {root.uri}\nAppView: {dump(sorted(truth))}\ninbox: {dump(sorted(thread_ids_in_inbox(tend, root)))}"
    )
    for uri, view in truth.items():
        row = inbox[tend_id(uri)]
        parent = (view["record"].get("reply") or {}).get("parent", {}).get("uri")
        assert row["parent_id"] == (tend_id(parent) if parent else None), dump(row)
        assert row["author_id"] == f"bluesky:{view['author']['did']}", dump(row)
    threads = tend.rows("SELECT * FROM threads WHERE id = ?", tend_id(root))
    assert len(threads) == 1 and threads[0]["root_post_id"] == tend_id(root), dump(threads)
    return truth


def assert_counts_match(net: Bluesky, tend: TendCli, *, authors_of_live_posts_only: bool = False) -> None:
    """Every live post's counts and every author's figures in the inbox are what the AppView reports now.

    ``authors_of_live_posts_only``: people whose every post in the inbox is deleted appear in no thread Tend reads
    again, so their figures may stay as last seen.
    """
    inbox = {pid: row for pid, row in posts_by_id(tend).items() if row["deleted_at"] is None}
    views = net.posts([pid.removeprefix("bluesky:") for pid in inbox if pid.startswith("bluesky:at://")])
    wrong = []
    for uri, view in views.items():
        row = inbox[tend_id(uri)]
        got = (row["reshare_count"], row["quote_count"], row["like_count"], row["reply_count"])
        want = (view["repostCount"], view["quoteCount"], view["likeCount"], view["replyCount"])
        if got != want:
            wrong.append(f"{uri} ({row['text'][:30]!r}): inbox {got}, AppView {want} (repost, quote, like, reply)")
    assert not wrong, "\n".join(wrong)

    authors = tend.rows("SELECT * FROM authors")
    if authors_of_live_posts_only:
        live_authors = {row["author_id"] for row in inbox.values()}
        authors = [a for a in authors if a["id"] in live_authors]
    profiles = net.profiles([a["id"].removeprefix("bluesky:") for a in authors])
    wrong = []
    for author in authors:
        profile = profiles[author["id"].removeprefix("bluesky:")]
        got = (author["handle"], author["followers_count"], author["following_count"], author["posts_count"])
        want = ("@" + profile["handle"], profile["followersCount"], profile["followsCount"], profile["postsCount"])
        if got != want:
            wrong.append(f"{author['id']}: inbox {got}, AppView {want} (handle, followers, follows, posts)")
    assert not wrong, "\n".join(wrong)


def unread_notifications(net: Bluesky, person: Person) -> int:
    return int(net.call("app.bsky.notification.getUnreadCount", person)["count"])


def stored_refresh_token(account_id: str) -> str:
    token = load_secret(account_id, "refresh_token")
    assert token, f"no refresh token in the keyring for {account_id}"
    return token


def inbox_post(tend: TendCli, ref: Ref) -> Post:
    """A post as the inbox holds it, as the composer would hand it to the connector."""
    (row,) = tend.rows("SELECT * FROM posts WHERE id = ?", tend_id(ref))
    return Post(
        id=row["id"], network=row["network"], account_id=row["account_id"], thread_id=row["thread_id"],
        author_id=row["author_id"], text=row["text"], created_at=row["created_at"], observed_at=row["observed_at"],
        parent_id=row["parent_id"], url=row["url"], direction=Direction(row["direction"]),
    )


def inbox_account(tend: TendCli, account_id: str) -> Account:
    inbox = Inbox.open(tend.db)
    try:
        (account,) = [a for a in inbox.accounts() if a.id == account_id]
        return account
    finally:
        inbox.close()


async def send_with_fresh_connector(account: Account, reply: OutgoingReply) -> Post:
    """A connector as the app builds one: the refresh token from the keyring, rotations saved back to it."""
    from console.connectors.bluesky import BlueskyConnector

    def save(token: str) -> None:
        store_secret(account.id, "refresh_token", token)

    connector = BlueskyConnector(account, stored_refresh_token(account.id), save_refresh_token=save)
    try:
        return await connector.send_reply(reply)
    finally:
        await connector.aclose()


# -- tests -------------------------------------------------------------------------------------------------------------


def test_a_new_owner_connects_and_sees_whole_threads_with_the_appviews_counts(
    bluesky: Bluesky, shop: Shop, tend: TendCli
) -> None:
    account_id = connect(tend, shop)
    (account,) = tend.rows("SELECT * FROM accounts")
    # Tend shows handles the way people write them in posts: with the @.
    assert (account["network"], account["handle"], account["remote_id"], account["server_url"]) == (
        "bluesky", f"@{shop.biz.handle}", shop.biz.did, PDS_URL), dump(account)
    assert shop.app_password.encode() not in tend.db.read_bytes(), "the app password is in the inbox file"
    stored_refresh_token(account_id)
    assert load_secret(account_id, "app_password") is None, "the app password itself was kept"
    assert unread_notifications(bluesky, shop.biz) > 0

    sync_ok(tend)
    # What Tend has read is marked seen on Bluesky too (updateSeen), so the phone app does not nag about it.
    assert unread_notifications(bluesky, shop.biz) == 0

    # Both conversations the shop is mentioned in, root to leaves, including customers answering each other.
    order = assert_whole_thread(bluesky, tend, shop.order)
    assert {shop.order.uri, shop.bob_on_order.uri, shop.dave_on_bob.uri, shop.shop_on_order.uri,
            shop.carol_on_shop.uri} == set(order)
    bakery = assert_whole_thread(bluesky, tend, shop.bakery)
    assert {shop.bakery.uri, shop.carol_mentions.uri, shop.alice_on_bakery.uri} == set(bakery)

    inbox = posts_by_id(tend)
    # The quote of the shop's post notified the shop: it is in the inbox.
    assert tend_id(shop.carol_quotes_hours) in inbox, dump(sorted(inbox))
    # The shop's own posts are outgoing, everyone else's incoming.
    for pid, row in inbox.items():
        want = "out" if row["author_id"] == shop.biz.tend_id else "in"
        assert row["direction"] == want, dump(row)
    assert inbox[tend_id(shop.shop_on_order)]["direction"] == "out"
    # The mention reads as text, with the shop's handle where the facet points.
    assert f"@{shop.biz.handle}" in inbox[tend_id(shop.order)]["text"], inbox[tend_id(shop.order)]["text"]
    assert "🧁🧁" in inbox[tend_id(shop.order)]["text"]
    # A shortened link keeps its real target.
    assert TRACKING_URL in inbox[tend_id(shop.bob_on_order)]["text"], inbox[tend_id(shop.bob_on_order)]["text"]

    assert_counts_match(bluesky, tend)
    # The AppView's figures really differ per person, so the comparison above means something.
    authors = {a["id"]: a for a in tend.rows("SELECT * FROM authors")}
    assert authors[shop.alice.tend_id]["followers_count"] == 3
    assert authors[shop.bob.tend_id]["followers_count"] == 1
    root = inbox[tend_id(shop.order)]
    assert (root["reshare_count"], root["quote_count"], root["like_count"], root["reply_count"]) == (2, 1, 3, 2)


def test_a_second_sync_adds_nothing_and_new_activity_exactly_that(
    bluesky: Bluesky, shop: Shop, tend: TendCli
) -> None:
    connect(tend, shop)
    sync_ok(tend)
    before_posts = posts_by_id(tend)
    before_counts = table_counts(tend)

    sync_ok(tend)
    assert table_counts(tend) == before_counts
    after = posts_by_id(tend)
    assert {pid: {k: v for k, v in row.items() if k != "observed_at"} for pid, row in after.items()} == {
        pid: {k: v for k, v in row.items() if k != "observed_at"} for pid, row in before_posts.items()
    }

    # New activity: a new mention, a customer answering a customer deep in a known thread (no notification for
    # the shop), and more reposts, likes and followers.
    eve = bluesky.person("eve")
    bluesky.follow(eve, shop.alice)
    new_mention = bluesky.post(eve, f"@{shop.biz.handle} do you deliver on Sundays?", mention=[shop.biz])
    alice_on_dave = bluesky.post(shop.alice, "Yes, Monday morning", reply_to=shop.dave_on_bob)
    bluesky.repost(eve, shop.order)
    bluesky.like(eve, shop.bob_on_order)
    bluesky.like(eve, shop.carol_mentions)
    bluesky.process_all()

    sync_ok(tend)
    added = set(posts_by_id(tend)) - set(before_posts)
    assert added == {tend_id(new_mention), tend_id(alice_on_dave)}, dump(sorted(added))
    assert_whole_thread(bluesky, tend, shop.order)
    assert_whole_thread(bluesky, tend, new_mention)
    assert_counts_match(bluesky, tend)


def test_a_reply_sent_from_tend_lands_once_in_the_thread_with_the_right_root_and_parent(
    bluesky: Bluesky, shop: Shop, tend: TendCli
) -> None:
    account_id = connect(tend, shop)
    sync_ok(tend)
    account = inbox_account(tend, account_id)
    parent = inbox_post(tend, shop.bob_on_order)  # deep in the thread: root and parent differ
    text = f"Sorry @{shop.bob.handle} 🙏 your parcel leaves today"
    reply = OutgoingReply(in_reply_to=parent, text=text, visibility=Visibility.PUBLIC,
                          idempotency_key=str(uuid.uuid4()))

    sent = asyncio.run(send_with_fresh_connector(account, reply))
    assert sent.direction == Direction.OUT and sent.author_id == shop.biz.tend_id, sent
    assert sent.parent_id == tend_id(shop.bob_on_order) and sent.thread_id == tend_id(shop.order), sent
    # A retry with the same key (the app died before it recorded the send) must not post again.
    again = asyncio.run(send_with_fresh_connector(account, reply))
    assert again.id == sent.id, (sent, again)

    bluesky.process_all()
    thread = bluesky.thread_posts(shop.order.uri)
    mine = [v for v in thread.values() if v["author"]["did"] == shop.biz.did and v["record"]["text"] == text]
    assert len(mine) == 1, dump(mine)
    view = mine[0]
    assert tend_id(view["uri"]) == sent.id
    assert view["record"]["reply"] == {"root": shop.order.strong(), "parent": shop.bob_on_order.strong()}, dump(view)
    # The @mention is a real mention: a facet over the handle's UTF-8 bytes, pointing at bob's DID.
    encoded = text.encode()
    mentions = [(f["index"], feat["did"]) for f in view["record"].get("facets", ()) for feat in f["features"]
                if feat["$type"] == "app.bsky.richtext.facet#mention"]
    assert len(mentions) == 1, dump(view["record"])
    (index, did), = mentions
    assert did == shop.bob.did
    assert encoded[index["byteStart"]:index["byteEnd"]] == f"@{shop.bob.handle}".encode()

    sync_ok(tend)
    inbox = posts_by_id(tend)
    assert inbox[sent.id]["direction"] == "out" and inbox[sent.id]["parent_id"] == tend_id(shop.bob_on_order)
    assert inbox[sent.id]["text"] == text
    assert_whole_thread(bluesky, tend, shop.order)
    (thread,) = tend.rows("SELECT needs_reply, last_out_at FROM threads WHERE id = ?", tend_id(shop.order))
    assert thread["needs_reply"] == 0, "the thread still waits for an answer after the shop answered last"


def test_the_refresh_token_rotates_and_later_syncs_still_work(
    bluesky: Bluesky, shop: Shop, tend: TendCli
) -> None:
    account_id = connect(tend, shop)
    tokens = [stored_refresh_token(account_id)]
    for _ in range(2):
        sync_ok(tend)
        tokens.append(stored_refresh_token(account_id))
    assert len(set(tokens)) == 3, "the refresh token did not rotate (or the new one was not kept) on each sync"
    (account,) = tend.rows("SELECT needs_reconnect FROM accounts")
    assert account["needs_reconnect"] == 0

    # The activity after the rotations arrives with the newest token.
    late = bluesky.post(shop.dave, f"@{shop.biz.handle} still open?", mention=[shop.biz])
    bluesky.process_all()
    sync_ok(tend)
    assert tend_id(late) in posts_by_id(tend)

    # A long-running app: when the access token is about to expire (the PDS gives two hours), the connector
    # refreshes before its next request instead of failing it, and keeps the rotated token.
    asyncio.run(read_profiles_across_an_expiry(inbox_account(tend, account_id), shop))
    assert stored_refresh_token(account_id) != tokens[-1]


async def read_profiles_across_an_expiry(account: Account, shop: Shop) -> None:
    from console.connectors.bluesky import BlueskyConnector

    now = [datetime.now(timezone.utc)]
    saved: list[str] = []

    def save(token: str) -> None:
        saved.append(token)
        store_secret(account.id, "refresh_token", token)

    connector = BlueskyConnector(account, stored_refresh_token(account.id), clock=lambda: now[0],
                                 save_refresh_token=save)
    try:
        first = await connector.fetch_authors([shop.alice.tend_id])
        now[0] += timedelta(hours=2)
        second = await connector.fetch_authors([shop.alice.tend_id])
    finally:
        await connector.aclose()
    assert [a.followers_count for a in first + second] == [3, 3], (first, second)
    assert len(saved) == 2 and len(set(saved)) == 2, "expected one refresh at start and one before the expiry"


def test_deleted_customer_posts_are_marked_and_the_rest_kept(bluesky: Bluesky, shop: Shop, tend: TendCli) -> None:
    connect(tend, shop)
    sync_ok(tend)
    before = posts_by_id(tend)

    bluesky.delete(shop.dave, shop.dave_on_bob)  # a leaf deep in a thread
    bluesky.delete(shop.dave, shop.bakery)  # a thread's root: the AppView no longer serves that thread
    bluesky.process_all()
    sync_ok(tend)

    after = posts_by_id(tend)
    assert set(after) == set(before), "deleted posts must stay in the inbox, marked"
    deleted = {pid for pid, row in after.items() if row["deleted_at"] is not None}
    assert deleted == {tend_id(shop.dave_on_bob), tend_id(shop.bakery)}, dump(sorted(deleted))
    assert_counts_match(bluesky, tend, authors_of_live_posts_only=True)


def test_a_busy_day_pages_through_notifications_and_reads_long_threads_to_the_leaf(
    bluesky: Bluesky, tend: TendCli
) -> None:
    """More mentions than one page of notifications, and a conversation deeper than one thread read, where the
    shop finally answers at the bottom and a customer answers the shop (a notification deep in the thread)."""
    biz, alice, bob, carol = (bluesky.person(n) for n in ("shop", "alice", "bob", "carol"))
    app_password = bluesky.app_password(biz)
    mentions = [bluesky.post((alice, bob, carol)[i % 3], f"Question {i} for @{biz.handle}", mention=[biz])
                for i in range(BUSY_MENTIONS)]
    leaf = mentions[0]
    for i in range(LONG_THREAD):  # alice and bob answer each other: nothing here notifies the shop
        leaf = bluesky.post((bob, alice)[i % 2], f"Answer {i}", reply_to=leaf)
    shop_at_the_bottom = bluesky.post(biz, "We are reading along, sorry for the wait!", reply_to=leaf)
    carol_on_shop = bluesky.post(carol, "Thanks for answering", reply_to=shop_at_the_bottom)
    bluesky.process_all()

    added = tend.add_bluesky(biz.handle, app_password)
    assert added.returncode == 0, explain(added)
    sync_ok(tend)

    roots = {r["root_post_id"] for r in tend.rows("SELECT root_post_id FROM threads")}
    assert roots == {tend_id(m) for m in mentions}, f"{len(roots)} threads for {len(mentions)} mentions"
    inbox = posts_by_id(tend)
    assert tend_id(carol_on_shop) in inbox, (
        f"a reply to the shop {LONG_THREAD + 2} posts below its thread's root was notified but is not in the inbox "
        f"({len(thread_ids_in_inbox(tend, mentions[0]))} of the thread's {LONG_THREAD + 3} posts are)"
    )
    chain = assert_whole_thread(bluesky, tend, mentions[0])
    assert len(chain) == LONG_THREAD + 3
    assert_counts_match(bluesky, tend)


def test_a_customer_the_shop_blocked_does_not_break_the_thread(bluesky: Bluesky, shop: Shop, tend: TendCli) -> None:
    """As the shop sees it, a blocked customer's reply is a ``blockedPost`` with nothing visible below it."""
    bluesky.block(shop.biz, shop.bob)  # bob answered alice; dave answered bob
    bluesky.process_all()
    connect(tend, shop)
    sync_ok(tend)

    seen = assert_whole_thread(bluesky, tend, shop.order, viewer=shop.biz)
    assert shop.bob_on_order.uri not in seen and shop.dave_on_bob.uri not in seen, "the block did not apply"
    assert_whole_thread(bluesky, tend, shop.bakery, viewer=shop.biz)


def test_a_revoked_app_password_asks_the_owner_to_reconnect(bluesky: Bluesky, shop: Shop, tend: TendCli) -> None:
    account_id = connect(tend, shop)
    sync_ok(tend)
    before = table_counts(tend)
    # The owner revokes Tend's app password in Bluesky's settings: its sessions end (refreshSession answers
    # 400 ExpiredToken "Token has been revoked").
    bluesky.revoke_app_password(shop.biz)

    result = tend.sync()
    assert result.returncode != 0, explain(result)
    assert "Traceback" not in result.stdout + result.stderr, explain(result)
    assert "reconnect" in (result.stdout + result.stderr).lower(), explain(result)
    (account,) = tend.rows("SELECT needs_reconnect FROM accounts WHERE id = ?", account_id)
    assert account["needs_reconnect"] == 1
    assert table_counts(tend) == before, "a failed sync changed the inbox"

    # Connecting again with a new app password clears it, and the next sync works.
    added = tend.add_bluesky(shop.biz.handle, bluesky.app_password(shop.biz, name="Tend again"))
    assert added.returncode == 0, explain(added)
    sync_ok(tend)
    (account,) = tend.rows("SELECT needs_reconnect FROM accounts WHERE id = ?", account_id)
    assert account["needs_reconnect"] == 0
