"""The shared HTTP client against a real server on 127.0.0.1: retries, rate limits, errors, safety, pagination.

Header values marked "recorded" are copied from the Mastodon.py cassettes in ../shared/fixtures/mastodon/cassettes
(real Mastodon 4.6.4) and tweepy's X cassettes, so the parsing is checked against what servers really send.
"""

from __future__ import annotations

import logging
import socket
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from console import __version__
from console.connectors.errors import (
    AuthExpired,
    BadResponse,
    ConnectorError,
    InsecureURL,
    RateLimited,
    ServerError,
)
from console.connectors.http import (
    HttpClient,
    RateLimitBudget,
    check_url_is_safe,
    next_link,
    parse_reset,
    parse_retry_after,
    prev_link,
    redact,
    redact_headers,
    redact_url,
)

NOW = datetime(2026, 8, 1, 13, 59, 30, tzinfo=timezone.utc)
TOKEN = "s3cr3t-Zq9xTokenValue"
# recorded: test_notifications.yaml, first interaction
RECORDED_BUDGET = {
    "x-ratelimit-limit": "300",
    "x-ratelimit-remaining": "297",
    "x-ratelimit-reset": "2026-08-01T15:00:00.175404Z",
}
# recorded: test_home_tl_anonymous_throws.yaml (a 401)
RECORDED_401_BODY = b'{"error":"The access token is invalid"}'
RECORDED_401_RESET = "2026-08-01T14:00:00.336319Z"
# recorded: x/tweepy cassettes
RECORDED_X_RESET = "1651929084"


def make_client(server, sleep, *, clock=lambda: NOW, **kwargs) -> HttpClient:
    return HttpClient(server.url, service_name="Mastodon", sleep=sleep, clock=clock, random=lambda: 0.0, **kwargs)


