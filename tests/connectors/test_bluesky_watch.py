"""Brand watches on Bluesky against the local server: ``searchPosts`` asked the way the lexicon says, only true
matches kept (search is loose), each in its conversation with its author's figures, cursors per query."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.connectors.bluesky import BlueskyConnector
from console.connectors.bluesky_richtext import render_text
from console.connectors.bluesky_watch import decode_watch_cursor, encode_watch_cursor, reaches, sort_moment
from console.connectors.errors import BadResponse, RateLimited, ServerError
from console.domain import Batch, Direction, Visibility
from console.domain.watches import WATCH_STREAM, BrandWatch
from console.store import Inbox
from tests.connectors.bluesky_server import BlueskyTestServer, bluesky, connector_for, error  # noqa: F401
from tests.connectors.bluesky_world import Person, StoredPost, iso

SEARCH = "app.bsky.feed.searchPosts"
WATCH = BrandWatch(terms=("Crumb & Co",), exclude=("roadworks",))


def pid(post: StoredPost | str) -> str:
    return f"bluesky:{post if isinstance(post, str) else post.uri}"


async def collect(connector: BlueskyConnector, watch: BrandWatch, cursor: str | None) -> list[Batch]:
    return [batch async for batch in connector.fetch_watch(watch, cursor)]


def posts_of(batches: list[Batch]) -> dict[str, Any]:
    return {post.id: post for batch in batches for post in batch.posts}


def final_cursor(batches: list[Batch]) -> dict[str, str]:
    return json.loads([b.cursor for b in batches if b.cursor is not None][-1])


class Town:
    """A bakery and the people who talk about it, mostly without tagging it."""

    def __init__(self, server: BlueskyTestServer) -> None:
        w = self.world = server.world
        self.biz = server.business("shop.test", display_name="Crumb & Co", followers=120)
        self.anna = w.person("anna.test", display_name="Anna", followers=5000, follows=300, posts=900)
        self.ben = w.person("ben.test", followers=12)
        self.carol = w.person("carol.test", followers=40)
        self.dave = w.person("dave.test", followers=7)

    def scenario(self) -> dict[str, StoredPost]:
        w = self.world
        shop_post = w.post(self.biz, "New opening hours from Monday")
        question = w.post(self.dave, "Anyone know a good bakery in town?")
        posts = {
            "praise": w.post(self.anna, "Finally tried the pistachio croissant at Crumb & Co, worth the queue"),
            "answer": w.reply(self.carol, question, "Crumb & Co on Mill Lane! Best rye around"),
            "lookalike": w.post(self.carol, "Crumb & Company is a different shop"),
            "excluded": w.post(self.dave, "Crumb & Co roadworks outside again"),
            "muted": w.post(self.ben, "Crumb & Co again today"),
            "own": w.post(self.biz, "Fresh loaves at Crumb & Co"),
            "mentions the shop": w.mention(self.anna, self.biz, "Crumb & Co rocks"),
            "answers the shop": w.reply(self.anna, shop_post, "Crumb & Co open at 7? Perfect"),
            "quotes the shop": w.quote(self.carol, shop_post, "Crumb & Co said it, earlier mornings"),
        }
        posts["praise"].likes, posts["praise"].reposts, posts["praise"].quotes = 5, 3, 2
        posts["praise"].replies = 1
        self.question = question
        return posts


@pytest.mark.asyncio
async def test_search_asks_as_the_lexicon_says_and_keeps_only_true_matches(bluesky):
    town = Town(bluesky)
    posts = town.scenario()
    connector = connector_for(bluesky, town.biz)
    watch = BrandWatch(terms=WATCH.terms, exclude=WATCH.exclude,
                       muted_author_ids=frozenset({f"bluesky:{town.ben.did}"}))
    batches = await collect(connector, watch, None)

    [asked] = bluesky.requests_to(SEARCH)
    three_days_ago = iso(bluesky.world.now - timedelta(days=3))
    assert asked.query == (("q", "Crumb & Co"), ("sort", "latest"), ("since", three_days_ago), ("limit", "50"))
    assert asked.bearer  # through the account's PDS, signed in
    found = posts_of(batches)
    assert {name for name, post in posts.items() if pid(post) in found} == {"praise", "answer"}
    praise = found[pid(posts["praise"])]
    assert praise.text == "Finally tried the pistachio croissant at Crumb & Co, worth the queue"
    assert (praise.like_count, praise.reshare_count, praise.quote_count, praise.reply_count) == (5, 3, 2, 1)
    assert praise.thread_id == praise.id and praise.parent_id is None and praise.direction is Direction.IN
    assert praise.visibility is Visibility.PUBLIC
    assert all((b.stream, b.source) == (WATCH_STREAM, "watch") for b in batches)
    assert final_cursor(batches) == {"crumb & co": max(p.indexed_at for p in posts.values())}


@pytest.mark.asyncio
async def test_a_matching_reply_is_placed_under_the_root_of_its_conversation(bluesky):
    town = Town(bluesky)
    posts = town.scenario()
    batches = await collect(connector_for(bluesky, town.biz), WATCH, None)

    answer = posts_of(batches)[pid(posts["answer"])]
    assert answer.thread_id == pid(town.question) and answer.parent_id == pid(town.question)
    assert pid(town.question) not in posts_of(batches)  # the question does not name the shop


@pytest.mark.asyncio
async def test_kept_posts_come_with_their_authors_follower_figures(bluesky):
    town = Town(bluesky)
    town.scenario()
    batches = await collect(connector_for(bluesky, town.biz), WATCH, None)

    authors = {a.id: a for b in batches for a in b.authors}
    kept = (town.anna, town.carol, town.ben)  # nobody is muted in this watch: Ben's post counts
    assert set(authors) == {f"bluesky:{person.did}" for person in kept}
    anna = authors[f"bluesky:{town.anna.did}"]
    assert (anna.followers_count, anna.following_count, anna.posts_count) == (5000, 300, town.anna.posts)
    [profiles] = bluesky.requests_to("app.bsky.actor.getProfiles")
    assert set(profiles.params("actors")) == {person.did for person in kept}


@pytest.mark.asyncio
async def test_hashtags_and_links_are_matched_on_the_text_the_inbox_shows(bluesky):
    town = Town(bluesky)
    w = town.world
    text = "Love this #crumbandco and crumb.example/menu…"
    data = text.encode()
    tag_at = data.index(b"#crumbandco")
    link_at = data.index(b"crumb.example")
    tagged = w.post(town.anna, text, facets=[
        {"index": {"byteStart": tag_at, "byteEnd": tag_at + len(b"#crumbandco")},
         "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "crumbandco"}]},
        {"index": {"byteStart": link_at, "byteEnd": len(data)},
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://crumb.example/menu?lang=en"}]}])
    w.post(town.ben, "#crumbandcookies are not the same thing")
    batches = await collect(connector_for(bluesky, town.biz), BrandWatch(terms=("#crumbandco",)), None)

    assert list(posts_of(batches)) == [pid(tagged)]
    assert "https://crumb.example/menu?lang=en" in posts_of(batches)[pid(tagged)].text
    assert bluesky.requests_to(SEARCH)[0].param("q") == "#crumbandco"


# ------------------------------------------------------------------------------------------------ paging and cursors


def chatter(town: Town, count: int, *, every_minutes: float = 5) -> list[StoredPost]:
    """``count`` customers' posts naming the shop, oldest first."""
    people = (town.anna, town.carol, town.dave)
    posts = []
    for n in range(count):
        town.world.tick(every_minutes)
        posts.append(town.world.post(people[n % 3], f"Crumb & Co, visit number {n}"))
    return posts


