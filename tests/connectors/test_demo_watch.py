"""Brand watches on the embedded demo network: customers talk about the bakery without tagging it, over time, the
same way for the same seed, and the demo's own watch words find exactly those posts (driven by a hand clock)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from console.connectors.demo import (
    DEMO_WATCH_EXCLUDE, DEMO_WATCH_TERMS, WATCH_WINDOW, DemoConnector, DemoNetwork,
)
from console.connectors.demo_script import WATCH_CONVERSATIONS, WATCH_OWN, WATCH_PRIVATE, WATCH_UNRELATED
from console.connectors.errors import BadResponse, ConnectorError
from console.domain import Batch, Direction, Visibility, parse_iso
from console.domain.watches import WATCH_STREAM, BrandWatch
from console.store.inbox import Inbox
from tests.connectors.demo_session import EPOCH, TICK, FakeClock, Session, posts_of

DEMO_WATCH = BrandWatch(terms=DEMO_WATCH_TERMS, exclude=DEMO_WATCH_EXCLUDE)


async def watched(connector: DemoConnector, cursor: str | None, watch: BrandWatch = DEMO_WATCH) -> list[Batch]:
    return [batch async for batch in connector.fetch_watch(watch, cursor)]


class Watching(Session):
    """The three demo accounts' brand watches, each with its own cursor, as the sync engine keeps them."""

    def __init__(self, seed: int = 7, clock: FakeClock | None = None, watch: BrandWatch = DEMO_WATCH) -> None:
        super().__init__(seed, clock)
        self.watch = watch

    async def fetch(self, connector: DemoConnector, cursor: str | None) -> list[Batch]:
        return await watched(connector, cursor, self.watch)


# -- the first run ---------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_first_run_finds_the_week_s_chatter_of_the_last_three_days_only():
    watching = Watching()
    batches = await watching.sync()
    world = watching.network.world()
    posts = posts_of(batches)

    assert len(posts) >= 6
    assert {p.network for p in posts} == {"mastodon", "bluesky", "x"}
    for batch in batches:
        assert (batch.stream, batch.source) == (WATCH_STREAM, "watch")
        assert {p.author_id for p in batch.posts} <= {a.id for a in batch.authors}
        assert all(p.account_id == batch.account_id == f"demo-{p.network}" for p in batch.posts)
    for post in posts:
        assert EPOCH - WATCH_WINDOW < parse_iso(post.created_at) <= EPOCH
        assert DEMO_WATCH.matches(post.text, post.author_id)
        assert "@crumbandco" not in post.text  # nobody tagged the bakery: that is the point
        assert post.direction is Direction.IN and post.visibility is Visibility.PUBLIC
        assert post.url.startswith("https://") and post.id.startswith(f"{post.network}:demo-")
    older = [p for p in world.watch_posts.values() if p.created_at <= EPOCH - WATCH_WINDOW]
    assert older and not {p.id for p in older} & {p.id for p in posts}  # the week's older chatter stays out
    assert {json.loads(c)["tick"] for c in watching.cursors.values()} == {0}


@pytest.mark.asyncio
async def test_only_true_matches_come_back():
    watching = Watching()
    posts = {p.id for p in posts_of(await watching.sync())}
    world = watching.network.world()
    by_text = {}
    for post in world.watch_posts.values():
        by_text.setdefault(post.text, []).append(post)

    [roadworks] = by_text[WATCH_UNRELATED]
    assert BrandWatch(terms=DEMO_WATCH_TERMS).matches(roadworks.text)  # names the street …
    assert roadworks.id not in posts  # … but the demo watch excludes roadworks
    own = by_text[WATCH_OWN]
    assert len(own) == 3 and all(p.author_id.endswith(":demo-crumbandco") for p in own)
    assert not {p.id for p in own} & posts  # the bakery's own posts are never watch matches
    [private] = by_text[WATCH_PRIVATE]
    assert private.visibility is Visibility.PRIVATE and private.id not in posts
    questions = [p for q, _ in WATCH_CONVERSATIONS for p in by_text.get(q, [])]
    assert len(questions) == 1 and questions[0].id not in posts  # the question names nothing


@pytest.mark.asyncio
async def test_a_customer_s_recommendation_arrives_in_its_conversation():
    watching = Watching()
    posts = posts_of(await watching.sync())
    world = watching.network.world()
    answers = [p for p in posts if p.parent_id is not None]
    [answer] = answers
    question = world.watch_posts[answer.parent_id]
    assert answer.thread_id == question.id == question.thread_id
    assert question.text in {q for q, _ in WATCH_CONVERSATIONS}
    connector = next(c for c in watching.connectors if c.account.network == answer.network)
    thread = await connector.fetch_thread(answer.thread_id)
    assert [p.id for p in thread] == [question.id, answer.id]
    assert thread[0].reply_count >= 1


