"""A local X API v2 server for connector tests: real recorded answers, the rules X applies, injected faults.

It listens on 127.0.0.1 and answers from recordings of the real X API (see ``../shared/fixtures/SOURCES.md``):

- ``x/tweepy/*.yaml``: VCR recordings made by tweepy's test suite in 2021-2022 (bodies are ``!!binary`` base64 of
  gzip JSON): mentions of @Twitter with their real ``meta.next_token``, retweeters, users, ``/2/users/me``, a
  created post, direct messages sent and listed, real ``x-rate-limit-*`` headers;
- ``x/postman/``: X's official Postman collection and its saved example answers: a whole conversation found by
  recent search ``conversation_id:1273733248749690880`` with ``referenced_tweets`` and expanded authors, a deleted
  post in a lookup, a user not found, the 403 ``client-not-enrolled`` problem, the 401 and the 429.

Those answers become a small world of users, posts and direct messages, and the server answers every request
from it the way X does: only the fields asked for (``tweet.fields``, ``user.fields``, ``dm_event.fields``) and the
expansions asked for (``includes``), newest first, ``since_id``/``until_id``/``start_time``, ``max_results`` bounds,
opaque ``next_token``s, recent search reaching back seven days (so the recorded conversation search answers with
the same four posts it did in the recording), per-endpoint ``x-rate-limit-*`` budgets, bearer tokens that expire,
and an OAuth 2.0 token endpoint that checks PKCE. Adapted only where the recordings are silent: they never asked
for ``public_metrics`` on posts or users, ``created_at`` or ``conversation_id`` on the tweepy posts, or senders
on the tweepy messages, so counts are set by each test (0 otherwise), creation times are read from the snowflake
ids, and the tweepy posts' authors are recorded users assigned in order (listed where it happens).

Every request is recorded (method, path, query, headers, body) so tests assert on both sides of the wire. Faults are
injected per ``METHOD /path`` (``inject``): one-shot answers consumed in order (a 429 with ``x-rate-limit-reset``, a
5xx, malformed JSON, a cut-off body, a dropped connection, a delay for client timeouts, 401/403 problem details);
``commit=True`` lets the request take effect (a post is created) before the fault is sent, the unknown outcome a
send must survive.
"""

from __future__ import annotations

import base64
import copy
import functools
import gzip
import hashlib
import itertools
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
import yaml

from console.connectors.http import HttpClient
from console.connectors.x import XConnector
from console.connectors.x_auth import XTokens
from console.domain import Account
from tests.connectors.loopback import Answer, Faults, HandClock, LoopbackServer, Request

FIXTURES = Path(os.environ.get("TEND_FIXTURES") or Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
                ) / "x"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The recorded people. The conversation of the Postman search example is the business @snowman's: customers reply
# to his post and mention him. @Twitter is the business of the tweepy mentions recording, @TweepyDev of the DMs.
SNOWMAN = "17200003"  # Jim Moffitt, @snowman
HAPPYCAMPER = "63046977"  # Emily Waligoske, @happycamper
JELLYBEAN = "196883832"  # zachariah jones, @jellybeanjones
TWITTER = "783214"  # @Twitter
TWEEPYDEV = "1072250532645998596"  # @TweepyDev, who sent the recorded direct messages
DM_PEER = "750362064426721281"  # the recipient of the recorded direct messages (no profile recorded)
CONVERSATION = "1273733248749690880"  # @snowman's "So, what's your favorite thing about Twitter Developer Labs?"
CLIENT_ID = "M1M5R3BMVy13QmpScXkzTUt5OE46MTpjaQ"  # an X OAuth 2.0 client id as the portal shows them
REDIRECT_URI = "http://127.0.0.1:47219/callback"
# The moment of the recorded conversation search (its Date header): "recent" is seven days before this.
NOW = datetime(2020, 6, 30, 17, 36, 3, tzinfo=timezone.utc)

_SNOWFLAKE_EPOCH_MS = 1288834974657
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "keep-alive", "date", "content-encoding"}
# Budgets per 15 minutes as the recordings' x-rate-limit-limit headers give them.
RECORDED_LIMITS = {
    "GET /2/users/:id/mentions": 450, "GET /2/tweets/search/recent": 450, "GET /2/tweets": 300,
    "GET /2/tweets/:id": 300, "GET /2/tweets/:id/retweeted_by": 75, "GET /2/users": 300, "GET /2/users/me": 75,
    "GET /2/users/:id/tweets": 1500, "POST /2/tweets": 200, "GET /2/dm_events": 300,
    "GET /2/dm_conversations/with/:id/dm_events": 300, "GET /2/dm_conversations/:id/dm_events": 300,
    "POST /2/dm_conversations/with/:id/messages": 200, "POST /2/dm_conversations/:id/messages": 200,
}
TWEET_DEFAULT_FIELDS = ("id", "text", "edit_history_tweet_ids")
USER_DEFAULT_FIELDS = ("id", "name", "username")
DM_DEFAULT_FIELDS = ("id", "event_type", "text")


# ------------------------------------------------------------------------------------------------ recordings


