"""Brand watches on Mastodon against the local server: hashtag timelines replayed from the recordings of a real
Mastodon 4.6.4 server (``test_pagination_iterator``: a tag timeline paged by Link headers, and its empty "nothing
newer" answer), full-text search over recorded statuses whose text a scenario changes (named at each call site),
and the recorded empty search answer (``test_search``) of a server where nobody opted in to search.
"""

from __future__ import annotations

import asyncio
import html
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.connectors.errors import AuthExpired, BadResponse, RateLimited, ServerError
from console.connectors.http import HttpClient
from console.connectors.mastodon import MastodonConnector
from console.connectors.mastodon_text import html_to_text
from console.connectors.mastodon_watch import decode_watch_cursor, encode_watch_cursor, watch_queries
from console.domain import Account, Batch, Direction, Visibility, iso_utc
from console.domain.watches import WATCH_STREAM, BrandWatch
from console.store import Inbox
from tests.connectors.mastodon_server import (  # noqa: F401 - mastodon_server is a fixture
    ADMIN,
    BUSINESS,
    CUSTOMER,
    NOW,
    TOKEN,
    Clock,
    MastodonTestServer,
    cassette,
    make_account,
    make_connector,
    mastodon_server,
    new_inbox,
    post_id,
    query,
    recorded,
    recorded_notification,
    recorded_status,
)

TAG = "fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp"  # the hashtag of the recorded tag timeline
TAG_PATH = f"/api/v1/timelines/tag/{TAG}"
SEARCH = "/api/v2/search"
NEWEST_TAGGED = "117020582251615632"  # "Toot number 29! #fgizts…" by @mastodonpy_test_2, the timeline's newest
REPLY = "117020583258292382"  # @admin: "@mastodonpy_test_2 same!", a reply to …
REPLIED_TO = "117020583245459824"  # … @mastodonpy_test_2: "Toot, finally!"


def p(text: str) -> str:
    """Post HTML as Mastodon renders plain text."""
    return f"<p>{html.escape(text, quote=False)}</p>"


def mention_html(acct: str) -> str:
    return (f'<span class="h-card" translate="no"><a href="http://localhost:3000/@{acct}" class="u-url mention">'
            f"@<span>{acct}</span></a></span>")


def tagged_statuses() -> list[dict[str, Any]]:
    """The 30 statuses of the recorded tag timeline, newest first, as the real server returned them."""
    found = []
    for interaction in cassette("test_pagination_iterator"):
        if interaction.path == TAG_PATH:
            found += [s for s in interaction.json() if s["id"] not in {f["id"] for f in found}]
    return sorted(found, key=lambda s: int(s["id"]), reverse=True)


async def collect(connector: MastodonConnector, watch: BrandWatch, cursor: str | None) -> list[Batch]:
    try:
        return [batch async for batch in connector.fetch_watch(watch, cursor)]
    finally:
        await connector.aclose()


def posts_of(batches: list[Batch]) -> dict[str, Any]:
    return {post.id: post for batch in batches for post in batch.posts}


def final_cursor(batches: list[Batch]) -> dict[str, str]:
    return json.loads([b.cursor for b in batches if b.cursor is not None][-1])


# ------------------------------------------------------------------------------------------------ hashtag timelines


@pytest.mark.asyncio
async def test_a_hashtag_first_run_asks_as_the_recording_did_and_stops_after_two_pages(mastodon_server, fake_sleep):
    mastodon_server.replay("test_pagination_iterator", only=lambda i: i.path == TAG_PATH)
    connector = make_connector(mastodon_server, fake_sleep, page_size=10)
    batches = await collect(connector, BrandWatch(terms=(f"#{TAG}",)), None)

    # The same requests the real server answered: the first page, then its Link rel="next" (max_id) — and no third.
    asked = mastodon_server.requests_to(TAG_PATH)
    assert [r.query for r in asked] == [(("limit", "10"),), (("limit", "10"), ("max_id", "117020582177108552"))]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in asked)
    assert not mastodon_server.requests_to(SEARCH)  # a hashtag term reads the tag's timeline, never searches

    assert [(b.stream, b.source, b.cursor is None, b.more) for b in batches] == [
        (WATCH_STREAM, "watch", True, True), (WATCH_STREAM, "watch", False, False)]
    assert final_cursor(batches) == {f"tag:{TAG}": NEWEST_TAGGED}
    posts = posts_of(batches)
    assert set(posts) == {post_id(mastodon_server, s["id"]) for s in tagged_statuses()[:20]}
    for post in posts.values():
        assert post.author_id == post_id(mastodon_server, CUSTOMER) and post.direction is Direction.IN
        assert post.thread_id == post.id and post.parent_id is None  # top-level posts root their own threads
        assert post.text.startswith("Toot number ") and post.text.endswith(f"#{TAG}")
        assert post.account_id == make_account(mastodon_server).id
    [author] = {a.id: a for b in batches for a in b.authors}.values()
    assert author.handle == f"@mastodonpy_test_2@{mastodon_server.host}" and author.posts_count > 0


