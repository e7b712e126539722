"""X payloads as inbox records, starting from answers recorded from the real X API (fixtures/x), and mutated real
payloads becoming either correct records or a ``ConnectorError``, never another exception."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.connectors.errors import BadResponse, ConnectorError
from console.connectors.x_page import PageBuilder
from console.connectors.x_parse import (
    PASSING_OBSERVATION, Envelope, Scope, dm_parts, parse_dm_event, parse_tweet, parse_user, read_envelope,
    read_problem, render_text, snowflake_time,
)
from console.domain import Attachment, Direction, Visibility
from tests.connectors.x_server import (
    CONVERSATION, HAPPYCAMPER, JELLYBEAN, SNOWMAN, TWEEPYDEV, postman, recorded_conversation, recorded_dm_events,
    recorded_mentions, tweepy_json,
)

NOW = "2020-06-30T17:36:03.000Z"
SCOPE = Scope("x:17200003", SNOWMAN, NOW)


def conversation_body() -> dict[str, Any]:
    """recorded: recent search conversation_id:1273733248749690880 with referenced tweets and authors expanded."""
    return postman("Recent search", "200 Success - Request Tweet Fields with Expanded User Fields").json()


def test_the_recorded_conversation_search_becomes_posts_in_one_thread_with_their_parents() -> None:
    body = conversation_body()
    envelope = read_envelope(body, "search")
    page = PageBuilder(SCOPE)
    for tweet in envelope.data:
        page.add_listed(tweet, envelope)
    reply = page.posts["x:1276035977375477760"]
    assert reply.author_id == f"x:{HAPPYCAMPER}" and reply.direction is Direction.IN
    assert reply.parent_id == "x:1275653067283759104" and reply.created_at == "2020-06-25T06:14:19.000Z"
    assert reply.text.startswith("@snowman Ooo, thanks error message") and reply.text.endswith(
        "https://twitter.com/happycamper/status/1276035977375477760/photo/1")  # the t.co link, expanded
    assert reply.url == "https://x.com/happycamper/status/1276035977375477760"
    assert reply.visibility is Visibility.PUBLIC
    # The conversation_id was not asked for in the recording: each post is its own thread until it is.
    assert reply.thread_id == reply.id
    # Replied-to posts come from includes, so the chain above the results is complete without another read.
    assert set(page.posts) == {"x:1276035977375477760", "x:1275882613572583424", "x:1275763727908798470",
                               "x:1275653067283759104", "x:1274086728471461889", "x:1273733248749690880"}
    mine = page.posts["x:1275653067283759104"]
    assert mine.direction is Direction.OUT and mine.parent_id == "x:1274086728471461889"
    assert {a.handle for a in page.authors.values()} == {"@happycamper", "@snowman", "@jellybeanjones"}
    assert all(a.observed_at == PASSING_OBSERVATION for a in page.authors.values())  # no public_metrics asked


def test_conversation_ids_thread_the_posts() -> None:
    posts, _users = recorded_conversation()
    threads = {parse_tweet(t, SCOPE).thread_id for t in posts}
    assert threads == {f"x:{CONVERSATION}"}


def test_counts_in_both_spellings_and_follower_figures() -> None:
    posts, users = recorded_conversation()
    tweet = next(t for t in posts if t["id"] == CONVERSATION)
    tweet["public_metrics"] = {"retweet_count": 4, "reply_count": 3, "like_count": 9, "quote_count": 2}
    post = parse_tweet(tweet, SCOPE)
    assert (post.reshare_count, post.quote_count, post.like_count, post.reply_count) == (4, 2, 9, 3)
    tweet["public_metrics"] = {"repost_count": 6, "quote_count": -1, "like_count": "many"}  # newest schema names
    post = parse_tweet(tweet, SCOPE)
    assert (post.reshare_count, post.quote_count, post.like_count) == (6, 0, 0)
    user = next(u for u in users if u["id"] == HAPPYCAMPER)
    author = parse_user({**user, "public_metrics": {"followers_count": 1200, "following_count": 80,
                                                    "post_count": 4000, "listed_count": 3}}, SCOPE)
    assert (author.id, author.handle, author.display_name) == (f"x:{HAPPYCAMPER}", "@happycamper",
                                                               "Emily Waligoske 🏕")
    assert (author.followers_count, author.following_count, author.posts_count) == (1200, 80, 4000)
    assert author.observed_at == NOW and author.url == "https://x.com/happycamper"


def test_text_is_unescaped_and_defused_and_link_cards_and_quotes_are_attachments() -> None:
    timeline = tweepy_json("test_client_get_home_timeline", "GET",
                           "/2/users/1072250532645998596/timelines/reverse_chronological")["data"]
    trivia = next(t for t in timeline if t["id"] == "1578095129495482369")
    assert "&amp;" in trivia["text"] and "@snowman & I are testing" in render_text(trivia)
    nyc = next(t for t in timeline if t["id"] == "1577678849445355527")  # "NYC &lt; London (weather this week)"
    assert render_text(nyc) == "NYC \u2039 London (weather this week)"  # never the start of a tag
    single = postman("Single Tweet", "200 Success - Request Tweet fields").json()["data"]
    post = parse_tweet(single, SCOPE)
    assert post.text.endswith("how-to-analyze-the-sentiment-of-your-own-tweets.html")
    assert post.attachments == (Attachment(
        "link", "https://blog.twitter.com/developer/en_us/topics/tips/2020/how-to-analyze-the-sentiment-of-your-own-"
                "tweets.html", "How to analyze the sentiment of your own Tweets"),)
    quoting = {**single, "referenced_tweets": [{"type": "quoted", "id": "1276035977375477760"}]}
    quoted = {"id": "1276035977375477760", "text": "public &amp; metrics", "author_id": HAPPYCAMPER}
    [_, quote] = parse_tweet(quoting, SCOPE, tweets={quoted["id"]: quoted},
                             users={HAPPYCAMPER: {"id": HAPPYCAMPER, "username": "happycamper"}}).attachments
    assert quote == Attachment("quote", "https://x.com/happycamper/status/1276035977375477760",
                               "@happycamper: public & metrics")


def test_creation_time_comes_from_the_snowflake_id_when_x_did_not_send_it() -> None:
    [newest, *_] = tweepy_json("test_client_get_users_mentions", "GET", "/2/users/783214/mentions")["data"]
    # recorded at "Fri, 07 Oct 2022 22:43:18 UTC" (the answer's Date header): created moments before
    assert snowflake_time(newest["id"]) == "2022-10-07T22:43:06.945Z"
    assert parse_tweet({**newest, "author_id": "1"}, SCOPE).created_at == "2022-10-07T22:43:06.945Z"
    assert snowflake_time("20") is None  # 2006: a sequence number, not a snowflake


def test_a_retweet_is_a_reshare_of_the_post_it_retweets_never_a_post() -> None:
    posts, users = recorded_conversation()
    original = next(t for t in posts if t["id"] == CONVERSATION)
    retweet = {"id": "1276100000000000000", "text": "RT @snowman: So, what's your favorite…", "author_id": JELLYBEAN,
               "created_at": "2020-06-26T10:00:00.000Z", "referenced_tweets": [{"type": "retweeted",
                                                                                "id": CONVERSATION}]}
    envelope = read_envelope({"data": [retweet], "includes": {"tweets": [original], "users": users}}, "mentions")
    page = PageBuilder(SCOPE)
    assert page.add_listed(retweet, envelope) is None
    assert list(page.posts) == [f"x:{CONVERSATION}"]
    [reshare] = page.reshares.values()
    assert (reshare.post_id, reshare.author_id, reshare.reshared_at) == (
        f"x:{CONVERSATION}", f"x:{JELLYBEAN}", "2020-06-26T10:00:00.000Z")


def test_recorded_direct_messages_are_direct_posts_threaded_per_conversation() -> None:
    scope = Scope("x:1072250532645998596", TWEEPYDEV, NOW)
    newest, oldest = (parse_dm_event(e, scope) for e in recorded_dm_events())
    assert newest is not None and oldest is not None
    conversation = "750362064426721281-1072250532645998596"
    assert newest.id == f"x:dm/{conversation}/1585800613752881156" and newest.text == "Testing 2"
    assert newest.thread_id == oldest.thread_id == f"x:dm/{conversation}"
    assert newest.visibility is Visibility.DIRECT and newest.direction is Direction.OUT
    assert newest.author_id == f"x:{TWEEPYDEV}" and newest.created_at.startswith("2022-10-28")
    assert dm_parts(newest.id) == (conversation, "1585800613752881156")
    assert dm_parts(newest.thread_id) == (conversation, None) and dm_parts("x:123") is None
    assert parse_dm_event({"id": "1", "event_type": "ParticipantsJoin", "dm_conversation_id": "1"}, scope) is None


def test_a_lookup_with_a_deleted_post_names_it() -> None:
    envelope = read_envelope(postman("Multiple Tweets", "200 Success - 1 Deleted, 1 Valid Tweet").json(), "lookup")
    assert [t["id"] for t in envelope.data] == ["20"]
    assert envelope.missing("tweet") == ["1276230436478386177"]
    assert envelope.post_count() == 1
    assert read_envelope(postman("Users by ID", "200 Success - Multiple Users, 1 Not Found").json(),
                         "users").missing("tweet") == []


def test_problem_details_tell_an_access_level_from_other_refusals() -> None:
    tier = read_problem(postman("Retrieve Rules", "403 Forbidden - Client Not Enrolled").json())
    assert tier.tier and tier.reason == "client-not-enrolled" and "approved developer account" in tier.detail
    unauthorized = read_problem(postman("Retrieve Rules", "401 Unauthorized").json())
    assert not unauthorized.tier and unauthorized.words == "Unauthorized"
    reply_limit = read_problem({"title": "Forbidden", "type": "about:blank", "status": 403,
                                "detail": "You are not allowed to reply to this Tweet."})
    assert not reply_limit.tier and reply_limit.words == "You are not allowed to reply to this Tweet."
    assert read_problem("Rate limit exceeded") == read_problem(None)  # the recorded 429 body is plain text


def test_envelopes_of_the_wrong_shape_are_bad_responses() -> None:
    for body in ("text", [], {"data": "x"}, {"data": [1]}, {"data": [], "includes": []},
                 {"data": [], "includes": {"users": {}}}):
        try:
            read_envelope(body, "mentions")
        except BadResponse as error:
            assert str(error) == "X sent a reply Tend could not understand — Tend will try again later"
        else:
            raise AssertionError(f"{body!r} was read")


# ------------------------------------------------------------------------------------------------ mutations

def _real_bodies() -> list[tuple[str, dict[str, Any]]]:
    posts, users = recorded_conversation()
    mentions = recorded_mentions()
    for tweet in posts:
        tweet["public_metrics"] = {"retweet_count": 1, "reply_count": 2, "like_count": 3, "quote_count": 4}
    return [
        ("tweets", {"data": posts[:4], "includes": {"tweets": posts[4:], "users": users},
                    "meta": {"result_count": 4, "next_token": "b26v89c19zqg8o3fo7gesq314yb2ynhwgmfg7az3v76v1"}}),
        ("tweets", {"data": mentions, "meta": {"result_count": 12}}),
        ("tweets", postman("Multiple Tweets", "200 Success - 1 Deleted, 1 Valid Tweet").json()),
        ("dms", {"data": recorded_dm_events(), "includes": {"users": users}}),
        ("users", tweepy_json("test_client_get_retweeters", "GET", "/2/tweets/1415348607813832708/retweeted_by")),
    ]


REAL_BODIES = _real_bodies()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | st.text(max_size=30)
    | st.sampled_from(["1273733248749690880", "replied_to", "retweeted", "quoted", "x", "", "2020-06-25T06:14:19Z",
                       "not-a-time", "@snowman", "&amp;", "<b>", "1-2", "dm"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    kind, body = draw(st.sampled_from(REAL_BODIES))
    body = copy.deepcopy(body)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(body)
        path = draw(st.sampled_from(paths))
        replacement = draw(JSON_VALUES)
        if not path:
            body = replacement
            continue
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = replacement
    return kind, body


_ID = re.compile(r"x:(\d+|dm/\d+(-\d+)?(/\d+)?)")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_real_payloads_become_correct_records_or_a_connector_error(case: tuple[str, Any]) -> None:
    kind, body = case
    page = PageBuilder(SCOPE)
    try:
        envelope: Envelope = read_envelope(json.loads(json.dumps(body)), "payload")
        for item in envelope.data:
            if kind == "dms":
                page.add_dm(item)
            elif kind == "users":
                page.add_user(item)
            else:
                page.add_listed(item, envelope)
        envelope.missing("tweet")
        envelope.post_count()
        _ = envelope.next_token, envelope.newest_id
        batch = page.batch("mentions", envelope.newest_id)
    except ConnectorError:
        return
    for post in batch.posts:
        assert _ID.fullmatch(post.id) and _ID.fullmatch(post.thread_id) and _ID.fullmatch(post.author_id)
        assert post.parent_id is None or _ID.fullmatch(post.parent_id)
        assert _TIME.fullmatch(post.created_at) and isinstance(post.text, str)
        assert min(post.reshare_count, post.quote_count, post.like_count, post.reply_count) >= 0
        assert post.visibility is (Visibility.DIRECT if kind == "dms" else Visibility.PUBLIC)
        assert all(isinstance(a.url, str) and isinstance(a.description, str) for a in post.attachments)
    for author in batch.authors:
        assert _ID.fullmatch(author.id) and re.fullmatch(r"@\w+", author.handle)
        assert min(author.followers_count, author.following_count, author.posts_count) >= 0
    for reshare in batch.reshares:
        assert _ID.fullmatch(reshare.post_id) and _ID.fullmatch(reshare.author_id)