@pytest.mark.asyncio
async def test_a_first_run_reads_at_most_two_pages_following_the_apis_cursor(bluesky):
    town = Town(bluesky)
    posts = chatter(town, 7)
    batches = await collect(connector_for(bluesky, town.biz, page_size=3), WATCH, None)

    asked = bluesky.requests_to(SEARCH)
    assert [r.param("cursor") for r in asked] == [None, "3"]
    assert all(r.param("limit") == "3" for r in asked)
    assert set(posts_of(batches)) == {pid(p) for p in posts[1:]}  # the newest six
    assert [b.cursor is None for b in batches] == [True, False]
    assert final_cursor(batches) == {"crumb & co": posts[-1].indexed_at}


@pytest.mark.asyncio
async def test_a_first_run_looks_back_only_three_days(bluesky):
    town = Town(bluesky)
    w = town.world
    old = w.post(town.anna, "Crumb & Co, last week", at=iso(w.now - timedelta(days=6)))
    recent = w.post(town.anna, "Crumb & Co, yesterday", at=iso(w.now - timedelta(days=1)))
    bluesky.search_honours_since = False  # the reference AppView ignores ``since``: the walk stops by itself
    batches = await collect(connector_for(bluesky, town.biz, page_size=1), WATCH, None)

    assert set(posts_of(batches)) == {pid(recent)} and pid(old) not in posts_of(batches)
    assert len(bluesky.requests_to(SEARCH)) == 2  # the second page reached past the window: no third


