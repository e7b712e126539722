"""Tend against a real, independently written Mastodon-API server (mastodon-mock), through the real command line.

A new owner connects the shop's account with `tend account add mastodon --server URL --token-stdin` and runs
`tend sync --once`; the inbox file must then hold what the server reports: every mention as a whole thread, the
shop's own replies as outgoing, direct messages as direct, the server's counts and follower numbers, and the right
threads waiting for an answer. Customers act only through the server's public API.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from mastodon_world import MastodonMock, MockServerProcess, Person, Status, Tend, explain
from storefront import Storefront, open_storefront

from console.domain.timeutil import iso_utc, parse_iso

pytestmark = pytest.mark.integration

TABLES = ("accounts", "authors", "posts", "threads", "count_samples", "sync_cursors")


# -- helpers ---------------------------------------------------------------------------------------------------------


def connect(world: Storefront, tend: Tend) -> str:
    return connect_as(world.server, world.shop, tend)


def connect_as(server: MastodonMock, shop: Person, tend: Tend) -> str:
    """`tend account add mastodon` with the shop's token on stdin; returns the account id Tend chose."""
    added = tend.add_mastodon(server.base_url, shop.token)
    assert added.returncode == 0, explain(added)
    assert shop.token not in added.stdout + added.stderr, "the token was echoed back"
    with tend.inbox() as db:
        rows = db.execute("SELECT * FROM accounts").fetchall()
    assert len(rows) == 1, [dict(r) for r in rows]
    return str(rows[0]["id"])


def sync_ok(tend: Tend) -> list[str]:
    result = tend.sync()
    assert result.returncode == 0, explain(result)
    assert "Traceback" not in result.stdout + result.stderr, explain(result)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"one line per account expected:\n{explain(result)}"
    return lines


def sync_fails(tend: Tend) -> str:
    """A sync that must fail plainly: non-zero, one line naming the reason, no traceback. Returns that line."""
    result = tend.sync()
    assert result.returncode != 0, explain(result)
    assert "Traceback" not in result.stdout + result.stderr, explain(result)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"one line per account expected:\n{explain(result)}"
    assert "http://" not in lines[0] and "{" not in lines[0], f"not a plain reason: {lines[0]}"
    return lines[0]


def rows(tend: Tend, sql: str, *params: Any) -> list[dict[str, Any]]:
    with tend.inbox() as db:
        return [dict(r) for r in db.execute(sql, params).fetchall()]


def posts_by_id(tend: Tend) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in rows(tend, "SELECT * FROM posts")}


def table_counts(tend: Tend) -> dict[str, int]:
    with tend.inbox() as db:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608


def server_time(value: str) -> str:
    """A server timestamp in the inbox's format (UTC, milliseconds, Z)."""
    return iso_utc(parse_iso(value))


def source_text(server: MastodonMock, status: Status) -> str:
    """What the author typed, as the server keeps it (the inbox stores plain text, not HTML)."""
    return str(server.http.get(f"/api/v1/statuses/{status['id']}/source").json()["text"])


def assert_post_matches(server: MastodonMock, world: Storefront, row: dict[str, Any], status: Status,
                        root_id: str) -> None:
    """One stored post against the server's own report of it."""
    where = f"post {row['id']} ({source_text(server, status)!r})"
    assert row["network"] == "mastodon", where
    assert row["thread_id"] == server.post_id(root_id), where
    parent = status["in_reply_to_id"]
    assert row["parent_id"] == (server.post_id(parent) if parent else None), where
    assert row["author_id"] == server.author_id(status["account"]), where
    assert row["direction"] == ("out" if status["account"]["id"] == world.shop.id else "in"), where
    assert row["visibility"] == status["visibility"], where
    assert row["text"].strip() == source_text(server, status).strip(), where
    assert "<p>" not in row["text"], where
    assert row["created_at"] == server_time(status["created_at"]), where
    assert (row["reshare_count"], row["like_count"], row["reply_count"], row["quote_count"]) == (
        status["reblogs_count"], status["favourites_count"], status["replies_count"], status.get("quotes_count", 0)
    ), f"{where}: counts differ from the server's"
    assert row["deleted_at"] is None, where
    assert row["url"] == status["url"], where