@pytest.mark.asyncio
async def test_the_stored_cursor_asks_only_for_newer_and_the_recorded_empty_answer_changes_nothing(
        mastodon_server, fake_sleep):
    mastodon_server.replay("test_pagination_iterator", only=lambda i: i.path == TAG_PATH)
    connector = make_connector(mastodon_server, fake_sleep, page_size=10)
    cursor = encode_watch_cursor({f"tag:{TAG}": NEWEST_TAGGED})
    assert await collect(connector, BrandWatch(terms=(f"#{TAG}",)), cursor) == []
    [asked] = mastodon_server.requests_to(TAG_PATH)
    assert asked.query == (("limit", "10"), ("min_id", NEWEST_TAGGED))  # as recorded


@pytest.mark.asyncio
async def test_later_runs_walk_forward_from_the_cursor_following_rel_prev(mastodon_server, fake_sleep):
    statuses = tagged_statuses()
    mastodon_server.timeline(TAG_PATH, statuses)
    oldest_seen = statuses[25]["id"]  # the last run ended here: 25 newer statuses since
    connector = make_connector(mastodon_server, fake_sleep, page_size=10)
    batches = await collect(connector, BrandWatch(terms=(f"#{TAG}",)), encode_watch_cursor({f"tag:{TAG}": oldest_seen}))

    asked = mastodon_server.requests_to(TAG_PATH)
    assert [r.params["min_id"] for r in asked] == [[oldest_seen], [statuses[15]["id"]], [statuses[5]["id"]]]
    assert set(posts_of(batches)) == {post_id(mastodon_server, s["id"]) for s in statuses[:25]}
    assert final_cursor(batches) == {f"tag:{TAG}": statuses[0]["id"]}
    assert [b.cursor is None for b in batches] == [True, True, False]  # only the end of the query moves it


@pytest.mark.asyncio
async def test_a_first_run_looks_back_only_the_watch_window(mastodon_server, fake_sleep):
    statuses = tagged_statuses()[:6]
    for old in statuses[3:]:
        old["created_at"] = iso_utc(NOW - timedelta(days=10))  # before the three-day window
    mastodon_server.timeline(TAG_PATH, statuses)
    connector = make_connector(mastodon_server, fake_sleep, page_size=2)
    batches = await collect(connector, BrandWatch(terms=(f"#{TAG}",)), None)

    assert set(posts_of(batches)) == {post_id(mastodon_server, s["id"]) for s in statuses[:3]}
    assert len(mastodon_server.requests_to(TAG_PATH)) == 2  # stopped at the first page reaching past the window
    assert final_cursor(batches) == {f"tag:{TAG}": statuses[0]["id"]}


# ------------------------------------------------------------------------------------------------ full-text search


def serve_conversation(server: MastodonTestServer, reply_text: str) -> dict[str, Any]:
    """A customer's post and @admin's reply to it (the recorded pair), the reply saying ``reply_text``."""
    root = recorded_status(REPLIED_TO)
    reply = recorded_status(REPLY, content=f"<p>{mention_html('mastodonpy_test_2')} {html.escape(reply_text)}</p>")
    server.publish(root, reply)
    return reply


