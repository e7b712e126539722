"""The embedded demo network, driven by a hand-advanced clock (nothing here sleeps)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

# The package is not installed in the venv: make the repository importable however pytest is started.
# (Redundant once pyproject's pytest options carry ``pythonpath = ["."]``.)
if str(Path(__file__).resolve().parents[2]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from console.connectors.base import Connector, OutgoingReply
from console.connectors.demo import DemoNetwork
from console.connectors.errors import BadResponse
from console.connectors.demo_world import NAMED_RESHARERS
from console.domain import Author, Batch, Direction, Post, Reshare, Visibility, parse_iso
from console.store.inbox import Inbox
from tests.connectors.demo_session import EPOCH, TICK, FakeClock, Session, collect, posts_of


def authors_of(batches: list[Batch]) -> dict[str, Author]:
    return {author.id: author for batch in batches for author in batch.authors}


def reshares_of(batches: list[Batch]) -> list[Reshare]:
    return [reshare for batch in batches for reshare in batch.reshares]


def is_business(author_id: str) -> bool:
    return author_id.endswith(":demo-crumbandco")


# -- shape ----------------------------------------------------------------------------------------------------------


def test_three_accounts_share_one_world() -> None:
    network = DemoNetwork(clock=FakeClock())
    accounts = network.accounts()
    assert [a.id for a in accounts] == ["demo-mastodon", "demo-bluesky", "demo-x"]
    assert [a.network for a in accounts] == ["mastodon", "bluesky", "x"]
    assert [a.server_url for a in accounts] == ["demo://mastodon", "demo://bluesky", "demo://x"]
    connectors = network.connectors()
    assert [c.account for c in connectors] == accounts
    for connector in connectors:
        assert isinstance(connector, Connector)
        assert connector.streams == ("activity",)
        assert connector.network is network


@pytest.mark.asyncio
async def test_pages_are_bounded_carry_their_authors_and_only_the_last_moves_the_cursor() -> None:
    session = Session()
    for connector in session.connectors:
        batches = await collect(connector, None)
        assert batches[-1].cursor is not None and not batches[-1].more
        for batch in batches[:-1]:
            assert batch.cursor is None and batch.more
        for batch in batches:
            assert batch.account_id == connector.account.id and batch.stream == "activity"
            assert len(batch.posts) <= 200
            carried = {a.id for a in batch.authors}
            assert {p.author_id for p in batch.posts} <= carried
            network = connector.account.network
            assert all(p.network == network and p.account_id == connector.account.id for p in batch.posts)
            assert all(a.network == network for a in batch.authors)
            for post in batch.posts:
                assert post.id.startswith(f"{network}:demo-")
                assert post.url == "" or post.url.startswith("https://") and ".demo.example/" in post.url
        cursor = json.loads(batches[-1].cursor)
        assert cursor == {"epoch": "2026-11-25T09:30:00.000Z", "tick": 0}


# -- the backfill ---------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_backfill_is_a_busy_week_before_the_epoch() -> None:
    batches = await Session().sync()
    posts = posts_of(batches)
    authors = authors_of(batches)
    threads: dict[str, list[Post]] = {}
    for post in posts:
        threads.setdefault(post.thread_id, []).append(post)

    assert len(threads) >= 30
    assert {p.network for p in posts} == {"mastodon", "bluesky", "x"}
    for root_id, members in threads.items():
        assert 1 <= len(members) <= 8
        root = next(p for p in members if p.id == root_id)
        assert root.parent_id is None
        ids = {p.id for p in members}
        assert all(p.parent_id in ids for p in members if p is not root)
    depths = Counter(len(m) for m in threads.values())
    assert depths[1] > 0 and max(depths) >= 6

    week_ago = EPOCH - timedelta(days=7)
    created = [parse_iso(p.created_at) for p in posts]
    assert all(week_ago <= moment <= EPOCH for moment in created)
    assert len({moment.date() for moment in created}) >= 6  # spread over the week, not bunched up
    assert all(parse_iso(p.observed_at) >= parse_iso(p.created_at) for p in posts)

    dm_threads = [m for m in threads.values() if any(p.visibility is Visibility.DIRECT for p in m)]
    assert len(dm_threads) >= 3
    assert all(p.visibility is Visibility.DIRECT for m in dm_threads for p in m)  # DMs never mix into public threads

    out = [p for p in posts if p.direction is Direction.OUT]
    assert out and all(is_business(p.author_id) for p in out)
    assert all(p.direction is Direction.IN for p in posts if not is_business(p.author_id))
    answered = [m for m in threads.values() if max(m, key=lambda p: p.created_at).direction is Direction.OUT]
    waiting = [m for m in threads.values() if max(m, key=lambda p: p.created_at).direction is Direction.IN]
    assert len(answered) >= 5 and len(waiting) >= 5


@pytest.mark.asyncio
async def test_customers_have_a_heavy_tailed_audience() -> None:
    authors = authors_of(await Session().sync())
    customers = [a for a in authors.values() if not is_business(a.id)]
    assert len(customers) >= 40
    followers = [a.followers_count for a in customers]
    assert sum(f > 50_000 for f in followers) >= 3
    assert sum(f < 500 for f in followers) > 0.6 * len(followers)
    assert all(a.following_count > 0 and a.posts_count > 0 for a in customers)
    for network in ("mastodon", "bluesky", "x"):
        assert sum(a.network == network for a in customers) >= 10
    assert any(any(ord(ch) > 0x2FF for ch in a.display_name if ch.isalpha()) for a in customers)  # a non-Latin name


# -- determinism ----------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_same_seed_and_clock_give_identical_batches() -> None:
    first = await Session(seed=11).run(ticks=15)
    second = await Session(seed=11).run(ticks=15)
    assert first == second


@pytest.mark.asyncio
async def test_different_seeds_give_different_worlds() -> None:
    first = await Session(seed=1).run(ticks=5)
    second = await Session(seed=2).run(ticks=5)
    assert first != second
    texts = lambda rounds: [p.text for p in posts_of([b for r in rounds for b in r])]  # noqa: E731
    assert texts(first) != texts(second)


# -- live ticks -----------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_nothing_new_until_a_tick_passes() -> None:
    session = Session()
    await session.sync()
    cursors = dict(session.cursors)
    session.clock.advance(TICK * 0.9)
    batches = await session.sync()
    assert all(batch.posts == () and batch.authors == () for batch in batches)
    assert session.cursors == cursors


@pytest.mark.asyncio
async def test_live_ticks_bring_new_posts_and_rising_counts() -> None:
    session = Session()
    rounds = await session.run(ticks=30)
    seen: dict[str, Post] = {p.id: p for p in posts_of(rounds[0])}
    new_posts = 0
    rose = set()
    for number, batches in enumerate(rounds[1:], start=1):
        tick_time = EPOCH + timedelta(seconds=number * TICK)
        for post in posts_of(batches):
            assert parse_iso(post.observed_at) == tick_time  # changed at this very tick
            assert parse_iso(post.created_at) <= tick_time
            old = seen.get(post.id)
            if old is None:
                new_posts += 1
            else:
                assert post.observed_at > old.observed_at
                for field in ("reshare_count", "quote_count", "like_count", "reply_count"):
                    assert getattr(post, field) >= getattr(old, field)
                if post.like_count > old.like_count or post.reshare_count > old.reshare_count:
                    rose.add(post.id)
            seen[post.id] = post
    assert new_posts >= 10
    assert len(rose) >= 5
    new_threads = {p.thread_id for b in rounds[1:] for p in posts_of(b) if p.parent_id is None}
    assert len(new_threads) >= 3


@pytest.mark.asyncio
async def test_follower_counts_drift_upwards() -> None:
    session = Session()
    rounds = await session.run(ticks=30)
    first = authors_of(rounds[0])
    drifted = [
        a for batches in rounds[1:] for a in authors_of(batches).values()
        if a.followers_count > first[a.id].followers_count
    ]
    assert drifted
    assert all(a.followers_count >= first[a.id].followers_count for b in rounds[1:] for a in authors_of(b).values())


@pytest.mark.asyncio
async def test_a_complaint_snowballs_after_a_big_account_reshares_it() -> None:
    session = Session()
    rounds = await session.run(ticks=20)
    world = session.network.world()
    snowball_id = world.snowball.post_id
    backfill = {p.id: p for p in posts_of(rounds[0])}
    assert snowball_id in backfill and backfill[snowball_id].reshare_count < 10

    history = [backfill[snowball_id].reshare_count]
    for batches in rounds[1:]:
        match = [p for p in posts_of(batches) if p.id == snowball_id]
        history.append(match[0].reshare_count if match else history[-1])
    # Visible within 15 seconds: five ticks in, reshares have at least tenfold.
    assert history[5] >= 10 * max(1, history[0])
    climbing = [later > earlier for earlier, later in zip(history[5:15], history[6:16])]
    assert all(climbing)
    assert history[20] >= 500

    thread = [p for b in rounds for p in posts_of(b) if p.thread_id == snowball_id]
    everyone = authors_of([b for r in rounds for b in r])
    resharer = [p for p in thread if everyone[p.author_id].followers_count > 50_000]
    assert resharer and resharer[0].parent_id == snowball_id
    assert len({p.id for p in thread}) >= 4  # other customers pile on


# -- who reshared ---------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_snowball_names_its_big_resharer_when_it_reshares_and_others_as_it_spreads() -> None:
    session = Session()
    rounds = await session.run(ticks=20)
    world = session.network.world()
    ball = world.snowball
    complainer = world.posts[ball.post_id].author_id

    named = [(number, r) for number, batches in enumerate(rounds) for r in reshares_of(batches)
             if r.post_id == ball.post_id]
    assert any(n < ball.start_tick for n, _ in named)  # a few small reshares in the backfill
    big = [(n, r) for n, r in named if r.author_id == ball.resharer_id]
    assert len(big) == 1
    number, reshare = big[0]
    assert number == ball.start_tick  # reported in the sync right after the big account reshared
    assert reshare.reshared_at == next(p.created_at for p in posts_of(rounds[number])
                                       if p.author_id == ball.resharer_id and p.parent_id == ball.post_id)
    carried = authors_of(rounds[number])
    assert carried[ball.resharer_id].followers_count > 50_000  # the resharer's reach travels with the name
    later = [r.author_id for n, r in named if n > ball.start_tick]
    assert len(later) >= 3
    everyone = [r.author_id for _, r in named]
    assert len(everyone) == len(set(everyone))  # each resharer once, however often the post changes
    assert complainer not in everyone and not any(is_business(a) for a in everyone)
    assert all(a.startswith(f"{ball.network}:demo-") for a in everyone)


@pytest.mark.asyncio
async def test_resharers_are_customers_named_with_their_posts_never_more_than_the_count() -> None:
    rounds = await Session(seed=3).run(ticks=15)
    named: dict[str, set[str]] = {}
    for batch in (b for r in rounds for b in r):
        posts = {p.id: p for p in batch.posts}
        carried = {a.id: a for a in batch.authors}
        for reshare in batch.reshares:
            post = posts[reshare.post_id]  # a name arrives with its post's fresh counts
            assert reshare.author_id in carried and reshare.author_id != post.author_id
            assert not is_business(reshare.author_id) and post.visibility is not Visibility.DIRECT
            assert post.created_at <= reshare.reshared_at <= post.observed_at
            named.setdefault(post.id, set()).add(reshare.author_id)
            assert len(named[post.id]) <= post.reshare_count
    assert len(named) >= 20
    snowball_id = max(named, key=lambda i: len(named[i]))
    assert all(len(who) <= NAMED_RESHARERS for i, who in named.items() if i != snowball_id)


@pytest.mark.asyncio
async def test_naming_resharers_leaves_the_snowballs_timing_and_curve_alone() -> None:
    """Pinned from the world as it was before it named anyone (seed 7): resharers draw from streams of their own."""
    session = Session(seed=7)
    rounds = await session.run(ticks=20)
    ball = session.network.world().snowball
    assert (ball.start_tick, ball.resharer_id, ball.ceiling) == (2, "bluesky:demo-chefanaruiz", 2416)
    history = [next(p.reshare_count for p in posts_of(rounds[0]) if p.id == ball.post_id)]
    for batches in rounds[1:]:
        match = [p for p in posts_of(batches) if p.id == ball.post_id]
        history.append(match[0].reshare_count if match else history[-1])
    assert history == [3, 3, 36, 51, 70, 100, 136, 189, 257, 349, 486, 644, 780, 1019, 1231, 1414, 1585, 1835, 1985,
                       1997, 2158]


# -- restart --------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_restarted_app_continues_from_its_cursor() -> None:
    clock = FakeClock()
    before = Session(clock=clock)
    rounds = await before.run(ticks=10)
    seen = {p.id: p.observed_at for r in rounds for p in posts_of(r)}
    cursors = dict(before.cursors)
    clock.advance(7 * TICK)

    after = Session(clock=clock)  # a fresh process: nothing in memory but the saved cursors
    after.cursors = dict(cursors)
    resumed = await after.sync()
    assert posts_of(resumed)
    for post in posts_of(resumed):
        assert post.id not in seen or post.observed_at > seen[post.id]
    # ... and it is exactly what the still-running app reports for the same span.
    assert resumed == await before.sync()
    assert after.cursors == before.cursors
    assert json.loads(after.cursors["demo-x"]) == {"epoch": "2026-11-25T09:30:00.000Z", "tick": 17}


@pytest.mark.asyncio
async def test_an_account_added_later_joins_the_running_world() -> None:
    session = Session()
    await session.run(ticks=4)
    late = session.network.connectors()[0]  # same network object, new connector, no cursor yet
    batches = await collect(late, None)
    assert json.loads(batches[-1].cursor) == {"epoch": "2026-11-25T09:30:00.000Z", "tick": 4}
    mastodon_ids = {i for i in session.network.world().posts if i.startswith("mastodon:")}
    assert len(posts_of(batches)) == len(mastodon_ids)  # each post once, at its latest state
    assert {p.id for p in posts_of(batches)} == mastodon_ids


@pytest.mark.asyncio
async def test_a_garbled_cursor_is_a_connector_error() -> None:
    connector = DemoNetwork(clock=FakeClock()).connectors()[0]
    with pytest.raises(BadResponse):
        await collect(connector, "not json")
    with pytest.raises(BadResponse):
        await collect(connector, json.dumps({"epoch": "2026-11-25T09:30:00.000Z"}))


# -- threads, authors, replies -------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_fetch_thread_and_authors_read_the_current_world() -> None:
    session = Session()
    batches = await session.sync()
    x = session.connectors[2]
    posts = [p for p in posts_of(batches) if p.network == "x"]
    root = max((p for p in posts if p.parent_id is None), key=lambda p: sum(q.thread_id == p.id for q in posts))
    thread = await x.fetch_thread(root.id)
    assert [p.id for p in thread] == [p.id for p in sorted(posts, key=lambda p: p.created_at) if p.thread_id == root.id]
    assert await session.connectors[0].fetch_thread(root.id) == []  # another network's thread

    ids = [root.author_id, "x:demo-nobody", "mastodon:demo-maya_bakes"]
    authors = await x.fetch_authors(ids)
    assert [a.id for a in authors] == [root.author_id]


def reply_to(post: Post, key: str, text: str = "Thanks for letting us know, we're on it.") -> OutgoingReply:
    return OutgoingReply(in_reply_to=post, text=text, visibility=post.visibility, idempotency_key=key)


@pytest.mark.asyncio
async def test_send_reply_is_recorded_once_per_idempotency_key() -> None:
    session = Session()
    batches = await session.sync()
    mastodon = session.connectors[0]
    target = next(p for p in posts_of(batches) if p.network == "mastodon" and p.direction is Direction.IN
                  and p.parent_id is not None)
    session.clock.advance(1)
    sent = await mastodon.send_reply(reply_to(target, "outbox-1"))
    assert sent.direction is Direction.OUT
    assert sent.parent_id == target.id and sent.thread_id == target.thread_id
    assert sent.visibility is target.visibility and sent.account_id == "demo-mastodon"
    assert sent.author_id == "mastodon:demo-crumbandco"
    assert sent.id.startswith("mastodon:demo-")

    session.clock.advance(5)
    again = await mastodon.send_reply(reply_to(target, "outbox-1", "a retried send"))
    assert again == sent
    other = await mastodon.send_reply(reply_to(target, "outbox-2"))
    assert other.id != sent.id

    thread = await mastodon.fetch_thread(target.thread_id)
    assert [p.id for p in thread].count(sent.id) == 1 and other.id in [p.id for p in thread]

    dm = next(p for p in posts_of(batches) if p.visibility is Visibility.DIRECT)
    by_network = {c.account.network: c for c in session.connectors}
    private = await by_network[dm.network].send_reply(reply_to(dm, "outbox-3"))
    assert private.visibility is Visibility.DIRECT and private.url == ""

    elsewhere = next(p for p in posts_of(batches) if p.network != "mastodon")
    with pytest.raises(ValueError):
        await mastodon.send_reply(reply_to(elsewhere, "outbox-4"))


# -- through the real store -----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_demo_fills_a_real_inbox(tmp_path) -> None:
    session = Session()
    inbox = Inbox.open(tmp_path / "x.db", clock=session.clock)
    try:
        for account in session.network.accounts():
            inbox.ensure_account(account)

        async def sync_into_inbox() -> None:
            for connector in session.connectors:
                cursor = inbox.cursor(connector.account.id, "activity")
                async for batch in connector.fetch_since("activity", cursor):
                    inbox.apply_batch(batch)

        await sync_into_inbox()
        for _ in range(12):
            session.clock.advance(TICK)
            await sync_into_inbox()

        db = inbox.db
        assert db.execute("SELECT count(*) FROM threads").fetchone()[0] >= 20
        assert db.execute("SELECT count(*) FROM authors WHERE influence > 0").fetchone()[0] >= 40
        assert db.execute("SELECT count(*) FROM threads WHERE needs_reply").fetchone()[0] > 0
        snowball = session.network.world().snowball.post_id
        samples = [row[0] for row in db.execute(
            "SELECT reshare_count FROM count_samples WHERE post_id = ? ORDER BY observed_at", (snowball,)
        ).fetchall()]
        assert len(samples) >= 8 and samples == sorted(samples) and samples[-1] > 20 * samples[0]
        # Who reshared it is stored too, and lifts the complainer's reach by the big account's audience.
        ball = session.network.world().snowball
        resharers = {row[0] for row in db.execute("SELECT author_id FROM reshares WHERE post_id = ?", (snowball,))}
        assert ball.resharer_id in resharers and len(resharers) >= 4
        big_audience = db.execute("SELECT followers_count FROM authors WHERE id = ?", (ball.resharer_id,)).fetchone()[0]
        complainer = session.network.world().posts[snowball].author_id
        amplification = db.execute("SELECT amplification FROM authors WHERE id = ?", (complainer,)).fetchone()[0]
        assert amplification >= big_audience > 50_000
        stored = db.execute("SELECT cursor FROM sync_cursors WHERE account_id = 'demo-bluesky'").fetchone()[0]
        assert json.loads(stored)["tick"] == 12

        # A reply from the composer lands in the same thread and answers it.
        waiting_id, last_in = db.execute(
            "SELECT id, last_in_post_id FROM threads WHERE needs_reply AND network = 'mastodon' LIMIT 1"
        ).fetchone()
        row = db.execute("SELECT * FROM posts WHERE id = ?", (last_in,)).fetchone()
        assert row is not None
        target = next(p for p in await session.connectors[0].fetch_thread(waiting_id) if p.id == last_in)
        sent = await session.connectors[0].send_reply(reply_to(target, "store-1"))
        inbox.apply_batch(Batch(account_id="demo-mastodon", stream="activity", posts=(sent,)))
        assert db.execute("SELECT needs_reply FROM threads WHERE id = ?", (waiting_id,)).fetchone()[0] == 0
    finally:
        inbox.close()