@dataclass(frozen=True)
class Interaction:
    """One recorded request and the real server's answer (body un-gzipped)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    request_body: Any
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@functools.cache
def tweepy(name: str) -> tuple[Interaction, ...]:
    """The interactions of ``tweepy/<name>.yaml``, in recorded order."""
    data = yaml.load((FIXTURES / "tweepy" / f"{name}.yaml").read_text(encoding="utf-8"), Loader=_Loader)
    found = []
    for item in data["interactions"]:
        request, response = item["request"], item["response"]
        body = response["body"]["string"]
        body = body.encode() if isinstance(body, str) else body
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        parts = urlsplit(request["uri"])
        found.append(Interaction(
            method=request["method"], path=parts.path, query=tuple(parse_qsl(parts.query)),
            request_body=request["body"], status=response["status"]["code"],
            headers={k.lower(): v[0] for k, v in response["headers"].items()}, body=body,
        ))
    return tuple(found)


def tweepy_json(name: str, method: str, path: str, nth: int = 0) -> Any:
    """A fresh copy of the JSON body of the ``nth`` recorded ``method path`` in a tweepy cassette."""
    return [i for i in tweepy(name) if i.method == method and i.path == path][nth].json()


@dataclass(frozen=True)
class Example:
    """A saved example answer of X's Postman collection."""

    url: str
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@functools.cache
def _postman_examples() -> dict[tuple[str, str], Example]:
    collection = json.loads((FIXTURES / "postman" / "twitter-api-v2.postman_collection.json").read_text("utf-8"))
    found: dict[tuple[str, str], Example] = {}

    def visit(items: list[dict[str, Any]]) -> None:
        for item in items:
            if "item" in item:
                visit(item["item"])
                continue
            for example in item.get("response") or []:
                url = example.get("originalRequest", {}).get("url", {})
                found.setdefault((item["name"], example["name"]), Example(
                    url=url.get("raw", "") if isinstance(url, dict) else str(url), status=example.get("code", 0),
                    headers={h["key"].lower(): h["value"] for h in example.get("header") or []},
                    body=example.get("body") or ""))

    visit(collection["item"])
    return found


def postman(request: str, example: str) -> Example:
    return _postman_examples()[(request, example)]


def recorded_conversation() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(posts, users) of the recorded conversation search. Every post in that answer belongs to the conversation
    the query named, so ``conversation_id`` (not asked for then) is that id."""
    body = postman("Recent search", "200 Success - Request Tweet Fields with Expanded User Fields").json()
    posts = {t["id"]: t for t in [*body["data"], *body["includes"]["tweets"]]}
    for post in posts.values():
        post["conversation_id"] = CONVERSATION
    return list(posts.values()), body["includes"]["users"]


def snowflake_time(tweet_id: str) -> str:
    millis = (int(tweet_id) >> 22) + _SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(millis / 1000, timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def snowflake_at(moment: datetime, sequence: int = 0) -> str:
    return str(((int(moment.timestamp() * 1000) - _SNOWFLAKE_EPOCH_MS) << 22) + sequence)


def recorded_mentions() -> list[dict[str, Any]]:
    """The 12 mentions of @Twitter in the tweepy recordings (sync and async runs), newest first. They carry only
    ``id``, ``text`` and ``edit_history_tweet_ids``; their authors are the recorded liking users, in order."""
    tweets = [*tweepy_json("test_asyncclient_get_users_mentions", "GET", "/2/users/783214/mentions")["data"],
              *tweepy_json("test_client_get_users_mentions", "GET", "/2/users/783214/mentions")["data"]]
    likers = tweepy_json("test_client_get_liking_users", "GET", "/2/tweets/1293593516040269825/liking_users")["data"]
    for tweet, liker in zip(tweets, likers):
        tweet.update(author_id=liker["id"], created_at=snowflake_time(tweet["id"]), conversation_id=tweet["id"])
    return tweets


def recorded_likers() -> list[dict[str, Any]]:
    return tweepy_json("test_client_get_liking_users", "GET", "/2/tweets/1293593516040269825/liking_users")["data"]


def recorded_retweeters() -> list[dict[str, Any]]:
    """The 38 users who had retweeted @TwitterDev's post 1415348607813832708 when tweepy recorded it."""
    return tweepy_json("test_client_get_retweeters", "GET", "/2/tweets/1415348607813832708/retweeted_by")["data"]


def recorded_timeline() -> list[dict[str, Any]]:
    """@TweepyDev's recorded home timeline (98 posts by many people), retweets left out: the recording does not say
    what they retweet. Their authors are the recorded retweeters, in order."""
    tweets = tweepy_json("test_client_get_home_timeline", "GET",
                         "/2/users/1072250532645998596/timelines/reverse_chronological")["data"]
    tweets = [t for t in tweets if not t["text"].startswith("RT @")]
    people = recorded_retweeters()
    for number, tweet in enumerate(tweets):
        tweet.update(author_id=people[number % len(people)]["id"], created_at=snowflake_time(tweet["id"]))
    return tweets