def serve_search_scenario(server: MastodonTestServer) -> dict[str, dict[str, Any]]:
    """What a loose search for "Crumb & Co" finds, and what a watch must keep of it."""
    mentioning = recorded_notification("20")["status"]  # "@mastodonpy_test hello!" by @admin
    mentioning["content"] = mentioning["content"].replace("hello!", "hello! Crumb &amp; Co rocks")
    statuses = {
        "praise": recorded_status("117020574694606796", content=p("Finally tried the pistachio croissant at "
                                  "Crumb & Co, worth the queue"), reblogs_count=3, favourites_count=5,
                                  replies_count=1, quotes_count=2),
        "reply": serve_conversation(server, "same! Crumb & Co never misses"),
        "unlisted": recorded_status("117020579899861432", visibility="unlisted", mentions=[],
                                    content=p("Crumb & Co sourdough, quietly the best")),
        "lookalike": recorded_status("117020590477318485", content=p("Crumb & Company is a different shop")),
        "excluded": recorded_status("117020588242324937", content=p("Crumb & Co roadworks outside again")),
        "muted": recorded_status("117020585505579935", content=p("Crumb & Co again today")),  # @mastodonpy_test_2
        "own": recorded_status("117020579695730951", content=p("Fresh loaves at Crumb & Co")),  # the business
        "direct": recorded_status("117020582721532745", visibility="direct", content=p("Crumb & Co, psst")),
        "private": recorded_status("117020592137523525", visibility="private",
                                   content=p("Crumb & Co staff party tonight")),
        "mentions the shop": mentioning,
    }
    server.searchable(*statuses.values())
    return statuses


WATCH = BrandWatch(terms=("Crumb & Co",), exclude=("roadworks",))


@pytest.mark.asyncio
async def test_search_sends_the_term_as_a_phrase_and_keeps_only_true_public_matches(mastodon_server, fake_sleep):
    statuses = serve_search_scenario(mastodon_server)
    watch = BrandWatch(terms=WATCH.terms, exclude=WATCH.exclude,
                       muted_author_ids=frozenset({post_id(mastodon_server, CUSTOMER)}))
    batches = await collect(make_connector(mastodon_server, fake_sleep), watch, None)

    [asked] = mastodon_server.requests_to(SEARCH)
    assert asked.query == (("q", '"Crumb & Co"'), ("type", "statuses"), ("resolve", "false"), ("limit", "40"))
    posts = posts_of(batches)
    kept = {name for name, s in statuses.items() if post_id(mastodon_server, s["id"]) in posts}
    assert kept == {"praise", "reply", "unlisted"}
    praise = posts[post_id(mastodon_server, statuses["praise"]["id"])]
    assert praise.text == "Finally tried the pistachio croissant at Crumb & Co, worth the queue"
    assert (praise.reshare_count, praise.like_count, praise.reply_count, praise.quote_count) == (3, 5, 1, 2)
    assert praise.visibility is Visibility.PUBLIC and praise.thread_id == praise.id
    assert posts[post_id(mastodon_server, statuses["unlisted"]["id"])].visibility is Visibility.UNLISTED
    authors = {a.id: a for b in batches for a in b.authors}
    assert set(authors) == {post_id(mastodon_server, ADMIN)}
    assert authors[post_id(mastodon_server, ADMIN)].followers_count == 1  # as the recorded account says
    assert all(b.source == "watch" and b.stream == WATCH_STREAM for b in batches)
    assert final_cursor(batches) == {"q:crumb & co": max((s["id"] for s in statuses.values()), key=int)}


@pytest.mark.asyncio
async def test_a_matching_reply_is_placed_in_its_conversation_under_its_root(mastodon_server, fake_sleep):
    serve_search_scenario(mastodon_server)
    batches = await collect(make_connector(mastodon_server, fake_sleep), WATCH, None)

    reply = posts_of(batches)[post_id(mastodon_server, REPLY)]
    assert reply.thread_id == post_id(mastodon_server, REPLIED_TO)  # the root, as a mention's thread is rooted
    assert reply.parent_id == post_id(mastodon_server, REPLIED_TO)
    assert post_id(mastodon_server, REPLIED_TO) not in posts_of(batches)  # the root says nothing about the shop
    assert len(mastodon_server.requests_to(f"/api/v1/statuses/{REPLY}/context")) == 1
    assert not any(r.path.endswith("/context") and REPLY not in r.path for r in mastodon_server.requests)


