"""Authorised calls to the X API v2: the access token attached and refreshed, budgets kept per endpoint, and X's
refusals said in the owner's words.

``HttpClient`` already retries, waits out short 429s and reports in one exception family; this layer adds what is
particular to X:

- the OAuth 2.0 access token (short-lived) is asked of a ``TokenSource`` for every call; a 401 refreshes it once
  and repeats the call, a second 401 means the owner must reconnect (``AuthExpired``);
- X's rate limits are per endpoint (``x-rate-limit-limit/remaining/reset``, epoch seconds): each endpoint's last
  budget is kept, a call to an endpoint whose budget is spent is not even sent (``RateLimited`` until its reset),
  and ``suggested_delay`` slows the poller when any budget runs low;
- a 403 whose problem details say the app's access level (API tier) does not include the endpoint becomes
  ``TierForbidden`` with "your X access level does not allow …", so the owner knows no reconnect will help;
- reads that return posts are counted against the monthly cap (``x_reads``) and refused once it is reached.
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from console.connectors.errors import AuthExpired, BadResponse, ConnectorError, RateLimited
from console.connectors.http import HttpClient, RateLimitBudget, parse_reset, redact_url
from console.connectors.x_parse import UNREADABLE, Envelope, read_envelope, read_problem
from console.connectors.x_reads import MonthlyReads, next_month_start

# What every read of posts asks for: the fields and expansions the inbox is built from (counts, threads, authors
# with follower figures, the posts a post refers to and their authors).
TWEET_FIELDS = "conversation_id,public_metrics,referenced_tweets,in_reply_to_user_id,created_at,author_id,entities"
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id"
USER_FIELDS = "public_metrics,verified,name,username"
POST_FIELDS = {"tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS, "user.fields": USER_FIELDS}
SEARCH = "/2/tweets/search/recent"
LOOKUP = "/2/tweets"
# Paths differ only by the ids in them; budgets are per endpoint, so ids are folded into one key.
_ID_IN_PATH = re.compile(r"(?<=[A-Za-z_])/[0-9][0-9-]*(?=/|$)")  # not the "/2" of the version


class TokenSource(Protocol):
    """Where access tokens come from (``x_auth.XTokens`` in the app)."""

    async def access_token(self) -> str:
        """A token that stays valid for a while yet."""
        ...

    async def refresh(self, stale: str | None) -> None:
        """Get a new token because ``stale`` was refused (another call may already have refreshed it)."""
        ...


class Forbidden(ConnectorError):
    """X refused this request (403): a reply restriction, a missing scope, a block, or the access level."""


class TierForbidden(Forbidden):
    """The app's X access level (API tier) does not include this: only a different X plan helps."""


def endpoint_key(method: str, path: str) -> str:
    return f"{method.upper()} {_ID_IN_PATH.sub('/:id', httpx.URL(path).path)}"