def assert_inbox_matches_server(world: Storefront, tend: Tend) -> dict[str, list[Status]]:
    """The whole inbox against the server: posts, threads, authors. Returns the threads as the server has them."""
    server = world.server
    expected = world.expected_threads()
    posts = posts_by_id(tend)

    wanted = {server.post_id(s): (s, root) for root, thread in expected.items() for s in thread}
    missing = sorted(set(wanted) - set(posts))
    extra = sorted(set(posts) - set(wanted))
    assert not missing and not extra, (
        f"missing from the inbox: {[(m, wanted[m][0]['content']) for m in missing]}; "
        f"not expected there: {[(e, posts[e]['text']) for e in extra]}"
    )
    for post_id, (status, root) in wanted.items():
        assert_post_matches(server, world, posts[post_id], status, root)

    threads = {r["id"]: r for r in rows(tend, "SELECT * FROM threads")}
    assert set(threads) == {server.post_id(root) for root in expected}
    for root, thread in expected.items():
        row = threads[server.post_id(root)]
        assert row["root_post_id"] == server.post_id(root)
        assert row["post_count"] == len(thread), row
        assert row["reshare_total"] == sum(s["reblogs_count"] for s in thread), row
        last_in = max((s["created_at"] for s in thread if s["account"]["id"] != world.shop.id), default=None)
        last_out = max((s["created_at"] for s in thread if s["account"]["id"] == world.shop.id), default=None)
        needs = last_in is not None and (last_out is None or parse_iso(last_in) > parse_iso(last_out))
        assert bool(row["needs_reply"]) is needs, f"thread {row['id']}: needs_reply should be {needs}"

    authors = {r["id"]: r for r in rows(tend, "SELECT * FROM authors")}
    assert {p["author_id"] for p in posts.values()} <= set(authors)
    for author_id, author in authors.items():
        native = author_id.rsplit("/", 1)[-1]
        assert author_id == server.author_id(native), author_id
        truth = server.account(native)
        assert author["handle"].lstrip("@").startswith(truth["username"]), author
        assert (author["followers_count"], author["following_count"], author["posts_count"]) == (
            truth["followers_count"], truth["following_count"], truth["statuses_count"]
        ), f"{truth['username']}: follower figures differ from the server's"
    return expected


@pytest.fixture
def world(mastodon: MastodonMock) -> Storefront:
    """A week of its own, for a test that changes things on the server."""
    return open_storefront(mastodon)


@pytest.fixture(scope="module")
def the_week(mastodon_process: MockServerProcess) -> Iterator[Storefront]:
    server = MastodonMock(mastodon_process.base_url)
    try:
        yield open_storefront(server)
    finally:
        server.close()


@pytest.fixture
def shared_world(the_week: Storefront, mastodon: MastodonMock) -> Storefront:
    """One week shared by the tests that only read it (faster), each with its own token for the shop (revoking it
    harms no other test)."""
    return replace(the_week, shop=replace(the_week.shop, token=mastodon.login(the_week.shop.username)))


@pytest.fixture
def connected(world: Storefront, tend: Tend) -> Storefront:
    """The shop connected (`tend account add`), not synced yet."""
    connect(world, tend)
    return world


@pytest.fixture
def synced(world: Storefront, tend: Tend) -> Storefront:
    """The shop connected and synced once, successfully."""
    connect(world, tend)
    sync_ok(tend)
    return world


@pytest.fixture
def synced_shared(shared_world: Storefront, tend: Tend) -> Storefront:
    connect(shared_world, tend)
    sync_ok(tend)
    return shared_world


# -- a new owner, end to end -----------------------------------------------------------------------------------------


def test_the_hand_written_week_is_what_the_server_reports(shared_world: Storefront) -> None:
    """Guards the scenario itself: the threads written down by hand are the ones the server builds."""
    world = shared_world
    by_server = {root: sorted(s["id"] for s in thread) for root, thread in world.expected_threads().items()}
    by_hand = {root: sorted(s["id"] for s in thread) for root, thread in world.threads.items()}
    assert by_server == by_hand