# ------------------------------------------------------------------------------------------------ success
@pytest.mark.asyncio
async def test_get_json_sends_identity_and_credentials_and_reads_budget(http_server, fake_sleep):
    R = http_server.Reply
    http_server.script("/api/v1/notifications", R(json=[{"id": "41"}], headers=RECORDED_BUDGET))
    async with make_client(http_server, fake_sleep, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        body = await client.get_json("/api/v1/notifications", params={"types[]": "mention", "limit": 40})

    assert body == [{"id": "41"}]
    (seen,) = http_server.requests
    assert (seen.method, seen.path) == ("GET", "/api/v1/notifications")
    assert seen.query == {"types[]": "mention", "limit": "40"}
    assert seen.headers["user-agent"] == f"Tend/{__version__}"
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["accept"] == "application/json"
    assert client.rate_limit == RateLimitBudget(300, 297, datetime(2026, 8, 1, 15, 0, 0, 175404, timezone.utc))
    assert client.suggested_delay(30.0) == 30.0  # plenty of budget left
    assert fake_sleep.calls == []


@pytest.mark.asyncio
async def test_post_sends_json_body(http_server, fake_sleep):
    http_server.script("/api/v1/statuses", http_server.Reply(json={"id": "9"}))
    async with make_client(http_server, fake_sleep) as client:
        assert await client.request_json("POST", "/api/v1/statuses", json={"status": "hi"}) == {"id": "9"}
    (seen,) = http_server.requests
    assert seen.method == "POST" and seen.json() == {"status": "hi"}
    assert seen.headers["content-type"] == "application/json"


# ------------------------------------------------------------------------------------------------ retries
@pytest.mark.asyncio
async def test_retries_5xx_with_growing_backoff_then_succeeds(http_server, fake_sleep):
    R = http_server.Reply
    http_server.script("/api/v1/markers", R(500), R(502), R(503), R(json={"ok": True}))
    async with make_client(http_server, fake_sleep) as client:
        assert await client.get_json("/api/v1/markers") == {"ok": True}
    assert len(http_server.requests_to("/api/v1/markers")) == 4
    assert fake_sleep.calls == [0.5, 1.0, 2.0]


@pytest.mark.asyncio
async def test_gives_up_after_max_attempts_with_server_error(http_server, fake_sleep):
    http_server.script("/api/v1/markers", http_server.Reply(500, body=b"oops"))
    async with make_client(http_server, fake_sleep) as client:
        with pytest.raises(ServerError) as caught:
            await client.get_json("/api/v1/markers")
    assert str(caught.value) == "Mastodon is having trouble (server error 500) — Tend will try again later"
    assert "GET" in caught.value.detail and "500" in caught.value.detail
    assert len(http_server.requests) == 4
    assert len(fake_sleep.calls) == 3 and fake_sleep.calls == sorted(fake_sleep.calls)


@pytest.mark.asyncio
async def test_total_wait_is_bounded(http_server, fake_sleep):
    http_server.script("/slow", http_server.Reply(503))
    async with make_client(http_server, fake_sleep, max_attempts=10, max_total_wait=4.0) as client:
        with pytest.raises(ServerError):
            await client.get_json("/slow")
    assert sum(fake_sleep.calls) <= 4.0
    assert fake_sleep.calls == [0.5, 1.0, 2.0]  # the next 4 s wait would pass the bound


@pytest.mark.asyncio
async def test_timeout_is_retried_then_server_error(http_server, fake_sleep):
    http_server.script("/api/v1/notifications", http_server.Reply(json=[], delay=5.0))
    client = make_client(http_server, fake_sleep, timeout=httpx.Timeout(5.0, read=0.05))
    async with client:
        with pytest.raises(ServerError) as caught:
            await client.get_json("/api/v1/notifications")
    assert str(caught.value) == "Mastodon is not answering (timed out) — Tend will try again later"
    assert len(http_server.requests) == 4
    assert fake_sleep.calls == [0.5, 1.0, 2.0]


@pytest.mark.asyncio
async def test_timeout_then_answer_succeeds(http_server, fake_sleep):
    R = http_server.Reply
    http_server.script("/api/v1/notifications", R(json=[], delay=5.0), R(json=[{"id": "1"}]))
    async with make_client(http_server, fake_sleep, timeout=httpx.Timeout(5.0, read=0.05)) as client:
        assert await client.get_json("/api/v1/notifications") == [{"id": "1"}]
    assert len(http_server.requests) == 2


@pytest.mark.asyncio
async def test_post_is_not_retried_on_5xx(http_server, fake_sleep):
    http_server.script("/api/v1/statuses", http_server.Reply(500))
    async with make_client(http_server, fake_sleep) as client:
        with pytest.raises(ServerError):
            await client.request("POST", "/api/v1/statuses", json={"status": "hello"})
    assert len(http_server.requests) == 1
    assert fake_sleep.calls == []


@pytest.mark.asyncio
async def test_post_with_idempotency_key_is_retried_identically(http_server, fake_sleep):
    R = http_server.Reply
    http_server.script("/api/v1/statuses", R(500), R(json={"id": "7"}))
    async with make_client(http_server, fake_sleep) as client:
        sent = await client.request_json(
            "POST", "/api/v1/statuses", json={"status": "hello"}, headers={"Idempotency-Key": "k-1"},
            retry_unsafe=True,
        )
    assert sent == {"id": "7"}
    first, second = http_server.requests
    assert first.body == second.body and second.json() == {"status": "hello"}
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"] == "k-1"


@pytest.mark.asyncio
async def test_refused_connection_is_retried_even_for_post_because_nothing_was_sent(fake_sleep):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with HttpClient(f"http://127.0.0.1:{port}", service_name="Mastodon", sleep=fake_sleep,
                          random=lambda: 0.0) as client:
        with pytest.raises(ServerError) as caught:
            await client.request("POST", "/api/v1/statuses")
    assert "could not be reached" in str(caught.value)
    assert len(fake_sleep.calls) == 3


# ------------------------------------------------------------------------------------------------ rate limits
@pytest.mark.asyncio
async def test_429_with_short_retry_after_waits_and_retries(http_server, fake_sleep):
    R = http_server.Reply
    http_server.script("/api/v1/notifications", R(429, headers={"Retry-After": "7"}), R(json=[]))
    async with make_client(http_server, fake_sleep) as client:
        assert await client.get_json("/api/v1/notifications") == []
    assert fake_sleep.calls == [7.0]
    assert len(http_server.requests) == 2


@pytest.mark.asyncio
async def test_429_post_is_retried_because_the_server_did_not_act(http_server, fake_sleep):
    R = http_server.Reply
    http_server.script("/api/v1/statuses", R(429, headers={"Retry-After": "2"}), R(json={"id": "3"}))
    async with make_client(http_server, fake_sleep) as client:
        assert await client.request_json("POST", "/api/v1/statuses", json={"status": "x"}) == {"id": "3"}
    assert len(http_server.requests) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("reset", "expected_wait"),
    [
        pytest.param(RECORDED_401_RESET, 30.336319, id="mastodon-iso8601"),
        pytest.param(str(int(NOW.timestamp()) + 20), 20.0, id="mastodon-mock-epoch"),
    ],
)
async def test_429_mastodon_reset_forms_are_both_understood(http_server, fake_sleep, reset, expected_wait):
    R = http_server.Reply
    limited = R(429, json={"error": "Too many requests"},
                headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    http_server.script("/api/v1/notifications", limited, R(json=[]))
    async with make_client(http_server, fake_sleep) as client:
        assert await client.get_json("/api/v1/notifications") == []
    assert fake_sleep.calls == [pytest.approx(expected_wait)]


@pytest.mark.asyncio
async def test_429_with_long_reset_raises_rate_limited(http_server, fake_sleep):
    reset = (NOW + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    http_server.script("/api/v1/notifications", http_server.Reply(429, headers={"X-RateLimit-Reset": reset}))
    async with make_client(http_server, fake_sleep) as client:
        with pytest.raises(RateLimited) as caught:
            await client.get_json("/api/v1/notifications")
    assert caught.value.retry_after == pytest.approx(300.0)
    assert str(caught.value) == "Mastodon asked Tend to slow down; Tend will try again in 5 minutes."
    assert fake_sleep.calls == [] and len(http_server.requests) == 1


@pytest.mark.asyncio
async def test_x_epoch_reset_header_is_understood(http_server, fake_sleep):
    x_now = datetime.fromtimestamp(int(RECORDED_X_RESET) - 900, timezone.utc)
    headers = {"x-rate-limit-limit": "75", "x-rate-limit-remaining": "0", "x-rate-limit-reset": RECORDED_X_RESET}
    http_server.script("/2/users/1/mentions", http_server.Reply(429, json={"title": "Too Many Requests"},
                                                                headers=headers))
    async with make_client(http_server, fake_sleep, clock=lambda: x_now) as client:
        with pytest.raises(RateLimited) as caught:
            await client.get_json("/2/users/1/mentions")
        assert client.rate_limit == RateLimitBudget(75, 0, datetime.fromtimestamp(1651929084, timezone.utc))
        assert client.suggested_delay(60.0) == pytest.approx(900.0)
    assert caught.value.retry_after == pytest.approx(900.0)


def test_suggested_delay_spreads_a_low_budget_over_the_window():
    reset = NOW + timedelta(seconds=120)
    assert RateLimitBudget(300, 200, reset).suggested_delay(30, NOW) == 30
    assert RateLimitBudget(300, 4, reset).suggested_delay(10, NOW) == pytest.approx(30.0)
    assert RateLimitBudget(300, 0, reset).suggested_delay(10, NOW) == pytest.approx(120.0)
    assert RateLimitBudget(300, 0, NOW - timedelta(seconds=1)).suggested_delay(10, NOW) == 10
    assert RateLimitBudget(None, None, None).suggested_delay(10, NOW) == 10


def test_reset_and_retry_after_parsing():
    assert parse_reset("2026-08-01T15:00:00.175404Z", NOW) == datetime(2026, 8, 1, 15, 0, 0, 175404, timezone.utc)
    assert parse_reset("1651929084", NOW) == datetime.fromtimestamp(1651929084, timezone.utc)
    assert parse_reset("45", NOW) == NOW + timedelta(seconds=45)  # a delay, as the IETF draft sends
    assert parse_reset("soon", NOW) is None and parse_reset(None, NOW) is None
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("Sat, 01 Aug 2026 14:00:00 GMT", NOW) == 30.0
    assert parse_retry_after("garbage", NOW) is None


# ------------------------------------------------------------------------------------------------ client errors
@pytest.mark.asyncio
async def test_401_is_auth_expired_and_not_retried(http_server, fake_sleep):
    recorded = http_server.Reply(
        401, body=RECORDED_401_BODY,
        headers={"Content-Type": "application/json; charset=utf-8",
                 "WWW-Authenticate": 'Bearer realm="Doorkeeper", error="invalid_token"',
                 "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299", "X-RateLimit-Reset": RECORDED_401_RESET},
    )
    http_server.script("/api/v1/timelines/home", recorded)
    async with make_client(http_server, fake_sleep, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        with pytest.raises(AuthExpired) as caught:
            await client.get_json("/api/v1/timelines/home")
    assert str(caught.value) == "Mastodon access was revoked or has expired; reconnect the account"
    assert "The access token is invalid" in caught.value.detail
    assert len(http_server.requests) == 1 and fake_sleep.calls == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        pytest.param(403, {"title": "Client Forbidden", "detail": "This endpoint needs the Basic tier.",
                           "type": "https://api.twitter.com/2/problems/client-forbidden"},
                     "Mastodon refused this request: This endpoint needs the Basic tier.", id="x-problem-details"),
        pytest.param(403, {"error": "This action is not allowed"},
                     "Mastodon refused this request: This action is not allowed", id="mastodon-403"),
        pytest.param(422, {"error": "Validation failed: Text can't be blank"},
                     "Mastodon rejected the request (error 422): Validation failed: Text can't be blank", id="422"),
        pytest.param(404, {"error": "Record not found"},
                     "Mastodon could not find what Tend asked for: Record not found", id="404"),
    ],
)
async def test_other_4xx_carry_the_servers_words(http_server, fake_sleep, status, body, expected):
    http_server.script("/x", http_server.Reply(status, json=body))
    async with make_client(http_server, fake_sleep) as client:
        with pytest.raises(ConnectorError) as caught:
            await client.request("POST", "/x")
    assert type(caught.value) is ConnectorError
    assert str(caught.value) == expected
    assert len(http_server.requests) == 1


@pytest.mark.asyncio
async def test_accept_status_hands_the_response_back(http_server, fake_sleep):
    http_server.script("/xrpc/x", http_server.Reply(400, json={"error": "ExpiredToken"}))
    async with make_client(http_server, fake_sleep) as client:
        response = await client.request("GET", "/xrpc/x", accept_status={400})
    assert response.json() == {"error": "ExpiredToken"}


# ------------------------------------------------------------------------------------------------ bad bodies
@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body", [b'[{"id": "1", "content": "<p>hel', b"<html><body>Bad gateway</body></html>", b"", b"\xff\xfe{"],
    ids=["truncated-json", "html", "empty", "not-utf8"],
)
async def test_unreadable_body_is_bad_response_without_retry(http_server, fake_sleep, body):
    http_server.script("/api/v1/notifications", http_server.Reply(200, body=body))
    async with make_client(http_server, fake_sleep) as client:
        with pytest.raises(BadResponse) as caught:
            await client.get_json("/api/v1/notifications")
    assert str(caught.value) == "Mastodon sent a reply Tend could not read — Tend will try again later"
    assert len(http_server.requests) == 1