@pytest.mark.asyncio
async def test_a_watch_match_and_a_later_mention_in_its_conversation_share_one_inbox_thread(
        mastodon_server, fake_sleep, tmp_path: Path):
    serve_conversation(mastodon_server, "same! Crumb & Co never misses")
    mastodon_server.searchable(mastodon_server.statuses[REPLY])
    path = new_inbox(tmp_path / "inbox.db", make_account(mastodon_server))
    watched = await collect(make_connector(mastodon_server, fake_sleep), WATCH, None)
    # Later the customer mentions the shop in the same conversation: the mention path reads the whole thread.
    mention = recorded_notification("20")
    mention["status"] |= {"in_reply_to_id": REPLY, "in_reply_to_account_id": ADMIN}
    mastodon_server.publish(mention["status"])
    mastodon_server.timeline("/api/v1/notifications", [mention])
    connector = make_connector(mastodon_server, fake_sleep)
    mentioned = [b async for b in connector.fetch_since("notifications", None)]
    await connector.aclose()

    inbox = Inbox.open(path)
    try:
        for batch in watched + mentioned:
            inbox.apply_batch(batch)
    finally:
        inbox.close()
    rows = query(path, "SELECT id, thread_id FROM posts ORDER BY id")
    assert {thread for _, thread in rows} == {post_id(mastodon_server, REPLIED_TO)}
    natives = (REPLIED_TO, REPLY, mention["status"]["id"])
    assert {pid for pid, _ in rows} == {post_id(mastodon_server, n) for n in natives}


@pytest.mark.asyncio
async def test_search_pages_down_with_max_id_and_a_first_run_reads_at_most_two_pages(mastodon_server, fake_sleep):
    statuses = [recorded_status(s["id"], content=p(f"Crumb & Co, visit {n}"))
                for n, s in enumerate(tagged_statuses()[:7])]
    mastodon_server.searchable(*statuses)
    batches = await collect(make_connector(mastodon_server, fake_sleep, page_size=3), WATCH, None)

    asked = mastodon_server.requests_to(SEARCH)
    assert [r.params.get("max_id") for r in asked] == [None, [statuses[2]["id"]]]
    assert set(posts_of(batches)) == {post_id(mastodon_server, s["id"]) for s in statuses[:6]}
    assert final_cursor(batches) == {"q:crumb & co": statuses[0]["id"]}


@pytest.mark.asyncio
async def test_later_searches_keep_min_id_as_the_lower_bound_while_paging_down(mastodon_server, fake_sleep):
    statuses = [recorded_status(s["id"], content=p(f"Crumb & Co, visit {n}"))
                for n, s in enumerate(tagged_statuses()[:10])]
    mastodon_server.searchable(*statuses)
    since = statuses[7]["id"]
    first = await collect(make_connector(mastodon_server, fake_sleep, page_size=3), WATCH,
                          encode_watch_cursor({"q:crumb & co": since}))

    asked = mastodon_server.requests_to(SEARCH)
    assert [(r.params["min_id"], r.params.get("max_id")) for r in asked] == [
        ([since], None), ([since], [statuses[2]["id"]]), ([since], [statuses[5]["id"]])]
    assert set(posts_of(first)) == {post_id(mastodon_server, s["id"]) for s in statuses[:7]}
    assert final_cursor(first) == {"q:crumb & co": statuses[0]["id"]}

    # The cursor handed back: nothing newer, nothing yielded, one request.
    again = await collect(make_connector(mastodon_server, fake_sleep, page_size=3), WATCH, first[-1].cursor)
    assert again == []
    assert mastodon_server.requests_to(SEARCH)[-1].params["min_id"] == [statuses[0]["id"]]


@pytest.mark.asyncio
async def test_a_server_that_ignores_min_id_still_gives_only_newer_posts(mastodon_server, fake_sleep):
    statuses = [recorded_status(s["id"], content=p("Crumb & Co")) for s in tagged_statuses()[:4]]
    mastodon_server.respond("GET", SEARCH, mastodon_server.Response(
        json={"accounts": [], "statuses": statuses, "hashtags": []}))
    batches = await collect(make_connector(mastodon_server, fake_sleep), WATCH,
                            encode_watch_cursor({"q:crumb & co": statuses[2]["id"]}))
    assert set(posts_of(batches)) == {post_id(mastodon_server, s["id"]) for s in statuses[:2]}
    assert len(mastodon_server.requests_to(SEARCH)) == 1