def test_connect_and_sync_fills_the_inbox_with_what_the_server_reports(shared_world: Storefront, tend: Tend) -> None:
    world = shared_world
    account_id = connect(world, tend)
    listed = tend.run("account", "list")
    assert listed.returncode == 0, explain(listed)
    assert account_id in listed.stdout and world.shop.username in listed.stdout

    (line,) = sync_ok(tend)
    assert world.shop.username in line

    account = rows(tend, "SELECT * FROM accounts")[0]
    assert account["network"] == "mastodon" and account["remote_id"] == world.shop.id
    assert account["needs_reconnect"] == 0
    assert account["char_limit"] == 500  # /api/v2/instance configuration.statuses.max_characters

    expected = assert_inbox_matches_server(world, tend)
    threads = {r["id"]: r for r in rows(tend, "SELECT * FROM threads")}
    for root, needs in world.needs_reply.items():
        assert bool(threads[world.server.post_id(root)]["needs_reply"]) is needs, root

    posts = posts_by_id(tend)
    server = world.server
    assert posts[server.post_id(world.shop_sorry)]["direction"] == "out"
    assert posts[server.post_id(world.shop_welcome)]["direction"] == "out"
    assert posts[server.post_id(world.address_dm)]["visibility"] == "direct"
    assert posts[server.post_id(world.coffee)]["parent_id"] is None  # the root Dan never addressed to the shop
    assert posts[server.post_id(world.me_too)]["thread_id"] == server.post_id(world.order_late)
    assert server.post_id(world.noise) not in posts
    assert not {server.post_id(b) for b in world.boosts} & set(posts), "a boost was stored as a post"
    assert posts[server.post_id(world.order_late)]["reshare_count"] == 2
    # Who boosted what: the shop's answer from its reblog notification, customers' posts from reblogged_by.
    reshares = {(r["post_id"], r["author_id"]) for r in rows(tend, "SELECT post_id, author_id FROM reshares")}
    assert reshares == {(server.post_id(b["reblog"]), server.author_id(b["account"])) for b in world.boosts}
    assert sum(len(t) for t in expected.values()) == len(posts) == 10
    assert rows(tend, "SELECT count(*) AS n FROM sync_cursors")[0]["n"] >= 1


def test_a_second_sync_adds_nothing(synced_shared: Storefront, tend: Tend) -> None:
    world = synced_shared
    before_counts = table_counts(tend)
    content = "SELECT id, thread_id, parent_id, text, reshare_count, like_count, reply_count, direction, visibility " \
              "FROM posts ORDER BY id"
    before = rows(tend, content)
    samples = rows(tend, "SELECT * FROM count_samples ORDER BY post_id, observed_at")

    sync_ok(tend)

    assert table_counts(tend) == before_counts
    assert rows(tend, content) == before
    assert rows(tend, "SELECT * FROM count_samples ORDER BY post_id, observed_at") == samples
    assert_inbox_matches_server(world, tend)


def test_new_activity_updates_counts_and_adds_exactly_the_new_post(synced: Storefront, tend: Tend) -> None:
    world, server = synced, synced.server
    before = posts_by_id(tend)
    samples_before = {r["post_id"]: r["n"] for r in rows(
        tend, "SELECT post_id, count(*) AS n FROM count_samples GROUP BY post_id")}
    counts_before = {pid: (p["reshare_count"], p["like_count"], p["reply_count"]) for pid, p in before.items()}

    eve = server.person("eve")
    eve.follow(world.ann)  # Ann's audience grows
    world.ben.boost(world.shop_sorry)  # the shop is told (a reblog notification)
    eve.favourite(world.order_late)  # the shop is not told: only the thread's refresh shows it
    new_reply = eve.reply(world.thanks, "any news? I ordered the same day", to=world.shop)

    sync_ok(tend)

    after = posts_by_id(tend)
    assert set(after) - set(before) == {server.post_id(new_reply)}
    assert after[server.post_id(new_reply)]["thread_id"] == server.post_id(world.order_late)
    assert_inbox_matches_server(world, tend)
    ann = rows(tend, "SELECT followers_count FROM authors WHERE id = ?", server.author_id(world.ann))[0]
    assert ann["followers_count"] == server.account(world.ann.id)["followers_count"] == 5  # Ben, Cat, Dan, shop, Eve

    samples_after = {r["post_id"]: r["n"] for r in rows(
        tend, "SELECT post_id, count(*) AS n FROM count_samples GROUP BY post_id")}
    for post_id, row in after.items():
        if post_id not in before:
            assert samples_after[post_id] == 1
            continue
        changed = (row["reshare_count"], row["like_count"], row["reply_count"]) != counts_before[post_id]
        assert samples_after[post_id] == samples_before[post_id] + int(changed), post_id
    changed_ids = {server.post_id(s) for s in (world.shop_sorry, world.order_late, world.thanks)}
    assert all(samples_after[p] == samples_before[p] + 1 for p in changed_ids)