@pytest.mark.asyncio
async def test_the_cursor_handed_back_reads_only_what_is_new(bluesky):
    town = Town(bluesky)
    first_posts = chatter(town, 3)
    connector = connector_for(bluesky, town.biz, page_size=2)
    first = await collect(connector, WATCH, None)
    cursor = [b.cursor for b in first if b.cursor][-1]
    assert set(posts_of(first)) == {pid(p) for p in first_posts}

    nothing = await collect(connector, WATCH, cursor)
    assert nothing == []  # the overlap brings the newest back, but it was delivered already
    since = bluesky.requests_to(SEARCH)[-1].param("since")
    assert since == iso(bluesky.world.now - timedelta(minutes=10))  # the stored time less the overlap

    later = chatter(town, 5, every_minutes=1)
    again = await collect(connector, WATCH, cursor)
    assert set(posts_of(again)) == {pid(p) for p in later}
    assert final_cursor(again) == {"crumb & co": later[-1].indexed_at}
    assert [r.param("cursor") for r in bluesky.requests_to(SEARCH)[-4:]] == [None, "2", "4", "6"]


@pytest.mark.asyncio
async def test_a_fresh_session_given_the_cursor_does_not_go_back_further_than_the_overlap(bluesky):
    town = Town(bluesky)
    earlier = chatter(town, 3, every_minutes=10)  # eleven minutes apart: one inside the overlap
    first = await collect(connector_for(bluesky, town.biz), WATCH, None)
    later = chatter(town, 1, every_minutes=30)
    bluesky.search_honours_since = False
    again = await collect(connector_for(bluesky, town.biz), WATCH, first[-1].cursor)
    # The new post, and the newest of last time (inside the ten-minute overlap; the store takes it as an update).
    assert set(posts_of(again)) == {pid(later[0]), pid(earlier[-1])}


@pytest.mark.asyncio
async def test_each_term_is_one_query_with_its_own_place_in_the_cursor(bluesky):
    town = Town(bluesky)
    lane = town.world.post(town.anna, "Coffee on Mill Lane")
    chatter(town, 1)
    watch = BrandWatch(terms=("Mill Lane", "mill  lane", "Crumb & Co"))
    batches = await collect(connector_for(bluesky, town.biz), watch,
                            encode_watch_cursor({"gone term": iso(town.world.now)}))
    assert [r.param("q") for r in bluesky.requests_to(SEARCH)] == ["Mill Lane", "Crumb & Co"]
    assert set(final_cursor(batches)) == {"mill lane", "crumb & co"}
    assert pid(lane) in posts_of(batches)


@pytest.mark.asyncio
async def test_the_watch_batches_thread_like_mentions_in_a_real_inbox(bluesky, tmp_path: Path):
    town = Town(bluesky)
    posts = town.scenario()
    connector = connector_for(bluesky, town.biz)
    batches = await collect(connector, WATCH, None)
    # Later the shop is mentioned in the same conversation: the mention path stores the thread from its root.
    town.world.mention(town.anna, town.biz, "what time do you open?", reply_to=posts["answer"])
    mentioned = [b async for b in connector.fetch_since("notifications", None)]

    inbox = Inbox.open(tmp_path / "inbox.db")
    try:
        inbox.ensure_account(connector.account)
        for batch in batches + mentioned:
            inbox.apply_batch(batch)
        rows = dict(inbox.db.execute("SELECT id, thread_id FROM posts").fetchall())
    finally:
        inbox.close()
    assert rows[pid(posts["answer"])] == rows[pid(town.question)] == pid(town.question)


# ------------------------------------------------------------------------------------------------ refusals and faults


@pytest.mark.asyncio
async def test_a_query_the_server_will_not_run_is_reported_and_the_others_go_on(bluesky):
    town = Town(bluesky)
    chatter(town, 2)
    connector = connector_for(bluesky, town.biz)
    batches = await collect(connector, BrandWatch(terms=('say "hi', "Crumb & Co")), None)
    assert len(posts_of(batches)) == 2
    assert set(final_cursor(batches)) == {"crumb & co"}
    assert 'say "hi' in connector.watch_unavailable

    bluesky.search_enabled = False
    assert await collect(connector, WATCH, None) == []
    assert "cannot search" in connector.watch_unavailable