def recorded_dm_events() -> list[dict[str, Any]]:
    """The two messages @TweepyDev sent in the recording (newest first), with the sender and conversation the
    recording's requests name (the answer carried only ``id``, ``event_type`` and ``text``)."""
    [listing] = [i for i in tweepy("test_manage_and_lookup_direct_messages")
                 if i.path.startswith("/2/dm_conversations/") and i.path.endswith("/dm_events")
                 and "/with/" not in i.path]
    conversation = listing.path.split("/")[3]
    events = listing.json()["data"]
    for event in events:
        event.update(sender_id=TWEEPYDEV, dm_conversation_id=conversation, created_at=snowflake_time(event["id"]))
    return events


# ------------------------------------------------------------------------------------------------ answers


@dataclass(frozen=True)
class Response(Answer):
    """An ``Answer`` that, with ``commit``, lets the request take effect before it replaces the real answer."""

    commit: bool = False

    @classmethod
    def from_example(cls, example: Example, **changes: Any) -> Response:
        headers = {k: v for k, v in example.headers.items() if k not in _HOP_HEADERS}
        return cls(example.status, body=example.body.encode(), headers=headers, **changes)


def problem(status: int, title: str, detail: str, type_: str = "about:blank", **extra: Any) -> Response:
    return Response(status, json={"title": title, "detail": detail, "type": type_, "status": status, **extra})


def unauthorized() -> Response:
    return Response.from_example(postman("Retrieve Rules", "401 Unauthorized"))


def client_not_enrolled() -> Response:
    return Response.from_example(postman("Retrieve Rules", "403 Forbidden - Client Not Enrolled"))


def rate_limited(reset: int) -> Response:
    example = postman("Single Tweet", "429 Rate Limit Exceeded")
    response = Response.from_example(example)
    return Response(429, body=response.body, headers={**response.headers, "x-rate-limit-remaining": "0",
                                                        "x-rate-limit-reset": str(reset)})


@dataclass(frozen=True)
class Seen(Request):
    @property
    def params(self) -> dict[str, str]:
        return dict(self.query)

    def fields(self, name: str) -> set[str]:
        return {f for f in self.params.get(name, "").split(",") if f}

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


def endpoint(method: str, path: str) -> str:
    return f"{method} {re.sub(r'(?<=[A-Za-z_])/[0-9][0-9-]*(?=/|$)', '/:id', path)}"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    user_id: str


# ------------------------------------------------------------------------------------------------ the server