def test_counts_on_open_threads_refresh_without_new_notifications(synced: Storefront, tend: Tend) -> None:
    """Boosts and favourites of a customer's post notify that customer, not the shop: the sync must still see them."""
    world, server = synced, synced.server
    eve = server.person("eve")
    eve.boost(world.order_late)
    eve.favourite(world.deliver)
    world.dan.reply(world.same_here, "we should all ask for a refund", to=world.ben)  # customers only

    sync_ok(tend)

    assert_inbox_matches_server(world, tend)


def test_an_edit_reaches_the_inbox(synced: Storefront, tend: Tend) -> None:
    """mastodon-mock sends no ``update`` notification for an edit: the edit arrives when the thread is read again."""
    world, server = synced, synced.server
    world.ann.edit(world.order_late, f"{world.shop.mention} my order #1042 arrived at last, but the box was crushed")
    server.person("eve").reply(world.thanks, "did yours arrive?", to=world.shop)  # a fresh mention in the thread

    sync_ok(tend)

    edited = posts_by_id(tend)[server.post_id(world.order_late)]
    assert edited["text"].strip() == source_text(server, world.order_late)
    assert "crushed" in edited["text"]
    truth = server.status(world.order_late["id"])
    assert truth is not None and truth["edited_at"] is not None
    assert edited["edited_at"] == server_time(truth["edited_at"])
    assert_inbox_matches_server(world, tend)


def test_a_deletion_reaches_the_inbox(synced: Storefront, tend: Tend) -> None:
    """A deleted reply is marked (its history kept); a reply to it that still exists is not."""
    world, server = synced, synced.server
    world.ben.delete(world.same_here)  # Cat's answer to it stays on the server, now without a parent
    server.person("eve").reply(world.thanks, "did yours arrive?", to=world.shop)  # a fresh mention in the thread

    sync_ok(tend)

    posts = posts_by_id(tend)
    deleted = posts[server.post_id(world.same_here)]
    assert deleted["deleted_at"] is not None, "a deleted post must be marked, not kept as if live"
    assert "same here" in deleted["text"], "the owner keeps the history of a deleted post"

    assert server.status(world.me_too["id"]) is not None
    orphan = posts[server.post_id(world.me_too)]
    assert orphan["deleted_at"] is None, "a reply whose parent was deleted still exists on the server"

    for post_id, row in posts.items():
        if row["deleted_at"] is None:
            assert server.status(post_id.rsplit("/", 1)[-1], world.shop) is not None, f"{post_id} is gone"


def test_a_mention_deleted_before_the_first_sync_leaves_nothing_behind(mastodon: MastodonMock, tend: Tend) -> None:
    """mastodon-mock keeps the notification of a deleted status, with ``"status": null``; Tend must cope."""
    shop, ann = mastodon.person("shop"), mastodon.person("ann")
    regret = ann.mentioning(shop, "you are all useless")
    ann.delete(regret)
    kept = ann.mentioning(shop, "sorry, bad day. Is the shop open on Sunday?")
    notifications = mastodon.http.get("/api/v1/notifications", headers=shop.auth).json()
    assert any(n["type"] == "mention" and n["status"] is None for n in notifications)

    connect_as(mastodon, shop, tend)
    sync_ok(tend)

    posts = posts_by_id(tend)
    assert set(posts) == {mastodon.post_id(kept)}