@pytest.mark.asyncio
async def test_faults_raise_the_connector_errors_every_stream_raises(bluesky):
    town = Town(bluesky)
    chatter(town, 1)
    R = bluesky.Response
    bluesky.inject(SEARCH, *[error(500, "InternalServerError", "Internal Server Error")] * 4)
    with pytest.raises(ServerError):
        await collect(connector_for(bluesky, town.biz), WATCH, None)

    reset = str(int((bluesky.world.now + timedelta(minutes=30)).timestamp()))
    bluesky.inject(SEARCH, R(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                              headers={"RateLimit-Remaining": "0", "RateLimit-Reset": reset}))
    with pytest.raises(RateLimited):
        await collect(connector_for(bluesky, town.biz), WATCH, None)

    for garbled in ([R(body=b"<html>oops</html>")], [R(200, {"posts": "none"})], [R(200, ["posts"])],
                    [R(200, {"cursor": "x"})], [R(200, {"posts": []}, truncate_to=4)] * 4):
        bluesky.inject(SEARCH, *garbled)
        with pytest.raises(BadResponse):
            await collect(connector_for(bluesky, town.biz), WATCH, None)


@pytest.mark.asyncio
async def test_an_expired_session_is_refreshed_and_the_search_repeated(bluesky):
    town = Town(bluesky)
    chatter(town, 1)
    connector = connector_for(bluesky, town.biz)
    await collect(connector, BrandWatch(terms=("nothing here",)), None)  # signs in
    bluesky.world.expire_access_tokens()
    batches = await collect(connector, WATCH, None)
    assert len(posts_of(batches)) == 1
    assert len(bluesky.requests_to("com.atproto.server.refreshSession")) == 2  # signing in, then after expiry


@pytest.mark.asyncio
async def test_an_unreadable_result_is_skipped_not_fatal(bluesky):
    town = Town(bluesky)
    good = chatter(town, 1)[0]
    view = good.view()
    bluesky.inject(SEARCH, bluesky.Response(200, {"posts": [{"uri": "not a uri", "author": {}}, view]}))
    batches = await collect(connector_for(bluesky, town.biz), WATCH, None)
    assert list(posts_of(batches)) == [pid(good)]


# ------------------------------------------------------------------------------------------------ parsing, by property


@given(st.text(max_size=200))
def test_any_stored_cursor_is_read_without_failing(cursor):
    state = decode_watch_cursor(cursor)
    assert state is None or all(isinstance(v, str) for v in state.values())


@given(st.dictionaries(st.text(max_size=30), st.datetimes(timezones=st.just(__import__("datetime").timezone.utc)),
                       max_size=5))
def test_cursors_round_trip(moments):
    state = {k: iso(v) for k, v in moments.items()}
    assert decode_watch_cursor(encode_watch_cursor(state)) == state


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                   max_size=4), max_leaves=20)


@given(JSONISH)
def test_odd_post_views_never_break_the_checks(view):
    sort_moment(view)
    if isinstance(view, dict):
        reaches(view, "did:plc:shop")


WORDS = st.sampled_from(["Crumb", "crumb", "&", "Co", "co", "CO", "Company", "roadworks", "the", "at", "crumbs",
                         "Crumb-&-Co", "#crumbandco", "@crumbandco", "<b>", "é", "\n", "CrUmB", "🥐"])


def test_a_post_is_kept_exactly_when_its_plain_text_matches():
    server = BlueskyTestServer()
    server.start()
    try:
        town = Town(server)

        @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(st.lists(WORDS, min_size=1, max_size=10).map(" ".join), st.booleans())
        def check(text: str, by_muted: bool) -> None:
            author: Person = town.ben if by_muted else town.anna
            with server.lock:
                server.world.posts.clear()
                post = server.world.post(author, text)
            watch = BrandWatch(terms=("Crumb & Co",), exclude=("roadworks",),
                               muted_author_ids=frozenset({f"bluesky:{town.ben.did}"}))

            async def run() -> list[Batch]:
                connector = connector_for(server, town.biz)
                try:
                    return await collect(connector, watch, None)
                finally:
                    await connector.aclose()

            kept = list(posts_of(asyncio.run(run())))
            expected = watch.matches(render_text(text, None), f"bluesky:{author.did}")
            assert kept == ([pid(post)] if expected else [])

        check()
    finally:
        server.stop()