class XApi:
    """One account's calls to the X API."""

    def __init__(self, http: HttpClient, tokens: TokenSource, *, handle: str, reads: MonthlyReads,
                 clock: Callable[[], datetime]) -> None:
        self.http = http
        self.tokens = tokens
        self.reads = reads
        self._handle = handle
        self._clock = clock
        self.budgets: dict[str, RateLimitBudget] = {}

    async def get(self, path: str, params: Mapping[str, Any] | None = None, *, what: str,
                  counts_reads: bool = True) -> Envelope:
        """A GET whose answer is an X envelope; its posts count against the monthly cap unless ``counts_reads``
        is off (people, direct messages)."""
        _response, body = await self.call("GET", path, params=params, what=what, counts_reads=counts_reads)
        return read_envelope(body, endpoint_key("GET", path))

    async def call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        counts_reads: bool = False,
        accept: Collection[int] = (),
    ) -> tuple[httpx.Response, Any]:
        """The response and its JSON body (``None`` for statuses in ``accept``, which the caller reads itself).

        ``what`` names the action in the owner's words ("reading mentions"), for the sentence shown when X's
        access level does not allow it.
        """
        key = endpoint_key(method, path)
        self._check_budget(key, what)
        if counts_reads:
            self.reads.check()
        for attempt in (1, 2):
            token = await self.tokens.access_token()
            try:
                response = await self.http.request(
                    method, path, params=params, json=json, headers={"Authorization": f"Bearer {token}"},
                    accept_status={401, 403, *accept},
                )
            except RateLimited as error:
                raise self._rate_limited(key, error) from None
            self._note_budget(key, response.headers)
            status = response.status_code
            if status == 401:
                if attempt == 1:
                    await self.tokens.refresh(token)
                    continue
                raise AuthExpired(
                    f"X no longer accepts Tend's access to {self._handle}; reconnect the account.",
                    detail=f"{key} -> 401: {read_problem(_json_or_none(response)).words}",
                )
            if status == 403 and 403 not in accept:
                raise forbidden(response, what, key)
            if status in accept:
                return response, None
            body = decode(response)
            if counts_reads:
                self.reads.add(read_envelope(body, key).post_count() if isinstance(body, dict) else 0)
            return response, body
        raise AssertionError("unreachable")  # pragma: no cover

    # -- rate limits -----------------------------------------------------------------------------------------------

    def suggested_delay(self, default_interval: float) -> float:
        """The longest wait any endpoint's budget asks for (the default while all have room)."""
        now = self._clock()
        return max([default_interval, *(b.suggested_delay(default_interval, now) for b in self.budgets.values())])

    def _check_budget(self, key: str, what: str) -> None:
        """A call X would refuse (its endpoint's budget is spent until its reset) is not sent at all."""
        budget = self.budgets.get(key)
        if budget is None or budget.remaining is None or budget.remaining > 0 or budget.reset_at is None:
            return
        wait = (budget.reset_at - self._clock()).total_seconds()
        if wait > 0:
            raise RateLimited(
                f"X's limit for {what} is used up until {budget.reset_at:%H:%M} UTC; Tend will try again then.",
                detail=f"{key}: x-rate-limit-remaining 0 until {budget.reset_at.isoformat()}", retry_after=wait)

    def _note_budget(self, key: str, headers: httpx.Headers) -> None:
        limit, remaining = _number(headers.get("x-rate-limit-limit")), _number(headers.get("x-rate-limit-remaining"))
        if limit is not None or remaining is not None:
            self.budgets[key] = RateLimitBudget(limit, remaining,
                                                parse_reset(headers.get("x-rate-limit-reset"), self._clock()))

    def _rate_limited(self, key: str, error: RateLimited) -> RateLimited:
        """A 429 ``HttpClient`` could not wait out: remembered for the endpoint, and said plainly when it is the
        app's monthly cap on X's side (``UsageCapExceeded``) rather than a 15-minute window."""
        now = self._clock()
        wait = error.retry_after if error.retry_after is not None else 60.0
        if "usage-capped" in error.detail or "UsageCapExceeded" in error.detail:
            resume = next_month_start(now)
            return RateLimited(
                f"X says this app has read all the posts its access level allows this month; Tend will read X again "
                f"on {resume.day} {resume:%B}.", detail=error.detail, retry_after=(resume - now).total_seconds())
        self.budgets[key] = RateLimitBudget(None, 0, now + timedelta(seconds=wait))
        return error


def forbidden(response: httpx.Response, what: str, key: str) -> Forbidden:
    """A 403 in the owner's words: the access level (no reconnect helps), or what X said (a reply restriction)."""
    problem = read_problem(_json_or_none(response))
    detail = f"{key} -> 403: {problem.title} / {problem.reason} / {problem.words}"
    if problem.tier:
        return TierForbidden(f"Your X access level does not allow {what}; a different X API plan is needed for "
                             f"that.", detail=detail)
    said = f": {problem.words}" if problem.words and problem.words.lower() != "forbidden" else ""
    return Forbidden(f"X refused {what}{said}", detail=detail)


def decode(response: httpx.Response) -> Any:
    try:
        return jsonlib.loads(response.content)
    except ValueError as exc:
        raise BadResponse(
            UNREADABLE,
            detail=f"{response.request.method} {redact_url(response.request.url)} -> {response.status_code}: "
                   f"invalid JSON ({exc.__class__.__name__}), {len(response.content)} bytes",
        ) from None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return jsonlib.loads(response.content)
    except ValueError:
        return None


def _number(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None
