"""Faults injected through the local X server: rate-limit headers honoured, the monthly read cap counted, shown and
never run past, 401 and 403 problem details said in plain words, and 5xx, timeouts and garbled bodies retried or
reported as the shared HTTP layer does."""

from __future__ import annotations

import time

import pytest

from console.connectors.base import OutgoingReply
from console.connectors.errors import AuthExpired, BadResponse, RateLimited, ServerError
from console.connectors.x_api import TierForbidden
from console.connectors.x_parse import UNREADABLE
from console.connectors.x_reads import MonthlyCapReached
from console.connectors.x_reads import MonthlyReads
from console.domain import Post, Visibility
from tests.connectors.x_server import (  # noqa: F401 - x_server is a fixture
    CONVERSATION, NOW, SNOWMAN, Clock, XTestServer, client_not_enrolled, make_connector, pid, rate_limited,
    unauthorized, x_server,
)

MENTIONS = f"/2/users/{SNOWMAN}/mentions"
SEARCH = "/2/tweets/search/recent"
EPOCH_NOW = int(NOW.timestamp())


async def first_sync(connector):
    return [batch async for batch in connector.fetch_since("mentions", None)]


# ------------------------------------------------------------------------------------------------ rate limits


@pytest.mark.asyncio
async def test_a_short_429_is_waited_out_until_the_reset_header(x_server: XTestServer, fake_sleep) -> None:
    # recorded (Postman "429 Rate Limit Exceeded"): "Rate limit exceeded", x-rate-limit-reset in epoch seconds
    x_server.inject("GET", MENTIONS, rate_limited(EPOCH_NOW + 30))
    connector = make_connector(x_server, fake_sleep)
    [batch] = await first_sync(connector)
    await connector.aclose()
    assert len(batch.posts) == 6
    [waited] = fake_sleep.calls
    assert 29.9 < waited <= 30.0
    assert len(x_server.requests_to(MENTIONS)) == 2


@pytest.mark.asyncio
async def test_a_long_429_stops_with_its_reset_time_and_the_endpoint_is_left_alone_until_then(
        x_server: XTestServer, fake_sleep) -> None:
    x_server.inject("GET", MENTIONS, rate_limited(EPOCH_NOW + 900))
    connector = make_connector(x_server, fake_sleep)
    with pytest.raises(RateLimited) as caught:
        await first_sync(connector)
    assert str(caught.value) == "X asked Tend to slow down; Tend will try again in 15 minutes."
    assert 899 < caught.value.retry_after <= 900 and fake_sleep.calls == []
    with pytest.raises(RateLimited) as again:
        await first_sync(connector)
    await connector.aclose()
    assert len(x_server.requests_to(MENTIONS)) == 1  # not asked again before the reset
    assert again.value.retry_after is not None and 890 < again.value.retry_after <= 900
    assert connector.suggested_delay(60.0) > 890


@pytest.mark.asyncio
async def test_a_spent_budget_in_the_headers_is_honoured_before_x_says_429(x_server: XTestServer,
                                                                          fake_sleep) -> None:
    x_server.set_budget("GET", MENTIONS, remaining=1, reset_in=600)
    connector = make_connector(x_server, fake_sleep)
    await first_sync(connector)  # answered with x-rate-limit-remaining: 0
    with pytest.raises(RateLimited) as caught:
        await first_sync(connector)
    await connector.aclose()
    assert len(x_server.requests_to(MENTIONS)) == 1
    assert str(caught.value) == "X's limit for reading mentions is used up until 17:46 UTC; Tend will try again then."
    assert 590 < caught.value.retry_after <= 600


