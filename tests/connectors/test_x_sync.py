"""The X connector reading a local X API that answers from real recordings: mentions and their paging on the wire,
whole conversations by search and, where the access level refuses search, by walking reply chains, counts and
follower figures, who retweeted, direct messages, and brand watches that keep only true matches."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from console.connectors.base import Connector
from console.connectors.x import XConnector
from console.domain import Direction, Visibility
from console.domain.watches import WATCH_STREAM, BrandWatch
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import SyncEngine
from tests.connectors.x_server import (  # noqa: F401 - x_server is a fixture
    CONVERSATION, DM_PEER, HAPPYCAMPER, JELLYBEAN, SNOWMAN, TWEEPYDEV, TWITTER, XTestServer, make_account,
    make_connector, pid, postman, recorded_likers, recorded_mentions, recorded_retweeters, x_server,
)

TWEET_FIELDS = "conversation_id,public_metrics,referenced_tweets,in_reply_to_user_id,created_at,author_id,entities"
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id"
USER_FIELDS = "public_metrics,verified,name,username"
MENTIONS = f"/2/users/{SNOWMAN}/mentions"
SEARCH = "/2/tweets/search/recent"
# The recorded conversation: @snowman's question and the replies found by the recorded search.
REPLIES = ("1274086728471461889", "1275653067283759104", "1275763727908798470", "1275882613572583424",
           "1276035977375477760")


async def collect(connector: XConnector, stream: str, cursor: str | None):
    return [batch async for batch in connector.fetch_since(stream, cursor)]


def test_the_local_server_answers_the_recorded_search_as_x_did(x_server: XTestServer) -> None:
    """The recorded request, asked again: the same posts, includes and fields (search reaches back seven days)."""
    recorded = postman("Recent search", "200 Success - Request Tweet Fields with Expanded User Fields")
    access, _refresh = x_server.issue_tokens(SNOWMAN)
    query = dict(parse_qsl(urlsplit(recorded.url).query))
    answer = httpx.get(f"{x_server.url}{SEARCH}", params=query, headers={"Authorization": f"Bearer {access}"}).json()
    expected = recorded.json()
    assert [t["id"] for t in answer["data"]] == [t["id"] for t in expected["data"]]
    assert {t["id"] for t in answer["includes"]["tweets"]} == {t["id"] for t in expected["includes"]["tweets"]}
    assert {u["id"] for u in answer["includes"]["users"]} == {u["id"] for u in expected["includes"]["users"]}
    assert answer["data"][0] == {**expected["data"][0], "edit_history_tweet_ids": ["1276035977375477760"]}
    assert answer["meta"] == expected["meta"]


# ------------------------------------------------------------------------------------------------ mentions


@pytest.mark.asyncio
async def test_a_first_sync_reads_mentions_and_their_whole_conversation_with_counts_and_followers(
        x_server: XTestServer, fake_sleep) -> None:
    x_server.set_counts(CONVERSATION, retweet_count=4, quote_count=2, like_count=9)
    x_server.set_followers(HAPPYCAMPER, 1200, following=300)
    connector = make_connector(x_server, fake_sleep)
    assert isinstance(connector, Connector) and tuple(connector.streams) == ("mentions", "dms")
    [batch] = await collect(connector, "mentions", None)
    await connector.aclose()

    [listing] = x_server.requests_to(MENTIONS)
    assert listing.params == {"tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS, "user.fields": USER_FIELDS,
                              "max_results": "100", "start_time": "2020-06-23T17:36:03Z"}
    assert listing.bearer and all(r.bearer == listing.bearer for r in x_server.requests)
    [search] = x_server.requests_to(SEARCH)
    assert search.params["query"] == f"conversation_id:{CONVERSATION}"
    assert (search.params["tweet.fields"], search.params["expansions"]) == (TWEET_FIELDS, EXPANSIONS)
    assert x_server.requests_to("/2/tweets") == []  # the first post came with the replies (includes)

    posts = {p.id: p for p in batch.posts}
    assert set(posts) == {pid(CONVERSATION), *map(pid, REPLIES)}
    assert {p.thread_id for p in posts.values()} == {pid(CONVERSATION)}
    root = posts[pid(CONVERSATION)]
    assert (root.reshare_count, root.quote_count, root.like_count, root.reply_count) == (4, 2, 9, 2)
    assert root.direction is Direction.OUT and root.parent_id is None
    reply = posts[pid("1276035977375477760")]
    assert reply.parent_id == pid("1275653067283759104") and reply.direction is Direction.IN
    authors = {a.id: a for a in batch.authors}
    assert (authors[pid(HAPPYCAMPER)].followers_count, authors[pid(HAPPYCAMPER)].following_count) == (1200, 300)
    assert authors[pid(SNOWMAN)].posts_count == 3  # tweet_count of the profile
    assert batch.cursor == "1276035977375477760" and not batch.more and batch.source == "mention"
    assert connector.reads_left_text() == "10 posts read this month"  # every post returned, includes too


@pytest.mark.asyncio
async def test_mentions_are_paged_with_pagination_token_and_only_the_last_page_moves_the_cursor(
        x_server: XTestServer, fake_sleep) -> None:
    x_server.search_allowed = False  # only the paging matters here
    connector = make_connector(x_server, fake_sleep, business=TWITTER, page_size=5)
    batches = await collect(connector, "mentions", None)
    await connector.aclose()

    listing = x_server.requests_to(f"/2/users/{TWITTER}/mentions")
    assert [r.params.get("pagination_token") for r in listing] == [
        None, "7140dibdnow9c7btw423i3sy000000", "7140dibdnow9c7btw423i3sy000001"]  # each page's meta.next_token
    assert all(r.params["max_results"] == "5" and "since_id" not in r.params for r in listing)
    newest = recorded_mentions()[0]["id"]  # recorded: 1578522401263919106, "@GerardDalbon @Twitter …"
    assert [b.cursor for b in batches] == [None, None, newest]
    assert [b.more for b in batches] == [True, True, False]
    assert [len(b.posts) for b in batches] == [5, 5, 2]
    likers = {f"x:{u['id']}" for u in recorded_likers()[:12]}
    assert {p.author_id for b in batches for p in b.posts} == likers


@pytest.mark.asyncio
async def test_an_account_whose_user_id_is_not_known_yet_asks_who_it_is_first(x_server: XTestServer,
                                                                             fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep, id_known=False)
    [batch] = await collect(connector, "mentions", None)
    await connector.aclose()
    me, listing, *_ = x_server.requests
    assert me.path == "/2/users/me" and me.params == {"user.fields": USER_FIELDS}
    assert listing.path == MENTIONS and any(p.direction is Direction.OUT for p in batch.posts)


@pytest.mark.asyncio
async def test_later_syncs_send_since_id_and_read_only_what_is_new(x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    [first] = await collect(connector, "mentions", None)
    assert await collect(connector, "mentions", first.cursor) == []  # nothing new: no batch, no cursor change
    new = x_server.post(JELLYBEAN, "@snowman @happycamper same here, the counts are what I need",
                        in_reply_to="1276035977375477760")
    [batch] = await collect(connector, "mentions", first.cursor)
    await connector.aclose()

    listing = x_server.requests_to(MENTIONS)
    assert [r.params.get("since_id") for r in listing] == [None, first.cursor, first.cursor]
    assert "start_time" not in listing[1].params
    searches = x_server.requests_to(SEARCH)
    # The conversation was read in full once this session: the next search asks only for what is newer.
    assert searches[-1].params["since_id"] == "1276035977375477760"
    posts = {p.id: p for p in batch.posts}
    assert set(posts) == {pid(new), pid("1276035977375477760")} and batch.cursor == new  # the parent: included
    assert posts[pid(new)].thread_id == pid(CONVERSATION)
    assert posts[pid(new)].parent_id == pid("1276035977375477760")


@pytest.mark.asyncio
async def test_when_the_access_level_refuses_search_conversations_are_walked_up_their_reply_chains(
        x_server: XTestServer, fake_sleep) -> None:
    x_server.search_allowed = False
    connector = make_connector(x_server, fake_sleep)
    [batch] = await collect(connector, "mentions", None)

    [refused] = x_server.requests_to(SEARCH)
    assert refused.params["query"] == f"conversation_id:{CONVERSATION}"
    lookups = x_server.requests_to("/2/tweets")
    # The mentions' parents came in includes; what is above them is read by id, with the first post in one read.
    assert [r.params["ids"] for r in lookups] == [f"{CONVERSATION},1274086728471461889"]
    assert lookups[0].params["tweet.fields"] == TWEET_FIELDS
    chain = {"1276035977375477760", "1275653067283759104", "1275763727908798470", "1274086728471461889",
             CONVERSATION}
    assert {p.id for p in batch.posts} == set(map(pid, chain))  # a walk finds the chain, not the side branches
    assert "does not allow searching whole conversations" in connector.conversations_unavailable

    await collect(connector, "mentions", batch.cursor)
    assert len(x_server.requests_to(SEARCH)) == 1  # not asked again within hours
    await connector.aclose()


@pytest.mark.asyncio
async def test_a_deep_chain_is_walked_up_to_its_first_post(x_server: XTestServer, fake_sleep) -> None:
    x_server.search_allowed = False
    one = x_server.post(HAPPYCAMPER, "@snowman one", in_reply_to="1276035977375477760")
    two = x_server.post(SNOWMAN, "@happycamper two", in_reply_to=one)
    three = x_server.post(HAPPYCAMPER, "@snowman three", in_reply_to=two)
    connector = make_connector(x_server, fake_sleep, business=SNOWMAN)
    batches = await collect(connector, "mentions", "1276035977375477760")
    await connector.aclose()
    ids = {p.id for b in batches for p in b.posts}
    assert {pid(three), pid(two), pid(one), pid("1276035977375477760"), pid(CONVERSATION)} <= ids
    # Each post read brings the one it answers (includes), so a read climbs two levels at a time.
    assert [r.params["ids"] for r in x_server.requests_to("/2/tweets")] == [f"{CONVERSATION},1275653067283759104"]
    assert pid("1274086728471461889") in ids


# ------------------------------------------------------------------------------------------------ threads


@pytest.mark.asyncio
async def test_refresh_thread_reads_counts_retweeters_and_deletions(x_server: XTestServer, fake_sleep) -> None:
    retweeters = recorded_retweeters()
    x_server.retweeted_by(CONVERSATION, retweeters)
    x_server.set_counts(CONVERSATION, retweet_count=38, quote_count=1)
    x_server.set_followers(retweeters[0]["id"], 52000)
    x_server.delete("1275763727908798470")
    connector = make_connector(x_server, fake_sleep)
    known = [pid(CONVERSATION), pid("1275763727908798470"), pid("1276035977375477760")]
    batch = await connector.refresh_thread(pid(CONVERSATION), known)

    [asked] = x_server.requests_to(f"/2/tweets/{CONVERSATION}/retweeted_by")
    assert asked.params == {"user.fields": USER_FIELDS, "max_results": "40"}
    assert batch.stream == "threads" and batch.deleted_post_ids == (pid("1275763727908798470"),)
    assert {r.author_id for r in batch.reshares} == {f"x:{u['id']}" for u in retweeters}
    assert all(r.post_id == pid(CONVERSATION) for r in batch.reshares)
    authors = {a.id: a for a in batch.authors}
    assert authors[f"x:{retweeters[0]['id']}"].followers_count == 52000
    root = next(p for p in batch.posts if p.id == pid(CONVERSATION))
    assert (root.reshare_count, root.quote_count) == (38, 1)

    again = await connector.refresh_thread(pid(CONVERSATION), known)  # the count stands still: not asked again
    assert len(x_server.requests_to(f"/2/tweets/{CONVERSATION}/retweeted_by")) == 1 and again.reshares == ()
    await connector.aclose()


@pytest.mark.asyncio
async def test_retweeters_are_capped_at_two_pages(x_server: XTestServer, fake_sleep) -> None:
    many = [*recorded_retweeters(), *recorded_likers()][:100]
    x_server.retweeted_by(CONVERSATION, many)
    x_server.set_counts(CONVERSATION, retweet_count=100)
    connector = make_connector(x_server, fake_sleep)
    batch = await connector.refresh_thread(pid(CONVERSATION), [])
    await connector.aclose()
    asked = x_server.requests_to(f"/2/tweets/{CONVERSATION}/retweeted_by")
    assert [r.params.get("pagination_token") for r in asked] == [None, "7140dibdnow9c7btw423i3sy000000"]
    assert len(batch.reshares) == 80


@pytest.mark.asyncio
async def test_fetch_thread_and_fetch_authors(x_server: XTestServer, fake_sleep) -> None:
    x_server.set_followers(JELLYBEAN, 77)
    connector = make_connector(x_server, fake_sleep)
    posts = await connector.fetch_thread(pid(CONVERSATION))
    assert {p.id for p in posts} == {pid(CONVERSATION), *map(pid, REPLIES)}
    authors = await connector.fetch_authors([pid(JELLYBEAN), pid(HAPPYCAMPER), "mastodon:x/1", pid("999")])
    await connector.aclose()
    [users] = x_server.requests_to("/2/users")
    assert users.params == {"ids": f"{JELLYBEAN},{HAPPYCAMPER},999", "user.fields": USER_FIELDS}
    assert {(a.id, a.followers_count) for a in authors} == {(pid(JELLYBEAN), 77), (pid(HAPPYCAMPER), 0)}


# ------------------------------------------------------------------------------------------------ direct messages


@pytest.mark.asyncio
async def test_direct_messages_are_direct_posts_threaded_per_conversation(x_server: XTestServer, fake_sleep) -> None:
    x_server.set_followers(DM_PEER, 15)
    asked = x_server.message(DM_PEER, TWEEPYDEV, "Hi! My order #1234 never arrived")
    connector = make_connector(x_server, fake_sleep, business=TWEEPYDEV)
    [batch] = await collect(connector, "dms", None)

    [listing] = x_server.requests_to("/2/dm_events")
    assert listing.params == {
        "dm_event.fields": "id,text,event_type,created_at,dm_conversation_id,sender_id,participant_ids,"
                           "referenced_tweets",
        "expansions": "sender_id,participant_ids", "user.fields": USER_FIELDS, "event_types": "MessageCreate",
        "max_results": "100"}
    conversation = "750362064426721281-1072250532645998596"  # recorded
    assert [(p.text, p.direction) for p in batch.posts] == [
        ("Hi! My order #1234 never arrived", Direction.IN), ("Testing 2", Direction.OUT),
        ("Testing 1", Direction.OUT)]
    assert {p.thread_id for p in batch.posts} == {f"x:dm/{conversation}"}
    assert all(p.visibility is Visibility.DIRECT for p in batch.posts)
    assert batch.cursor == asked["id"] and not batch.more
    assert {(a.id, a.followers_count) for a in batch.authors} >= {(pid(DM_PEER), 15)}
    assert connector.reads_left_text() == "0 posts read this month"  # messages are not posts

    assert await collect(connector, "dms", batch.cursor) == []
    later = x_server.message(DM_PEER, TWEEPYDEV, "Any news?")
    [newer] = await collect(connector, "dms", batch.cursor)
    await connector.aclose()
    assert [p.text for p in newer.posts] == ["Any news?"] and newer.cursor == later["id"]


@pytest.mark.asyncio
async def test_direct_messages_the_access_level_refuses_do_not_stop_the_sync(x_server: XTestServer,
                                                                             fake_sleep) -> None:
    x_server.dms_allowed = False
    connector = make_connector(x_server, fake_sleep, business=TWEEPYDEV)
    assert await collect(connector, "dms", None) == []
    assert connector.chat_unavailable.startswith("Your X access level does not allow reading direct messages")
    assert await collect(connector, "dms", None) == []
    assert len(x_server.requests_to("/2/dm_events")) == 1  # asked again hours later, not on every sync
    await connector.aclose()


# ------------------------------------------------------------------------------------------------ brand watches


@pytest.mark.asyncio
async def test_a_brand_watch_searches_once_for_all_terms_and_keeps_only_true_matches(
        x_server: XTestServer, fake_sleep) -> None:
    x_server.add_home_timeline()
    python_fan = "x:1294870848197799936"  # the (assigned) author of "Satisfying day doing some Python hacking…"
    watch = BrandWatch(terms=("Python", "Trivia", "Tweet", "NYC"), exclude=("trivia bot",),
                       muted_author_ids=frozenset({python_fan}))
    connector = make_connector(x_server, fake_sleep, page_size=10)
    batches = [b async for b in connector.fetch_watch(watch, None)]

    searches = x_server.requests_to(SEARCH)
    assert [r.params["query"] for r in searches] == [
        '(Python OR Trivia OR Tweet OR NYC) -is:retweet -from:snowman -"trivia bot"'] * 2
    assert [r.params.get("next_token") for r in searches] == [None, "7140dibdnow9c7btw423i3sy000000"]
    assert all(r.params["max_results"] == "10" and "since_id" not in r.params for r in searches)
    kept = [p for b in batches for p in b.posts]
    texts = [p.text for p in kept]
    assert all(b.stream == WATCH_STREAM and b.source == "watch" for b in batches)
    assert [b.cursor for b in batches] == [None, "1578253738770194432"]  # the newest result, matching or not
    # X's fuzzy search also found "Tweets are 12…", "…edited Tweets" and the muted neighbour: left out.
    assert not any(t.startswith(("Tweets are 12", "Nice post from @suhemparack")) for t in texts)
    assert python_fan not in {p.author_id for p in kept}
    assert "NYC \u2039 London (weather this week)" in texts
    assert any("El Diez de la Trivia" in t for t in texts) and not any("trivia bot" in t for t in texts)
    assert all(watch.matches(p.text, p.author_id) and p.direction is Direction.IN for p in kept)
    assert len(kept) == 10

    assert [b async for b in connector.fetch_watch(watch, batches[-1].cursor)] == []
    assert x_server.requests_to(SEARCH)[-1].params["since_id"] == "1578253738770194432"
    assert [b async for b in connector.fetch_watch(BrandWatch(), None)] == []  # nothing to look for: no request
    await connector.aclose()


@pytest.mark.asyncio
async def test_posts_that_reach_the_business_anyway_are_left_to_the_mentions(x_server: XTestServer,
                                                                           fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    batches = [b async for b in connector.fetch_watch(BrandWatch(terms=("error message",)), None)]
    await connector.aclose()
    [search] = x_server.requests_to(SEARCH)
    assert search.params["query"] == '("error message") -is:retweet -from:snowman'
    # Found: @happycamper's "@snowman Ooo, thanks error message, …", a reply to the business: a mention.
    assert [(b.posts, b.cursor) for b in batches] == [((), "1276035977375477760")]


@pytest.mark.asyncio
async def test_a_watch_the_access_level_cannot_run_says_so_without_failing(x_server: XTestServer,
                                                                          fake_sleep) -> None:
    x_server.search_allowed = False
    connector = make_connector(x_server, fake_sleep)
    watch = BrandWatch(terms=("Python",))
    assert [b async for b in connector.fetch_watch(watch, None)] == []
    assert connector.watch_unavailable.startswith("Your X access level does not allow searching posts for brand-")
    assert [b async for b in connector.fetch_watch(watch, None)] == []
    await connector.aclose()
    assert len(x_server.requests_to(SEARCH)) == 1  # not asked again for hours


# ------------------------------------------------------------------------------------------------ into the inbox


@pytest.mark.asyncio
async def test_the_sync_engine_stores_mentions_and_messages_and_their_cursors(
        x_server: XTestServer, fake_sleep, tmp_path: Path) -> None:
    x_server.message(DM_PEER, SNOWMAN, "Hello from a DM")
    account = make_account(SNOWMAN)
    inbox = Inbox.open(tmp_path / "inbox.db")
    inbox.ensure_account(account)
    writer = StoreWriter(inbox)
    try:
        connector = make_connector(x_server, fake_sleep)
        [result] = await SyncEngine(writer, [connector]).sync_once()
        assert result.error is None, result.error
        rows = inbox.db.execute("SELECT id, thread_id FROM posts ORDER BY id").fetchall()
        cursors = dict(inbox.db.execute("SELECT stream, cursor FROM sync_cursors").fetchall())
    finally:
        writer.close()
    assert {r[0] for r in rows} >= {pid(CONVERSATION), *map(pid, REPLIES)}
    assert any(r[1].startswith("x:dm/") for r in rows)
    assert cursors["mentions"] == "1276035977375477760" and cursors["dms"]