class XTestServer(LoopbackServer):
    Response = Response
    Seen = Seen
    thread_name = "x-test-server"
    methods = ("GET", "POST", "PUT", "DELETE")

    def __init__(self) -> None:
        super().__init__()
        self.now = NOW
        self.users: dict[str, dict[str, Any]] = {}
        self.tweets: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.dm_events: list[dict[str, Any]] = []
        self.retweeters: dict[str, list[str]] = {}
        self.search_allowed = True
        self.dms_allowed = True
        self.retweeters_allowed = True
        self.clients: dict[str, str] = {CLIENT_ID: REDIRECT_URI}  # OAuth client id -> its registered callback
        self.sign_in_as = SNOWMAN  # who approves Tend on the authorization page
        self.deny = False
        self.access_tokens: dict[str, tuple[str, datetime]] = {}  # token -> (user id, expiry)
        self.refresh_tokens: dict[str, tuple[str, str, str]] = {}  # token -> (user id, client id, scope)
        self.revoked: list[str] = []
        self.grants: dict[str, Grant] = {}
        self.failures: list[str] = []  # what a strict X would have refused, and why
        self.budgets: dict[str, list[int]] = {}  # endpoint -> [remaining, reset epoch]
        self._faults: Faults[Response] = Faults()
        self._page_tokens: dict[str, int] = {}
        self._sequence = itertools.count(1)
        self._load_recordings()

    def _load_recordings(self) -> None:
        posts, people = recorded_conversation()
        for user in [*people, *recorded_likers(), *recorded_retweeters(),
                     tweepy_json("test_client_get_user", "GET", "/2/users/by/username/Twitter")["data"],
                     tweepy_json("test_client_get_me", "GET", "/2/users/me")["data"]]:
            self.add_user(user)
        # The recipient of the recorded messages: the recording names the id only.
        self.add_user({"id": DM_PEER, "name": "Tweepy DM test", "username": "TweepyDMTest"})
        self.add_tweets(*posts, *recorded_mentions())
        self.dm_events = recorded_dm_events()

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/i/oauth2/authorize"

    # -- the world -------------------------------------------------------------------------------------------------

    def add_user(self, user: dict[str, Any], **metrics: int) -> None:
        user = copy.deepcopy(user)
        user.setdefault("public_metrics", {"followers_count": 0, "following_count": 0, "tweet_count": 0,
                                           "listed_count": 0})
        user["public_metrics"].update(metrics)
        user.setdefault("verified", False)
        self.users.setdefault(user["id"], user)

    def add_home_timeline(self) -> list[dict[str, Any]]:
        """Many people's posts (``recorded_timeline``), for searches that must find and leave out."""
        tweets = recorded_timeline()
        self.add_tweets(*tweets)
        return tweets

    def set_followers(self, user_id: str, followers: int, following: int = 0) -> None:
        self.users[user_id]["public_metrics"].update(followers_count=followers, following_count=following)

    def add_tweets(self, *tweets: dict[str, Any]) -> None:
        for tweet in tweets:
            tweet = copy.deepcopy(tweet)
            tweet.setdefault("edit_history_tweet_ids", [tweet["id"]])
            tweet.setdefault("created_at", snowflake_time(tweet["id"]))
            tweet.setdefault("conversation_id", tweet["id"])
            tweet.setdefault("public_metrics", {"retweet_count": 0, "reply_count": 0, "like_count": 0,
                                                "quote_count": 0, "impression_count": 0})
            self.tweets[tweet["id"]] = tweet

    def set_counts(self, tweet_id: str, **counts: int) -> None:
        self.tweets[tweet_id]["public_metrics"].update(counts)

    def retweeted_by(self, tweet_id: str, users: Iterable[dict[str, Any]]) -> None:
        listed = list(users)
        for user in listed:
            self.add_user(user)
        self.retweeters[tweet_id] = [u["id"] for u in listed]

    def delete(self, tweet_id: str) -> None:
        self.deleted.add(tweet_id)

    def post(self, author: str, text: str, *, in_reply_to: str | None = None, at: datetime | None = None) -> str:
        """A post made on X (not through Tend); returns its id."""
        with self.lock:
            tweet_id = self._new_id(at or self.now)
            tweet: dict[str, Any] = {"id": tweet_id, "text": text, "author_id": author,
                                     "created_at": snowflake_time(tweet_id)}
            if in_reply_to:
                parent = self.tweets[in_reply_to]
                tweet.update(conversation_id=parent["conversation_id"], in_reply_to_user_id=parent["author_id"],
                             referenced_tweets=[{"type": "replied_to", "id": in_reply_to}])
            self.add_tweets(tweet)
            return tweet_id

    def message(self, sender: str, recipient: str, text: str) -> dict[str, Any]:
        with self.lock:
            event_id = self._new_id(self.now)
            event = {"id": event_id, "event_type": "MessageCreate", "text": text, "sender_id": sender,
                     "dm_conversation_id": "-".join(sorted((sender, recipient), key=int)),
                     "created_at": snowflake_time(event_id)}
            self.dm_events.insert(0, event)
            return event

    def _new_id(self, moment: datetime) -> str:
        known = [int(i) for i in [*self.tweets, *(e["id"] for e in self.dm_events)]]
        return str(max(int(snowflake_at(moment, next(self._sequence))), max(known, default=0) + (1 << 22)))

    # -- tokens ----------------------------------------------------------------------------------------------------

    def issue_tokens(self, user_id: str, client_id: str = CLIENT_ID, scope: str = "", lifetime: float = 7200
                     ) -> tuple[str, str]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with self.lock:
            self.access_tokens[access] = (user_id, self.now + timedelta(seconds=lifetime))
            self.refresh_tokens[refresh] = (user_id, client_id, scope)
        return access, refresh

    def expire(self, access_token: str) -> None:
        with self.lock:
            user, _ = self.access_tokens[access_token]
            self.access_tokens[access_token] = (user, self.now - timedelta(seconds=1))

    # -- scripting -------------------------------------------------------------------------------------------------

    def inject(self, method: str, path: str, *faults: Response, after: int = 0) -> None:
        """Answer the next requests to ``METHOD path`` with ``faults``, once each; ``after`` lets that many through
        first."""
        with self.lock:
            self._faults.add((method, path), faults, after)

    def set_budget(self, method: str, path: str, remaining: int, reset_in: float = 900) -> None:
        with self.lock:
            self.budgets[endpoint(method, path)] = [remaining, int(self.now.timestamp() + reset_in)]

    def requests_to(self, path: str, method: str | None = None) -> list[Seen]:
        return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    # -- answering -------------------------------------------------------------------------------------------------

    def answer(self, seen: Seen) -> Response:
        with self.lock:
            fault = self._faults.take((seen.method, seen.path))
            if fault is not None and not fault.commit:
                return fault
            real = self._route(seen)
            return fault if fault is not None else real

    def _route(self, seen: Seen) -> Response:
        path, method = seen.path, seen.method
        if path == "/i/oauth2/authorize":
            return self._authorize(seen)
        if path == "/2/oauth2/token" and method == "POST":
            return self._token(seen)
        if path == "/2/oauth2/revoke" and method == "POST":
            self.revoked.append(seen.form.get("token", ""))
            self.access_tokens.pop(seen.form.get("token", ""), None)
            self.refresh_tokens.pop(seen.form.get("token", ""), None)
            return Response(200, json={"revoked": True})
        viewer = self._viewer(seen)
        if viewer is None:
            return unauthorized()
        key = endpoint(method, path)
        budget = self.budgets.setdefault(key, [RECORDED_LIMITS.get(key, 300), int(self.now.timestamp()) + 900])
        if budget[0] <= 0:
            return rate_limited(budget[1])
        budget[0] -= 1
        response = self._api(seen, viewer)
        headers = {"x-rate-limit-limit": str(RECORDED_LIMITS.get(key, 300)), "x-rate-limit-remaining": str(budget[0]),
                   "x-rate-limit-reset": str(budget[1]), **response.headers}
        return Response(response.status, response.json, response.body, headers)

    def _viewer(self, seen: Seen) -> str | None:
        user, expiry = self.access_tokens.get(seen.bearer, (None, self.now))
        return user if user is not None and expiry > self.now else None

    def _api(self, seen: Seen, viewer: str) -> Response:
        path, method, q = seen.path, seen.method, seen.params
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/2/users/me":
            return Response(json={"data": self._user_view(self.users[viewer], seen)})
        if method == "GET" and path == "/2/users":
            return self._users_by_id(seen)
        if method == "GET" and re.fullmatch(r"/2/users/\d+/mentions", path):
            user = self.users.get(parts[2])
            if user is None:
                return self._not_found("user", parts[2], "id")
            pattern = re.compile(rf"@{re.escape(user['username'])}\b", re.IGNORECASE)
            found = [t for t in self._live() if t.get("author_id") != user["id"] and pattern.search(t["text"])]
            return self._listing(found, seen, "pagination_token", 5, 100)
        if method == "GET" and re.fullmatch(r"/2/users/\d+/tweets", path):
            excluded = set(q.get("exclude", "").split(","))
            found = [t for t in self._live() if t.get("author_id") == parts[2]
                     and not ("retweets" in excluded and _ref(t, "retweeted"))
                     and not ("replies" in excluded and _ref(t, "replied_to"))]
            return self._listing(found, seen, "pagination_token", 5, 100)
        if method == "GET" and path == "/2/tweets/search/recent":
            return self._search(seen)
        if method == "GET" and path == "/2/tweets":
            return self._tweets_by_id(seen)
        if method == "GET" and re.fullmatch(r"/2/tweets/\d+", path):
            if parts[2] not in self.tweets or parts[2] in self.deleted:
                return Response.from_example(postman("Single Tweet", "200 Success - Deleted Tweet"))
            return Response(json=self._envelope([self.tweets[parts[2]]], seen, single=True))
        if method == "GET" and re.fullmatch(r"/2/tweets/\d+/retweeted_by", path):
            if not self.retweeters_allowed:
                return client_not_enrolled()
            users = [self.users[u] for u in self.retweeters.get(parts[2], [])]
            return self._user_listing(users, seen)
        if method == "POST" and path == "/2/tweets":
            return self._create_tweet(seen, viewer)
        if method == "GET" and path == "/2/dm_events":
            if not self.dms_allowed:
                return client_not_enrolled()
            return self._dm_listing([e for e in self.dm_events if viewer in e["dm_conversation_id"].split("-")
                                     or viewer in e.get("participant_ids", [])], seen)
        if method == "GET" and re.fullmatch(r"/2/dm_conversations/with/\d+/dm_events", path):
            conversation = "-".join(sorted((viewer, parts[3]), key=int))
            return self._dm_listing([e for e in self.dm_events if e["dm_conversation_id"] == conversation], seen)
        if method == "GET" and re.fullmatch(r"/2/dm_conversations/[\d-]+/dm_events", path):
            return self._dm_listing([e for e in self.dm_events if e["dm_conversation_id"] == parts[2]], seen)
        if method == "POST" and re.fullmatch(r"/2/dm_conversations/with/\d+/messages", path):
            if parts[3] not in self.users:
                return problem(400, "Invalid Request", "One or more parameters to your request was invalid.",
                               "https://api.twitter.com/2/problems/invalid-request")
            event = self.message(viewer, parts[3], seen.json()["text"])
            return Response(201, json={"data": {"dm_conversation_id": event["dm_conversation_id"],
                                                "dm_event_id": event["id"]}})
        if method == "POST" and re.fullmatch(r"/2/dm_conversations/[\d-]+/messages", path):
            others = [p for p in parts[2].split("-") if p != viewer]
            event = self.message(viewer, others[0] if others else viewer, seen.json()["text"])
            return Response(201, json={"data": {"dm_conversation_id": event["dm_conversation_id"],
                                                "dm_event_id": event["id"]}})
        return problem(404, "Not Found Error", f"no route for {method} {path}",
                       "https://api.twitter.com/2/problems/resource-not-found")

    # -- posts -----------------------------------------------------------------------------------------------------

    def _live(self) -> list[dict[str, Any]]:
        return sorted((t for i, t in self.tweets.items() if i not in self.deleted), key=lambda t: -int(t["id"]))

    def _tweet_view(self, tweet: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        view = {k: copy.deepcopy(v) for k, v in tweet.items() if k in TWEET_DEFAULT_FIELDS or k in fields}
        if "public_metrics" in fields:
            replies = sum(1 for t in self._live() if _ref(t, "replied_to") == tweet["id"])
            view["public_metrics"] = {**tweet["public_metrics"], "reply_count": max(
                replies, tweet["public_metrics"].get("reply_count", 0))}
        return view

    def _user_view(self, user: dict[str, Any], seen: Seen) -> dict[str, Any]:
        fields = seen.fields("user.fields")
        view = {k: copy.deepcopy(v) for k, v in user.items() if k in USER_DEFAULT_FIELDS or k in fields}
        if "public_metrics" in fields:
            posted = sum(1 for t in self.tweets.values() if t.get("author_id") == user["id"])
            view["public_metrics"]["tweet_count"] = max(view["public_metrics"]["tweet_count"], posted)
        return view

    def _envelope(self, tweets: list[dict[str, Any]], seen: Seen, *, single: bool = False) -> dict[str, Any]:
        """``data`` with only the fields asked for, and ``includes`` for the expansions asked for."""
        fields, expansions = seen.fields("tweet.fields"), seen.fields("expansions")
        body: dict[str, Any] = {}
        if tweets:
            views = [self._tweet_view(t, fields) for t in tweets]
            body["data"] = views[0] if single else views
        users: dict[str, dict[str, Any]] = {}
        included: dict[str, dict[str, Any]] = {}
        if "referenced_tweets.id" in expansions:
            for tweet in tweets:
                for ref in tweet.get("referenced_tweets", []):
                    if ref["id"] in self.tweets and ref["id"] not in self.deleted:
                        included.setdefault(ref["id"], self._tweet_view(self.tweets[ref["id"]], fields))
        if "author_id" in expansions:
            for tweet in tweets:
                users.setdefault(tweet["author_id"], self._user_view(self.users[tweet["author_id"]], seen))
        if "referenced_tweets.id.author_id" in expansions:
            for ref_id in included:
                author = self.tweets[ref_id]["author_id"]
                users.setdefault(author, self._user_view(self.users[author], seen))
        includes = {k: list(v.values()) for k, v in (("users", users), ("tweets", included)) if v}
        if includes:
            body["includes"] = includes
        return body

    def _listing(self, tweets: list[dict[str, Any]], seen: Seen, token_param: str, low: int, high: int,
                 *, recent_days: int | None = None) -> Response:
        q = seen.params
        if "since_id" in q:
            tweets = [t for t in tweets if int(t["id"]) > int(q["since_id"])]
        if "until_id" in q:
            tweets = [t for t in tweets if int(t["id"]) < int(q["until_id"])]
        if "start_time" in q:
            tweets = [t for t in tweets if t["created_at"] >= q["start_time"].replace("Z", ".000Z")]
        if recent_days is not None:
            horizon = (self.now - timedelta(days=recent_days)).isoformat(timespec="milliseconds")[:23] + "Z"
            tweets = [t for t in tweets if t["created_at"] >= horizon]
        page = self._page(tweets, seen, token_param, low, high)
        if isinstance(page, Response):
            return page
        items, meta = page
        body = self._envelope(items, seen)
        if items:
            meta = {"newest_id": items[0]["id"], "oldest_id": items[-1]["id"], **meta}
        return Response(json={**body, "meta": meta})

    def _page(self, items: list[Any], seen: Seen, token_param: str, low: int, high: int, default: int = 10
              ) -> tuple[list[Any], dict[str, Any]] | Response:
        q = seen.params
        size = int(q.get("max_results", default))
        if not low <= size <= high:
            return Response(400, json={
                "errors": [{"parameters": {"max_results": [str(size)]},
                            "message": f"The `max_results` query parameter value [{size}] is not between {low} "
                                       f"and {high}"}],
                "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request"})
        offset = 0
        if q.get(token_param):
            if q[token_param] not in self._page_tokens:
                self.failures.append(f"unknown {token_param} {q[token_param]!r}")
                return problem(400, "Invalid Request", "One or more parameters to your request was invalid.",
                               "https://api.twitter.com/2/problems/invalid-request")
            offset = self._page_tokens[q[token_param]]
        chosen = items[offset:offset + size]
        meta: dict[str, Any] = {"result_count": len(chosen)}
        if offset + size < len(items):
            token = f"7140dibdnow9c7btw423i3sy{len(self._page_tokens):06d}"  # shaped as the recorded tokens
            self._page_tokens[token] = offset + size
            meta["next_token"] = token
        return chosen, meta

    def _search(self, seen: Seen) -> Response:
        if not self.search_allowed:
            return client_not_enrolled()
        query = seen.params.get("query", "")
        try:
            matches = SearchQuery(query, self.users)
        except ValueError as error:
            return problem(400, "Invalid Request", f"There were errors processing your request: {error}",
                           "https://api.twitter.com/2/problems/invalid-request")
        return self._listing([t for t in self._live() if matches(t)], seen, "next_token", 10, 100, recent_days=7)

    def _tweets_by_id(self, seen: Seen) -> Response:
        ids = [i for i in seen.params.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 100:
            return Response.from_example(postman("Multiple Tweets", "400 Bad Request - Too Many Tweets"))
        found = [self.tweets[i] for i in ids if i in self.tweets and i not in self.deleted]
        body = self._envelope(found, seen)
        errors = [{"value": i, "detail": f"Could not find tweet with ids: [{i}].", "title": "Not Found Error",
                   "resource_type": "tweet", "parameter": "ids",
                   "type": "https://api.twitter.com/2/problems/resource-not-found"}
                  for i in ids if i not in self.tweets or i in self.deleted]
        return Response(json={**body, **({"errors": errors} if errors else {})})

    def _create_tweet(self, seen: Seen, viewer: str) -> Response:
        try:
            request = seen.json()
        except ValueError:
            return problem(400, "Invalid Request", "One or more parameters to your request was invalid.",
                           "https://api.twitter.com/2/problems/invalid-request")
        parent = (request.get("reply") or {}).get("in_reply_to_tweet_id")
        if parent is not None and (parent not in self.tweets or parent in self.deleted):
            return problem(403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to "
                                             "you.")
        tweet_id = self.post(viewer, request["text"], in_reply_to=parent)
        # recorded (test_client_create_and_delete_tweet): {"data": {"id": ..., "text": ...}}, 201 Created
        return Response(201, json={"data": {"id": tweet_id, "text": self.tweets[tweet_id]["text"]}})

    # -- people and messages ---------------------------------------------------------------------------------------

    def _users_by_id(self, seen: Seen) -> Response:
        ids = [i for i in seen.params.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 100:
            return Response.from_example(postman("Users by ID", "400 Bad Request - Too Many Users"))
        body: dict[str, Any] = {}
        found = [self._user_view(self.users[i], seen) for i in ids if i in self.users]
        if found:
            body["data"] = found
        missing = [i for i in ids if i not in self.users]
        if missing:
            body["errors"] = [{"value": i, "detail": f"Could not find user with ids: [{i}].",
                               "title": "Not Found Error", "resource_type": "user", "parameter": "ids",
                               "type": "https://api.twitter.com/2/problems/resource-not-found"} for i in missing]
        return Response(json=body)

    def _not_found(self, kind: str, value: str, parameter: str) -> Response:
        return Response(json={"errors": [{"value": value, "detail": f"Could not find {kind} with {parameter}: "
                                          f"[{value}].", "title": "Not Found Error", "resource_type": kind,
                                          "parameter": parameter,
                                          "type": "https://api.twitter.com/2/problems/resource-not-found"}]})

    def _user_listing(self, users: list[dict[str, Any]], seen: Seen) -> Response:
        page = self._page(users, seen, "pagination_token", 1, 100, default=100)
        if isinstance(page, Response):
            return page
        items, meta = page
        body: dict[str, Any] = {"meta": meta}
        if items:
            body["data"] = [self._user_view(u, seen) for u in items]
        return Response(json=body)

    def _dm_listing(self, events: list[dict[str, Any]], seen: Seen) -> Response:
        events = sorted(events, key=lambda e: -int(e["id"]))
        page = self._page(events, seen, "pagination_token", 1, 100, default=100)
        if isinstance(page, Response):
            return page
        items, meta = page
        fields, expansions = seen.fields("dm_event.fields"), seen.fields("expansions")
        body: dict[str, Any] = {"meta": meta}
        if items:
            body["data"] = [{k: copy.deepcopy(v) for k, v in e.items() if k in DM_DEFAULT_FIELDS or k in fields}
                            for e in items]
        users: dict[str, dict[str, Any]] = {}
        for event in items:
            wanted = ([event["sender_id"]] if "sender_id" in expansions else []) + \
                (event.get("participant_ids", []) if "participant_ids" in expansions else [])
            for user_id in wanted:
                if user_id in self.users:
                    users.setdefault(user_id, self._user_view(self.users[user_id], seen))
        if users:
            body["includes"] = {"users": list(users.values())}
        return Response(json=body)

    # -- OAuth 2.0 -------------------------------------------------------------------------------------------------

    def _authorize(self, seen: Seen) -> Response:
        q = seen.params
        problems = []
        if self.clients.get(q.get("client_id", "")) != q.get("redirect_uri"):
            problems.append("unknown client or unregistered callback")
        if q.get("response_type") != "code":
            problems.append("response_type")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            problems.append("no S256 PKCE challenge")
        if not q.get("state"):
            problems.append("no state")
        if problems:
            self.failures += problems
            return Response(400, body=f"<p>{'; '.join(problems)}</p>".encode(), headers={"content-type": "text/html"})
        if self.deny:
            target = {"error": "access_denied", "state": q["state"]}
        else:
            code = secrets.token_urlsafe(24)
            self.grants[code] = Grant(q["client_id"], q["redirect_uri"], q["code_challenge"], q.get("scope", ""),
                                      self.sign_in_as)
            target = {"state": q["state"], "code": code}
        return Response(302, headers={"location": f"{q['redirect_uri']}?{urlencode(target)}"})

    def _token(self, seen: Seen) -> Response:
        form = seen.form
        if not seen.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            self.failures.append("token: not a form")
        invalid = Response(400, json={"error": "invalid_request",
                                      "error_description": "Value passed for the token was invalid."})
        if form.get("grant_type") == "authorization_code":
            grant = self.grants.pop(form.get("code", ""), None)
            problems = []
            if grant is None:
                problems.append("token: unknown or reused code")
            else:
                if grant.client_id != form.get("client_id"):
                    problems.append("token: code issued to another client")
                if grant.redirect_uri != form.get("redirect_uri"):
                    problems.append("token: redirect_uri differs from the authorization request")
                if s256(form.get("code_verifier", "")) != grant.challenge:
                    problems.append("token: PKCE verifier does not match the challenge")
            if problems or grant is None:
                self.failures += problems
                return Response(400, json={"error": "invalid_request",
                                           "error_description": "Value passed for the authorization code was "
                                                                "invalid."})
            user, scope = grant.user_id, grant.scope
        elif form.get("grant_type") == "refresh_token":
            held = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if held is None or held[1] != form.get("client_id"):
                self.failures.append("token: unknown refresh token or client")
                return invalid
            user, _client, scope = held
        else:
            return invalid
        access, refresh = self.issue_tokens(user, form.get("client_id", ""), scope)
        body: dict[str, Any] = {"token_type": "bearer", "expires_in": 7200, "access_token": access, "scope": scope}
        if "offline.access" in scope.split() or form.get("grant_type") == "refresh_token":
            body["refresh_token"] = refresh
        return Response(200, json=body)


def _ref(tweet: dict[str, Any], kind: str) -> str | None:
    return next((r["id"] for r in tweet.get("referenced_tweets", []) if r["type"] == kind), None)


class SearchQuery:
    """The part of X's search syntax Tend uses: words and "quoted phrases" (matched loosely, as X does: inside
    handles and links too, ``#`` ignored), ``OR``, parentheses, ``-`` negation, ``conversation_id:``, ``from:`` and
    ``is:retweet``."""

    _TOKEN = re.compile(r'-?"[^"]*"|[()]|[^\s()]+')

    def __init__(self, query: str, users: dict[str, dict[str, Any]]) -> None:
        self._users = users
        self._tokens = self._TOKEN.findall(query)
        self._at = 0
        self._tree = self._any()
        if self._at != len(self._tokens):
            raise ValueError(f"unexpected {self._tokens[self._at]!r}")

    def __call__(self, tweet: dict[str, Any]) -> bool:
        return self._eval(self._tree, tweet)

    def _any(self) -> Any:
        options = [self._all()]
        while self._at < len(self._tokens) and self._tokens[self._at] == "OR":
            self._at += 1
            options.append(self._all())
        return ("or", options)

    def _all(self) -> Any:
        parts = []
        while self._at < len(self._tokens) and self._tokens[self._at] not in (")", "OR"):
            token = self._tokens[self._at]
            self._at += 1
            negated = token.startswith("-") and len(token) > 1
            token = token[1:] if negated else token
            if token == "(":
                node = self._any()
                if self._at >= len(self._tokens) or self._tokens[self._at] != ")":
                    raise ValueError("unbalanced parentheses")
                self._at += 1
            elif token.startswith("-("):
                raise ValueError("negated groups are not supported here")
            else:
                node = ("atom", token)
            parts.append(("not", node) if negated else node)
        if not parts:
            raise ValueError("empty query")
        return ("and", parts)

    def _eval(self, node: Any, tweet: dict[str, Any]) -> bool:
        kind, value = node
        if kind == "or":
            return any(self._eval(n, tweet) for n in value)
        if kind == "and":
            return all(self._eval(n, tweet) for n in value)
        if kind == "not":
            return not self._eval(value, tweet)
        if value.startswith("conversation_id:"):
            return tweet.get("conversation_id") == value.split(":", 1)[1]
        if value.startswith("from:"):
            author = self._users.get(tweet.get("author_id", ""), {})
            return author.get("username", "").lower() == value.split(":", 1)[1].lower()
        if value == "is:retweet":
            return _ref(tweet, "retweeted") is not None
        words = value.strip('"').lstrip("#").lower()
        return words in tweet["text"].lower()


@pytest.fixture
def x_server() -> Iterator[XTestServer]:
    with XTestServer() as server:
        yield server


# ------------------------------------------------------------------------------------------------ the client side


class Clock(HandClock):
    start = NOW


def make_account(business: str = SNOWMAN, handle: str = "snowman") -> Account:
    return Account(id=f"x:{business}", network="x", handle=f"@{handle}", server_url="https://api.x.com",
                   remote_id=business, char_limit=280)


HANDLES = {SNOWMAN: "snowman", TWITTER: "Twitter", TWEEPYDEV: "TweepyDev"}


def make_connector(server: XTestServer, sleep: Callable[[float], Any], *, business: str = SNOWMAN,
                   clock: Clock | None = None, read_timeout: float = 2.0, saved: list[str] | None = None,
                   id_known: bool = True, **kwargs: Any) -> XConnector:
    """A connector for ``business`` with fresh tokens from the server (the access token valid for two hours);
    ``id_known=False`` leaves the account's user id for the connector to learn."""
    clock = clock or Clock(server.now)
    http = HttpClient(server.url, service_name="X", sleep=sleep, clock=clock, random=lambda: 0.0,
                      timeout=httpx.Timeout(5.0, read=read_timeout))
    access, refresh = server.issue_tokens(business)
    tokens = XTokens(http, CLIENT_ID, refresh, access_token=access, expires_at=clock.now + timedelta(hours=2),
                     clock=clock, save_refresh_token=saved.append if saved is not None else None,
                     handle=f"@{HANDLES.get(business, business)}")
    account = make_account(business, HANDLES.get(business, business))
    if not id_known:
        account = Account(account.id, account.network, account.handle, account.server_url)
    return XConnector(account, tokens, client=http, clock=clock, sleep=sleep, **kwargs)


def pid(native: str) -> str:
    return f"x:{native}"