@pytest.mark.asyncio
async def test_a_nearly_spent_budget_slows_the_poller(x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    assert connector.suggested_delay(60.0) == 60.0
    x_server.set_budget("GET", MENTIONS, remaining=4, reset_in=300)
    await first_sync(connector)  # 3 calls left for 5 minutes (of 450)
    await connector.aclose()
    assert 99 < connector.suggested_delay(60.0) <= 100


# ------------------------------------------------------------------------------------------------ the monthly cap


@pytest.mark.asyncio
async def test_the_monthly_read_cap_is_counted_shown_and_never_run_past(x_server: XTestServer, fake_sleep) -> None:
    states: list[dict] = []
    clock = Clock(NOW)
    connector = make_connector(x_server, fake_sleep, clock=clock, monthly_read_cap=12,
                               read_state={"month": "2020-06", "reads": 5}, on_read_state=states.append)
    assert connector.reads_left_text() == "7 of 12 reads left this month"
    await first_sync(connector)
    assert x_server.requests_to(MENTIONS)[0].params["max_results"] == "7"  # no page bigger than what is left
    assert x_server.requests_to(SEARCH)[0].params["max_results"] == "10"  # the least search accepts
    assert connector.read_state() == {"month": "2020-06", "reads": 15} == states[-1]
    assert connector.reads_left_text() == "0 of 12 reads left this month"

    asked = len(x_server.requests)
    with pytest.raises(MonthlyCapReached) as caught:
        await first_sync(connector)
    assert len(x_server.requests) == asked  # nothing was asked of X
    assert str(caught.value) == ("Tend has read the 12 X posts it may read this month (the limit set for this "
                                 "account), so it will read X again on 1 July. Replies can still be sent.")
    assert isinstance(caught.value, RateLimited)
    expected = (NOW.replace(month=7, day=1, hour=0, minute=0, second=0) - clock.now).total_seconds()
    assert abs(caught.value.retry_after - expected) < 1

    # Reading is stopped; sending is not (a post the inbox already holds is answered).
    sent = await connector.send_reply(OutgoingReply(stored_post(CONVERSATION), "Still here!", Visibility.PUBLIC,
                                                    "k"))
    assert sent.id.startswith("x:") and len(x_server.requests_to("/2/tweets", "POST")) == 1

    clock.advance(days=1)  # 1 July
    assert connector.reads_left_text() == "12 of 12 reads left this month"
    assert connector.read_state() == {"month": "2020-07", "reads": 0}
    await connector.aclose()


@pytest.mark.asyncio
async def test_mentions_read_before_the_cap_stopped_their_conversations_are_kept(x_server: XTestServer,
                                                                                fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep, monthly_read_cap=3)
    batches = []
    with pytest.raises(MonthlyCapReached):
        async for batch in connector.fetch_since("mentions", None):
            batches.append(batch)
    await connector.aclose()
    [kept] = batches
    assert {p.id for p in kept.posts} == {pid("1276035977375477760"), pid("1275763727908798470"),
                                          pid("1275653067283759104")}  # the mentions and the post they answer
    assert kept.cursor is None  # the next sync reads them again, with their conversation
    assert x_server.requests_to(SEARCH) == []


def stored_post(native: str) -> Post:
    return Post(id=pid(native), network="x", account_id=f"x:{SNOWMAN}", thread_id=pid(native),
                author_id=pid(SNOWMAN), text="", created_at="2020-06-18T21:44:05.000Z",
                observed_at="2020-06-30T17:36:03.000Z")


def test_a_count_from_an_earlier_month_is_a_fresh_month() -> None:
    reads = MonthlyReads(10_000, {"month": "2020-05", "reads": 9_000}, lambda: NOW)
    assert reads.text() == "10,000 of 10,000 reads left this month"
    reads.add(8_760)
    assert reads.text() == "1,240 of 10,000 reads left this month"
    assert MonthlyReads(None, None, lambda: NOW).text() == "0 posts read this month"
    assert MonthlyReads(5, {"month": 3, "reads": "x"}, lambda: NOW).reads == 0  # a damaged state is ignored


@pytest.mark.asyncio
async def test_xs_own_monthly_usage_cap_is_said_plainly(x_server: XTestServer, fake_sleep) -> None:
    capped = x_server.Response(429, json={"title": "UsageCapExceeded", "detail": "Usage cap exceeded: Monthly "
                                          "product cap", "type": "https://api.twitter.com/2/problems/usage-capped",
                                          "period": "Monthly", "scope": "Product"})
    x_server.inject("GET", MENTIONS, capped, capped, capped)
    connector = make_connector(x_server, fake_sleep)
    with pytest.raises(RateLimited) as caught:
        await first_sync(connector)
    await connector.aclose()
    assert str(caught.value) == ("X says this app has read all the posts its access level allows this month; Tend "
                                 "will read X again on 1 July.")
    july = (NOW.replace(month=7, day=1, hour=0, minute=0, second=0) - NOW).total_seconds()
    assert caught.value.retry_after is not None and abs(caught.value.retry_after - july) < 1
    assert fake_sleep.calls == [60.0, 60.0]  # no reset time: the usual window was waited twice, then given up


# ------------------------------------------------------------------------------------------------ 401 and 403


@pytest.mark.asyncio
async def test_an_expired_access_token_is_refreshed_once_and_the_call_repeated(x_server: XTestServer,
                                                                              fake_sleep) -> None:
    saved: list[str] = []
    connector = make_connector(x_server, fake_sleep, saved=saved)
    for token in list(x_server.access_tokens):
        x_server.expire(token)  # revoked on X's side before its time
    [batch] = await first_sync(connector)
    await connector.aclose()
    listing = x_server.requests_to(MENTIONS)
    assert len(listing) == 2 and listing[0].bearer != listing[1].bearer
    [refresh] = x_server.requests_to("/2/oauth2/token")
    assert refresh.form["grant_type"] == "refresh_token"
    assert saved and saved[-1] in x_server.refresh_tokens and len(batch.posts) == 6


@pytest.mark.asyncio
async def test_a_401_that_survives_a_refresh_means_reconnecting(x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    x_server.inject("GET", MENTIONS, unauthorized(), unauthorized())  # recorded 401 problem details
    with pytest.raises(AuthExpired) as caught:
        await first_sync(connector)
    await connector.aclose()
    assert str(caught.value) == "X no longer accepts Tend's access to @snowman; reconnect the account."
    assert "Unauthorized" in caught.value.detail


@pytest.mark.asyncio
async def test_a_refresh_token_x_withdrew_means_reconnecting(x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    for token in list(x_server.access_tokens):
        x_server.expire(token)
    x_server.refresh_tokens.clear()  # the owner revoked Tend in X's settings
    with pytest.raises(AuthExpired, match="X no longer accepts Tend's connection to @snowman; reconnect"):
        await first_sync(connector)
    await connector.aclose()


@pytest.mark.asyncio
async def test_an_endpoint_the_access_level_does_not_include_is_named_plainly(x_server: XTestServer,
                                                                             fake_sleep) -> None:
    x_server.inject("GET", MENTIONS, client_not_enrolled())  # recorded 403 client-not-enrolled
    connector = make_connector(x_server, fake_sleep)
    with pytest.raises(TierForbidden) as caught:
        await first_sync(connector)
    await connector.aclose()
    assert str(caught.value) == ("Your X access level does not allow reading mentions; a different X API plan is "
                                 "needed for that.")
    assert "client-not-enrolled" in caught.value.detail and len(x_server.requests_to(MENTIONS)) == 1


# ------------------------------------------------------------------------------------------------ retries


@pytest.mark.asyncio
async def test_server_errors_are_retried_with_backoff(x_server: XTestServer, fake_sleep) -> None:
    R = x_server.Response
    x_server.inject("GET", MENTIONS, R(500, body=b"oops"), R(503, json={"title": "Service Unavailable"}))
    x_server.inject("GET", SEARCH, R(502, body=b"bad gateway"))
    connector = make_connector(x_server, fake_sleep)
    [batch] = await first_sync(connector)
    await connector.aclose()
    assert len(batch.posts) == 6 and fake_sleep.calls == [0.5, 1.0, 0.5]


@pytest.mark.asyncio
async def test_server_errors_that_persist_end_in_server_error(x_server: XTestServer, fake_sleep) -> None:
    x_server.inject("GET", MENTIONS, *[x_server.Response(500)] * 4)
    connector = make_connector(x_server, fake_sleep)
    with pytest.raises(ServerError) as caught:
        await first_sync(connector)
    await connector.aclose()
    assert str(caught.value) == "X is having trouble (server error 500) — Tend will try again later"


@pytest.mark.asyncio
async def test_garbled_and_cut_off_answers(x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep)
    x_server.inject("GET", MENTIONS, x_server.Response(200, body=b'{"data": [{"id": "1", "te'))
    with pytest.raises(BadResponse) as caught:
        await first_sync(connector)
    assert str(caught.value) == UNREADABLE
    x_server.inject("GET", MENTIONS, x_server.Response(200, json={"data": [{"id": "1", "text": "x"}] * 40},
                                                       truncate_to=50))
    [batch] = await first_sync(connector)  # a cut-off body is read again
    await connector.aclose()
    assert len(batch.posts) == 6


@pytest.mark.asyncio
async def test_a_timeout_is_retried_and_a_persistent_one_reported(x_server: XTestServer, fake_sleep) -> None:
    connector = make_connector(x_server, fake_sleep, read_timeout=0.2)
    x_server.inject("GET", MENTIONS, x_server.Response(delay=1.0))
    started = time.monotonic()
    [batch] = await first_sync(connector)
    assert len(batch.posts) == 6 and time.monotonic() - started < 5
    x_server.inject("GET", MENTIONS, *[x_server.Response(delay=1.0)] * 4)
    with pytest.raises(ServerError, match="X is not answering"):
        await first_sync(connector)
    await connector.aclose()