@pytest.mark.asyncio
async def test_connection_cut_mid_body_is_retried_then_bad_response(http_server, fake_sleep):
    http_server.script("/api/v1/notifications", http_server.Reply(json=[{"id": "1"}] * 50, truncate_to=40))
    async with make_client(http_server, fake_sleep) as client:
        with pytest.raises(BadResponse) as caught:
            await client.get_json("/api/v1/notifications")
    assert "incomplete" in str(caught.value)
    assert len(http_server.requests) == 4


# ------------------------------------------------------------------------------------------------ URL safety
@pytest.mark.parametrize("url", ["http://127.0.0.1:3000", "http://127.8.9.10", "http://localhost:3000",
                                 "http://[::1]:3000", "https://mastodon.social", "https://api.x.com/2"])
def test_loopback_or_https_is_allowed(url):
    check_url_is_safe(url)
    HttpClient(url)  # constructing must not raise either


@pytest.mark.parametrize("url", ["http://example.com", "http://localhost.evil.example", "http://127.0.0.1.nip.io",
                                 "http://10.0.0.2", "ftp://127.0.0.1/x", "ws://mastodon.social"])
def test_plain_http_elsewhere_is_refused(url):
    with pytest.raises(InsecureURL) as caught:
        HttpClient(url, service_name="Mastodon")
    assert "secure (https)" in str(caught.value)