def test_many_mentions_are_fetched_across_pages_first_and_later(mastodon: MastodonMock, tend: Tend) -> None:
    """More notifications than one page holds (mastodon-mock pages by 40 at most), on the first sync and after."""
    shop, ann, ben = mastodon.person("shop"), mastodon.person("ann"), mastodon.person("ben")
    first = [(ann if n % 2 else ben).mentioning(shop, f"question number {n}") for n in range(41)]
    connect_as(mastodon, shop, tend)
    sync_ok(tend)
    assert set(posts_by_id(tend)) == {mastodon.post_id(s) for s in first}

    later = [ann.mentioning(shop, f"follow-up number {n}") for n in range(41)]
    (line,) = sync_ok(tend)
    assert "41 new" in line, line
    posts = posts_by_id(tend)
    assert set(posts) == {mastodon.post_id(s) for s in first + later}
    threads = rows(tend, "SELECT needs_reply, post_count FROM threads")
    assert len(threads) == 82 and all(t["needs_reply"] == 1 and t["post_count"] == 1 for t in threads)


# -- answering -------------------------------------------------------------------------------------------------------


def stored_post(tend: Tend, post_id: str) -> Any:
    """A post from the inbox as the domain record the composer hands to the connector."""
    from console.domain import Direction, Post, Visibility

    row = rows(tend, "SELECT * FROM posts WHERE id = ?", post_id)[0]
    return Post(
        id=row["id"], network=row["network"], account_id=row["account_id"], thread_id=row["thread_id"],
        author_id=row["author_id"], text=row["text"], created_at=row["created_at"], observed_at=row["observed_at"],
        parent_id=row["parent_id"], url=row["url"], visibility=Visibility(row["visibility"]),
        direction=Direction(row["direction"]),
    )


def record_of(tend: Tend, server: MastodonMock, status: Status, root: Status) -> Any:
    """The domain record the composer would hand over, built from the server's status (no sync needed)."""
    from console.domain import Direction, Post, Visibility

    (account,) = rows(tend, "SELECT id, remote_id FROM accounts")
    return Post(
        id=server.post_id(status), network="mastodon", account_id=account["id"], thread_id=server.post_id(root),
        author_id=server.author_id(status["account"]), text=source_text(server, status),
        created_at=server_time(status["created_at"]), observed_at=server_time(status["created_at"]),
        parent_id=server.post_id(status["in_reply_to_id"]) if status["in_reply_to_id"] else None,
        url=status["url"], visibility=Visibility(status["visibility"]),
        direction=Direction.OUT if status["account"]["id"] == account["remote_id"] else Direction.IN,
    )


def send_twice(tend: Tend, token: str, reply: Any) -> tuple[Any, Any]:
    """The connector's send_reply, called twice with the same reply (a retried send after a lost answer)."""
    from console.connectors.mastodon import MastodonConnector
    from console.store import Inbox

    inbox = Inbox.open(tend.db)
    try:
        (account,) = inbox.accounts()
    finally:
        inbox.close()

    async def go() -> tuple[Any, Any]:
        connector = MastodonConnector(account, token)
        try:
            return await connector.send_reply(reply), await connector.send_reply(reply)
        finally:
            await connector.aclose()

    return asyncio.run(go())


def replies_from(server: MastodonMock, person: Person, to: Status) -> list[Status]:
    return [s for s in server.statuses_by(person) if s["in_reply_to_id"] == to["id"]]


def store_sent(tend: Tend, post: Any) -> None:
    """What the outbox does with a sent reply: store the post the network returned."""
    from console.domain import Batch
    from console.store import Inbox

    inbox = Inbox.open(tend.db)
    try:
        inbox.apply_batch(Batch(account_id=post.account_id, stream="outbox", posts=(post,)))
    finally:
        inbox.close()