@pytest.mark.asyncio
async def test_muted_people_and_other_words_change_what_is_found():
    everything = {p.id: p for p in posts_of(await Watching().sync())}
    loudest = max(everything.values(), key=lambda p: p.author_id).author_id
    muted = Watching(watch=BrandWatch(DEMO_WATCH_TERMS, DEMO_WATCH_EXCLUDE, frozenset({loudest})))
    without = {p.id for p in posts_of(await muted.sync())}
    assert without == {i for i, p in everything.items() if p.author_id != loudest}

    street_only = Watching(watch=BrandWatch(terms=("Mill Lane",)))
    found = posts_of(await street_only.sync())
    assert found and all("Mill Lane" in p.text for p in found)
    assert WATCH_UNRELATED in {p.text for p in found}  # without the exclude word, the roadworks count

    assert posts_of(await Watching(watch=BrandWatch()).sync()) == []  # no words, no matches


# -- over time -------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_new_chatter_appears_as_the_demo_runs_each_once_when_it_is_posted():
    watching = Watching()
    rounds = await watching.run(ticks=120)
    seen: set[str] = {p.id for p in posts_of(rounds[0])}
    arrivals = []
    for number, batches in enumerate(rounds[1:], start=1):
        tick_time = EPOCH + timedelta(seconds=number * TICK)
        for post in posts_of(batches):
            assert post.id not in seen  # a cursor handed back never brings a post twice
            assert tick_time - timedelta(seconds=TICK) < parse_iso(post.created_at) <= tick_time
            assert DEMO_WATCH.matches(post.text, post.author_id) and post.direction is Direction.IN
            seen.add(post.id)
            arrivals.append(number)
    assert len(arrivals) >= 3 and arrivals[0] <= 10  # the first within half a minute, more later
    assert {json.loads(c)["tick"] for c in watching.cursors.values()} == {120}


@pytest.mark.asyncio
async def test_the_same_seed_replays_the_same_chatter_and_another_seed_does_not():
    first = await Watching(seed=11).run(ticks=60)
    assert first == await Watching(seed=11).run(ticks=60)
    other = await Watching(seed=12).run(ticks=60)
    texts = lambda rounds: [(p.network, p.text) for r in rounds for p in posts_of(r)]  # noqa: E731
    assert texts(first) != texts(other)


@pytest.mark.asyncio
async def test_a_restarted_app_continues_the_watch_from_its_cursor():
    clock = FakeClock()
    before = Watching(clock=clock)
    await before.run(ticks=10)
    cursors = dict(before.cursors)
    clock.advance(40 * TICK)
    after = Watching(clock=clock)
    after.cursors = dict(cursors)
    assert await after.sync() == await before.sync()
    assert after.cursors == before.cursors


@pytest.mark.asyncio
async def test_watching_leaves_the_mention_stream_and_the_snowball_exactly_as_they_were():
    async def activity(with_watch: bool) -> list[Batch]:
        clock = FakeClock()
        network = DemoNetwork(seed=7, clock=clock, tick_seconds=TICK)
        connectors = network.connectors()
        cursors: dict[str, str | None] = {c.account.id: None for c in connectors}
        batches: list[Batch] = []
        for _ in range(25):
            for connector in connectors:
                if with_watch:
                    await watched(connector, None)
                for batch in [b async for b in connector.fetch_since("activity", cursors[connector.account.id])]:
                    batches.append(batch)
                    cursors[connector.account.id] = batch.cursor or cursors[connector.account.id]
            clock.advance(TICK)
        return batches

    plain, watching = await activity(False), await activity(True)
    assert plain == watching
    assert not any(":demo-w" in p.id for p in posts_of(watching))  # watch chatter never reaches the mention stream


# -- edges -----------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_garbled_cursor_and_a_closed_account_are_connector_errors():
    connector = DemoNetwork(clock=FakeClock()).connectors()[0]
    with pytest.raises(BadResponse):
        await watched(connector, "not json")
    await connector.aclose()
    with pytest.raises(ConnectorError):
        await watched(connector, None)


@pytest.mark.asyncio
async def test_the_demo_watch_fills_a_real_inbox_with_unmentioned_threads(tmp_path: Path):
    watching = Watching()
    inbox = Inbox.open(tmp_path / "demo.db", clock=watching.clock)
    try:
        for account in watching.network.accounts():
            inbox.ensure_account(account)
        rounds = await watching.run(ticks=40)
        for batch in (b for r in rounds for b in r):
            inbox.apply_batch(batch)
        posts = posts_of([b for r in rounds for b in r])
        stored = {row[0]: row[1] for row in inbox.db.execute("SELECT id, thread_id FROM posts")}
        assert {p.id: p.thread_id for p in posts} == stored
        threads = {row[0] for row in inbox.db.execute("SELECT id FROM threads")}
        assert {p.thread_id for p in posts} == threads
        followers = dict(inbox.db.execute("SELECT id, followers_count FROM authors").fetchall())
        carried = {a.id: a for r in rounds for b in r for a in b.authors}  # the latest reading of each author
        assert all(followers[p.author_id] == carried[p.author_id].followers_count > 0 for p in posts)
    finally:
        inbox.close()