@pytest.mark.asyncio
async def test_terms_become_one_query_each_and_the_cursor_keeps_each_querys_place(mastodon_server, fake_sleep):
    tagged = tagged_statuses()
    mastodon_server.timeline(TAG_PATH, tagged[:3])
    mastodon_server.searchable(recorded_status(REPLIED_TO, content=p("Coffee on Mill Lane")))
    watch = BrandWatch(terms=(f"#{TAG}", "Mill Lane", "mill lane", "#2024"))
    batches = await collect(make_connector(mastodon_server, fake_sleep), watch,
                            encode_watch_cursor({"q:gone term": "1", f"tag:{TAG}": tagged[1]["id"]}))

    assert [r.params["q"] for r in mastodon_server.requests_to(SEARCH)] == [['"Mill Lane"'], ["#2024"]]
    assert final_cursor(batches) == {f"tag:{TAG}": tagged[0]["id"], "q:mill lane": REPLIED_TO}
    assert len(batches) == 2  # a batch per query that found something; "#2024" (not a hashtag) found nothing


# ------------------------------------------------------------------------------------------------ plain refusals


@pytest.mark.asyncio
async def test_the_recorded_empty_search_answer_is_simply_nothing(mastodon_server, fake_sleep):
    empty = recorded("test_search", "GET", SEARCH, nth=2)  # type=statuses on a server nobody opted in to search
    assert empty["statuses"] == []
    mastodon_server.respond("GET", SEARCH, mastodon_server.Response(json=empty))
    connector = make_connector(mastodon_server, fake_sleep)
    assert await collect(connector, WATCH, None) == []
    assert connector.watch_unavailable == ""


@pytest.mark.asyncio
@pytest.mark.parametrize(("status", "said"), [
    (403, "This action is outside the authorized scopes"),
    (422, "Validation failed"),
])
async def test_a_refused_search_is_reported_plainly_and_the_hashtags_still_run(mastodon_server, fake_sleep,
                                                                              status, said):
    mastodon_server.timeline(TAG_PATH, tagged_statuses()[:2])
    mastodon_server.respond("GET", SEARCH, mastodon_server.Response(status, json={"error": said}))
    connector = make_connector(mastodon_server, fake_sleep)
    batches = await collect(connector, BrandWatch(terms=("Crumb & Co", f"#{TAG}")), None)

    assert len(posts_of(batches)) == 2
    assert final_cursor(batches) == {f"tag:{TAG}": tagged_statuses()[0]["id"]}  # the refused query keeps no place
    assert "Crumb & Co" in connector.watch_unavailable and mastodon_server.host in connector.watch_unavailable
    if status == 403:
        assert "reconnect" in connector.watch_unavailable
    assert fake_sleep.calls == []  # a refusal is not retried


@pytest.mark.asyncio
async def test_faults_raise_the_connector_errors_every_stream_raises(mastodon_server, fake_sleep):
    R = mastodon_server.Response
    mastodon_server.inject("GET", SEARCH, *[R(500)] * 4)
    with pytest.raises(ServerError):
        await collect(make_connector(mastodon_server, fake_sleep), WATCH, None)

    reset = iso_utc(NOW.replace(minute=30))
    mastodon_server.inject("GET", SEARCH, R(429, json={"error": "Too many requests"},
                                            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}))
    with pytest.raises(RateLimited) as limited:
        await collect(make_connector(mastodon_server, fake_sleep), WATCH, None)
    assert limited.value.retry_after > 60

    cut_off = R(json={"statuses": []}, truncate_to=5)  # retried like any GET, so cut off every time
    for garbled in ([R(body=b"<html>oops</html>")], [R(json={"statuses": "none"})], [R(json=["not", "a", "result"])],
                    [R(json={"accounts": []})], [R(json={"statuses": [{"id": "1"}]})], [cut_off] * 4):
        mastodon_server.inject("GET", SEARCH, *garbled)
        with pytest.raises(BadResponse):
            await collect(make_connector(mastodon_server, fake_sleep), WATCH, None)

    mastodon_server.inject("GET", TAG_PATH, R(200, json={"not": "a list"}))
    with pytest.raises(BadResponse):
        await collect(make_connector(mastodon_server, fake_sleep), BrandWatch(terms=(f"#{TAG}",)), None)