def test_a_reply_sent_twice_with_one_idempotency_key_posts_once(synced: Storefront, tend: Tend) -> None:
    from console.connectors.base import OutgoingReply
    from console.domain import Direction, Visibility

    world, server = synced, synced.server
    target = stored_post(tend, server.post_id(world.thanks))
    reply = OutgoingReply(target, "Your tracking number is ZX-99-1042.", Visibility.PUBLIC, str(uuid.uuid4()))

    first, second = send_twice(tend, world.shop.token, reply)

    sent = replies_from(server, world.shop, world.thanks)
    assert len(sent) == 1, f"posted {len(sent)} times"
    status = sent[0]
    assert first.id == second.id == server.post_id(status)
    assert first.direction is Direction.OUT and first.parent_id == target.id and first.thread_id == target.thread_id
    assert first.account_id == target.account_id
    assert status["visibility"] == "public"

    store_sent(tend, first)
    thread_id = server.post_id(world.order_late)
    assert rows(tend, "SELECT needs_reply FROM threads WHERE id = ?", thread_id)[0]["needs_reply"] == 0

    # Ann answers the shop's reply: the sync reads the thread again and must find the same post, not a second one.
    world.ann.reply(status, "got it, thank you!", to=world.shop)
    sync_ok(tend)
    posts = posts_by_id(tend)
    assert posts[server.post_id(status)]["direction"] == "out"
    assert [p for p in posts.values() if "ZX-99-1042" in p["text"]] == [posts[server.post_id(status)]]
    assert rows(tend, "SELECT needs_reply FROM threads WHERE id = ?", thread_id)[0]["needs_reply"] == 1
    assert_inbox_matches_server(world, tend)


def test_a_public_reply_mentions_the_customer_it_answers(connected: Storefront, tend: Tend) -> None:
    """On Mastodon only a mention notifies: a reply that does not name the customer never reaches them."""
    from console.connectors.base import OutgoingReply
    from console.domain import Visibility

    world, server = connected, connected.server
    target = record_of(tend, server, world.deliver, world.coffee)
    send_twice(tend, world.shop.token, OutgoingReply(target, "Yes, every Friday before noon.", Visibility.PUBLIC,
                                                     str(uuid.uuid4())))
    (status,) = replies_from(server, world.shop, world.deliver)
    assert world.dan.id in {m["id"] for m in status["mentions"]}, f"Dan is not mentioned: {status['content']}"


def test_moving_a_thread_to_direct_messages_sends_a_direct_reply(connected: Storefront, tend: Tend) -> None:
    from console.connectors.base import OutgoingReply
    from console.domain import Visibility

    world, server = connected, connected.server
    target = record_of(tend, server, world.order_late, world.order_late)
    reply = OutgoingReply(target, "Could you send us your order email privately?", Visibility.DIRECT,
                          str(uuid.uuid4()))

    first, _second = send_twice(tend, world.shop.token, reply)

    sent = [s for s in replies_from(server, world.shop, world.order_late) if s["id"] != world.shop_sorry["id"]]
    assert len(sent) == 1, f"posted {len(sent)} times"
    status = sent[0]
    assert status["visibility"] == "direct"
    assert first.id == server.post_id(status)
    assert first.visibility is Visibility.DIRECT
    # A direct status reaches only the accounts it mentions: without Ann's handle nobody would receive it.
    assert world.ann.id in {m["id"] for m in status["mentions"]}, "the direct reply mentions nobody: Ann never sees it"
    conversations = server.http.get("/api/v1/conversations", headers=world.ann.auth).json()
    assert any(c["last_status"]["id"] == status["id"] for c in conversations)


def test_a_reply_to_a_direct_message_stays_direct(connected: Storefront, tend: Tend) -> None:
    """Answering a private message must never publish it, whatever visibility the reply was queued with."""
    from console.connectors.base import OutgoingReply
    from console.domain import Visibility

    world, server = connected, connected.server
    target = record_of(tend, server, world.address_dm, world.address_dm)
    send_twice(tend, world.shop.token, OutgoingReply(target, "Thanks, address updated.", Visibility.PUBLIC,
                                                     str(uuid.uuid4())))
    (status,) = replies_from(server, world.shop, world.address_dm)
    assert status["visibility"] == "direct"
    assert world.ben.id in {m["id"] for m in status["mentions"]}


# -- when things go wrong ------------------------------------------------------------------------------------------


FAULTS = {
    "server error 500": {"type": "status", "status": 500},
    "rate limited 429": {"type": "ratelimit"},
    "not JSON": {"type": "malformed", "truncate": True},
}