@pytest.mark.asyncio
async def test_absolute_insecure_url_is_refused_before_sending(fake_sleep):
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200, json={}))
    async with HttpClient("https://mastodon.example", transport=transport, sleep=fake_sleep) as client:
        with pytest.raises(InsecureURL):
            await client.get_json("http://example.com/api/v1/notifications?access_token=abc123")
        assert await client.get_json("http://localhost/api/v1/instance") == {}
        assert await client.get_json("/api/v1/instance") == {}
    assert [str(r.url) for r in sent] == [
        "http://localhost/api/v1/instance", "https://mastodon.example/api/v1/instance"]


# ------------------------------------------------------------------------------------------------ secrets
@pytest.mark.asyncio
async def test_secrets_never_reach_errors_or_logs(http_server, fake_sleep, caplog):
    caplog.set_level(logging.DEBUG, logger="console.connectors.http")
    echo = f'{{"error": "bad token {TOKEN}"}}'.encode()
    http_server.script("/api/v1/notifications", http_server.Reply(500, body=echo))
    http_server.script("/api/v1/statuses", http_server.Reply(403, body=echo))
    async with make_client(http_server, fake_sleep, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        with pytest.raises(ServerError) as server_error:
            await client.get_json("/api/v1/notifications", params={"access_token": "qp-Token-777"})
        with pytest.raises(ConnectorError) as refused:
            await client.request("POST", "/api/v1/statuses?access_token=qp-Token-777", data={"code": "oauth-code-55"})
    assert http_server.requests[0].query["access_token"] == "qp-Token-777"  # it did go over the wire
    for exc in (server_error.value, refused.value):
        for text in (str(exc), exc.detail):
            assert TOKEN not in text and "qp-Token-777" not in text and "oauth-code-55" not in text
    assert "[redacted]" in refused.value.detail and "access_token=[redacted]" in server_error.value.detail
    assert caplog.records, "the retries should have been logged"
    assert TOKEN not in caplog.text and "qp-Token-777" not in caplog.text


def test_redaction_helpers():
    assert redact_url("https://m.example/api?access_token=abc&limit=5&code=x1") == (
        "https://m.example/api?access_token=[redacted]&limit=5&code=[redacted]")
    assert redact_url("https://m.example/api/v1/instance") == "https://m.example/api/v1/instance"
    assert redact_headers({"Authorization": "Bearer abc", "Accept": "application/json"}) == {
        "Authorization": "[redacted]", "Accept": "application/json"}
    assert redact("token abcdef here, on", ["abcdef", "on"]) == "token [redacted] here, on"


# ------------------------------------------------------------------------------------------------ pagination
@pytest.mark.asyncio
async def test_link_header_pagination(http_server, fake_sleep):
    R = http_server.Reply
    # recorded shape: test_grouped_notification_pagination.yaml, with the server's address swapped in
    link = (f'<{http_server.url}/api/v2/notifications?limit=5&max_id=38>; rel="next", '
            f'<{http_server.url}/api/v2/notifications?limit=5&min_id=42>; rel="prev"')
    http_server.script("/api/v2/notifications", R(json={"page": 1}, headers={"Link": link}), R(json={"page": 2}))
    async with make_client(http_server, fake_sleep) as client:
        first = await client.request("GET", "/api/v2/notifications", params={"limit": 5})
        assert next_link(first) == f"{http_server.url}/api/v2/notifications?limit=5&max_id=38"
        assert prev_link(first) == f"{http_server.url}/api/v2/notifications?limit=5&min_id=42"
        assert await client.get_json(next_link(first)) == {"page": 2}
        second = http_server.requests[-1]
        assert second.query == {"limit": "5", "max_id": "38"}
        last = await client.request("GET", "/api/v2/notifications")
        assert next_link(last) is None and prev_link(last) is None


@pytest.mark.asyncio
async def test_aclose_closes_the_session(fake_sleep):
    client = HttpClient("https://mastodon.example", sleep=fake_sleep)
    async with client as entered:
        assert entered is client
    with pytest.raises(RuntimeError):
        await client.request("GET", "/api/v1/instance")


@pytest.mark.asyncio
async def test_503_retry_after_stretches_the_backoff_and_is_reported(http_server, fake_sleep):
    http_server.script("/api/v1/markers", http_server.Reply(503, headers={"Retry-After": "3"}))
    async with make_client(http_server, fake_sleep) as client:
        with pytest.raises(ServerError) as caught:
            await client.get_json("/api/v1/markers")
    assert fake_sleep.calls == [3.0, 3.0, 3.0]  # the server's wish outranks the shorter backoff
    assert caught.value.retry_after == 3.0