@pytest.mark.asyncio
async def test_a_revoked_token_is_auth_expired(mastodon_server, fake_sleep):
    mastodon_server.respond("GET", SEARCH, mastodon_server.Response(401, json={"error": "The access token is invalid"}))
    with pytest.raises(AuthExpired):
        await collect(make_connector(mastodon_server, fake_sleep), WATCH, None)


@pytest.mark.asyncio
async def test_an_empty_watch_asks_nothing(mastodon_server, fake_sleep):
    assert await collect(make_connector(mastodon_server, fake_sleep), BrandWatch(), None) == []
    assert mastodon_server.requests == []


# ------------------------------------------------------------------------------------------------ parsing, by property


def test_queries_quote_phrases_and_read_hashtags_from_their_timeline():
    queries = watch_queries(BrandWatch(terms=("Crumb & Co", "crumbandco", "#CrumbAndCo", "#crumbandco", "# spaced",
                                              'say "hi" there', "#2024", "#café")))
    assert [(q.kind, q.value, q.key) for q in queries] == [
        ("search", '"Crumb & Co"', "q:crumb & co"),
        ("search", "crumbandco", "q:crumbandco"),
        ("tag", "CrumbAndCo", "tag:crumbandco"),
        ("search", '"# spaced"', "q:# spaced"),
        ("search", '"say hi there"', "q:say hi there"),
        ("search", "#2024", "q:#2024"),
        ("tag", "café", "tag:café"),
    ]


@given(st.text(max_size=200))
def test_any_stored_cursor_is_read_without_failing(cursor):
    state = decode_watch_cursor(cursor)
    assert state is None or all(isinstance(k, str) and isinstance(v, str) for k, v in state.items())


@given(st.dictionaries(st.text(max_size=30), st.from_regex(r"[0-9]{1,20}", fullmatch=True), max_size=6))
def test_cursors_round_trip(state):
    assert decode_watch_cursor(encode_watch_cursor(state)) == state


WORDS = st.sampled_from(["Crumb", "crumb", "&", "Co", "co", "CO", "Company", "roadworks", "the", "at", "crumbs",
                         "Crumb-&-Co", "#crumbandco", "@crumbandco", "<b>", "&amp;", "é", "\n", "CrUmB"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(WORDS, max_size=12).map(" ".join), st.booleans())
def test_a_status_is_kept_exactly_when_its_plain_text_matches(words, by_muted):
    """Whatever HTML a status carries, the watch decides on the text the inbox shows (the server's looser idea of
    a match never leaks through)."""
    content = p(words)
    author = CUSTOMER if by_muted else ADMIN
    status = recorded_status("117020574694606796", content=content)  # by @admin …
    if by_muted:
        status["account"] = recorded_status(REPLIED_TO)["account"]  # … or by @mastodonpy_test_2, muted
    host = "localhost:3000"

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == SEARCH
        return httpx.Response(200, json={"accounts": [], "statuses": [status], "hashtags": []})

    async def run() -> list[Batch]:
        http = HttpClient(f"http://{host}", service_name="Mastodon", transport=httpx.MockTransport(answer))
        connector = MastodonConnector(make_account_for(host), TOKEN, client=http, clock=Clock())
        try:
            return [b async for b in connector.fetch_watch(watch, None)]
        finally:
            await connector.aclose()

    watch = BrandWatch(terms=("Crumb & Co",), exclude=("roadworks",),
                       muted_author_ids=frozenset({f"mastodon:{host}/{CUSTOMER}"}))
    batches = asyncio.run(run())
    kept = [post for batch in batches for post in batch.posts]
    expected = watch.matches(html_to_text(content, local_host=host), f"mastodon:{host}/{author}")
    assert bool(kept) == expected
    if kept:
        assert kept[0].text == html_to_text(content, local_host=host)


def make_account_for(host: str) -> Account:
    return Account(id=f"mastodon:mastodonpy_test@{host}", network="mastodon", handle=f"@mastodonpy_test@{host}",
                   server_url=f"http://{host}", remote_id=BUSINESS)