@pytest.mark.parametrize("effect", FAULTS.values(), ids=FAULTS.keys())
def test_a_failing_server_fails_the_sync_plainly_and_the_next_sync_completes(
    shared_world: Storefront, tend: Tend, effect: dict[str, Any]
) -> None:
    world = shared_world
    server = world.server
    connect(world, tend)
    server.add_fault(path="/api/v1/notifications", methods=["GET"], effect=effect)

    started = time.monotonic()
    line = sync_fails(tend)
    assert time.monotonic() - started < 30, "a sync --once must not sit out a long rate-limit wait"
    assert world.shop.username in line
    assert world.shop.token not in line

    server.clear_faults()
    sync_ok(tend)
    assert_inbox_matches_server(world, tend)


def test_a_thread_that_fails_to_load_is_fetched_whole_by_the_next_sync(shared_world: Storefront, tend: Tend) -> None:
    """One conversation's context keeps failing: nothing else is lost, and the cursor does not skip past it."""
    world = shared_world
    server = world.server
    connect(world, tend)
    ids = "|".join((world.deliver["id"], world.coffee["id"]))
    # A garbled answer fails at once (a 5xx would be retried with backoff first, as the test above shows).
    server.add_fault(path_regex=rf"^/api/v1/statuses/({ids})/context$", methods=["GET"],
                     effect={"type": "malformed", "truncate": True})

    sync_fails(tend)

    server.clear_faults()
    sync_ok(tend)
    assert_inbox_matches_server(world, tend)
    assert server.post_id(world.coffee) in posts_by_id(tend)


def test_a_revoked_token_asks_the_owner_to_reconnect(synced_shared: Storefront, tend: Tend) -> None:
    world = synced_shared
    before = table_counts(tend)
    world.server.revoke(world.shop.token)

    line = sync_fails(tend)

    assert "reconnect" in line.lower(), line
    account = rows(tend, "SELECT needs_reconnect FROM accounts")[0]
    assert account["needs_reconnect"] == 1
    after = table_counts(tend)
    assert {t: after[t] for t in ("posts", "authors", "threads")} == {t: before[t] for t in ("posts", "authors",
                                                                                             "threads")}


def test_an_invalid_token_is_refused_when_adding_the_account(mastodon: MastodonMock, tend: Tend) -> None:
    result = tend.add_mastodon(mastodon.base_url, "not-a-real-token")
    assert result.returncode != 0, explain(result)
    assert "Traceback" not in result.stdout + result.stderr, explain(result)
    assert "not-a-real-token" not in result.stdout + result.stderr
    if tend.db.exists():
        assert rows(tend, "SELECT * FROM accounts") == []


# -- the token's life ------------------------------------------------------------------------------------------------


def holds(path: Path, secret: str) -> bool:
    data = path.read_bytes()
    return secret.encode() in data or base64.b64encode(secret.encode()) in data


def files_holding(folder: Path, secret: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and holds(p, secret)]


def test_the_token_lives_in_the_keyring_only_and_removal_revokes_it(synced_shared: Storefront, tend: Tend) -> None:
    world, server = synced_shared, synced_shared.server
    token = world.shop.token
    with tend.inbox() as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert not [p for p in tend.db.parent.glob(f"{tend.db.name}*") if holds(p, token)], "the inbox holds the token"
    assert files_holding(tend.home, token), "the token is not in the (file) keyring under HOME"

    (account,) = rows(tend, "SELECT id FROM accounts")
    kept = table_counts(tend)
    removed = tend.run("account", "remove", account["id"], "--keep-history")
    assert removed.returncode == 0, explain(removed)

    assert not files_holding(tend.home, token), "the token is still in the keyring after removal"
    answer = server.http.get("/api/v1/accounts/verify_credentials", headers=world.shop.auth)
    assert answer.status_code == 401, "removing the account did not revoke the token on the server"
    after = table_counts(tend)
    assert (after["posts"], after["threads"]) == (kept["posts"], kept["threads"]), "--keep-history keeps them"
    synced_again = tend.sync()
    assert synced_again.returncode == 0 and world.shop.username not in synced_again.stdout, explain(synced_again)


def test_removing_an_account_with_its_history_empties_the_inbox(synced_shared: Storefront, tend: Tend) -> None:
    (account,) = rows(tend, "SELECT id FROM accounts")
    removed = tend.run("account", "remove", account["id"], "--delete-history")
    assert removed.returncode == 0, explain(removed)
    counts = table_counts(tend)
    assert counts["accounts"] == counts["posts"] == counts["threads"] == counts["sync_cursors"] == 0
