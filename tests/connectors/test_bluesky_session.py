"""Connecting a Bluesky account (handle → DID → DID document → PDS → one createSession) and keeping it signed in."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from console.connectors.bluesky_session import BlueskySignInError, sign_in, token_expiry
from console.connectors.errors import AuthExpired, InsecureURL, RateLimited
from console.connectors.http import HttpClient
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import SyncEngine
from tests.connectors.bluesky_server import BlueskyTestServer, bluesky, connector_for  # noqa: F401

PASSWORD = "aaaa-bbbb-cccc-dddd"


def factory(sleeps: list[float] | None = None):  # noqa: ANN201
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    return lambda url: HttpClient(url, service_name="Bluesky", sleep=sleep, random=lambda: 0.0, timeout=5)


@pytest.fixture
def lookup() -> Iterator[BlueskyTestServer]:
    """A second server, standing for bsky.social: it resolves handles, but the account lives on another PDS."""
    server = BlueskyTestServer()
    server.start()
    yield server
    server.stop()


# -- connecting ------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_sign_in_finds_the_accounts_own_server_and_creates_one_session_there(
    bluesky: BlueskyTestServer, lookup: BlueskyTestServer  # noqa: F811
) -> None:
    biz = bluesky.business("shop.test", display_name="The Shop")
    lookup.world.person("shop.test")  # the same handle, known to the directory
    lookup.pds_url = bluesky.url  # whose DID document says: this account lives on `bluesky`

    signed = await sign_in("@Shop.Test ", f" {PASSWORD}\n", service=lookup.url, http_factory=factory())

    account = signed.account
    assert (account.id, account.network, account.handle) == (f"bluesky:{biz.did}", "bluesky", "@shop.test")
    assert (account.server_url, account.remote_id, account.char_limit) == (bluesky.url, biz.did, 300)
    assert account.display_name == "The Shop" and signed.main_password is False
    assert signed.refresh_token in bluesky.world.refresh
    # resolveDid wants a session on this server (as on the reference PDS); describeRepo answers.
    assert [r.nsid for r in lookup.requests] == ["com.atproto.identity.resolveHandle",
                                                 "com.atproto.identity.resolveDid",
                                                 "com.atproto.repo.describeRepo"]
    (login,) = bluesky.requests_to("com.atproto.server.createSession")
    assert login.json() == {"identifier": biz.did, "password": PASSWORD}
    assert "authorization" not in login.headers


@pytest.mark.asyncio
async def test_a_service_that_resolves_dids_for_anyone_is_asked_once(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    bluesky.business()
    bluesky.resolve_did = "open"
    await sign_in("shop.test", PASSWORD, service=bluesky.url, http_factory=factory())
    assert bluesky.requests_to("com.atproto.repo.describeRepo") == []


@pytest.mark.asyncio
async def test_when_the_service_cannot_say_the_plc_directory_is_asked(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    biz = bluesky.business()
    bluesky.resolve_did, bluesky.describe_repo = "none", False
    signed = await sign_in(biz.did, PASSWORD, service=bluesky.url, plc_url=bluesky.url, http_factory=factory())
    assert signed.account.handle == "@shop.test"
    assert [r.path for r in bluesky.requests if r.path.startswith("/did:")] == [f"/{biz.did}"]
    assert bluesky.requests_to("com.atproto.identity.resolveHandle") == []  # a DID needs no handle lookup


@pytest.mark.parametrize(("handle", "password", "words"), [
    ("shop.test", "wrong-pass-word-0000", "did not accept this app password for @shop.test"),
    ("nobody.test", PASSWORD, "could not find the handle @nobody.test"),
    ("shop", PASSWORD, "is not a Bluesky handle"),
    ("shop.test", "  ", "No app password was given"),
])
@pytest.mark.asyncio
async def test_sign_in_failures_are_said_plainly(bluesky: BlueskyTestServer, handle: str, password: str,  # noqa: F811
                                                 words: str) -> None:
    bluesky.business()
    with pytest.raises(BlueskySignInError) as caught:
        await sign_in(handle, password, service=bluesky.url, http_factory=factory())
    assert words in str(caught.value)
    assert not password.strip() or password.strip() not in str(caught.value) + caught.value.detail


@pytest.mark.asyncio
async def test_a_rate_limited_sign_in_tells_the_owner_to_wait(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    bluesky.business()
    reset = str(int(time.time()) + 3600)  # an hour from now, in epoch seconds as Bluesky sends it
    bluesky.inject("com.atproto.server.createSession", bluesky.Response(
        429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"RateLimit-Limit": "30", "RateLimit-Remaining": "0", "RateLimit-Reset": reset,
                 "RateLimit-Policy": "30;w=300"}))
    http = factory()
    with pytest.raises(RateLimited) as caught:
        await sign_in("shop.test", PASSWORD, service=bluesky.url, http_factory=http)
    assert "wait" in str(caught.value) and "before trying again" in str(caught.value)
    assert len(bluesky.requests_to("com.atproto.server.createSession")) == 1  # not hammered


@pytest.mark.asyncio
async def test_the_account_password_works_but_is_flagged(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    biz = bluesky.business()
    bluesky.main_passwords[biz.did] = "my-real-password"
    signed = await sign_in("shop.test", "my-real-password", service=bluesky.url, http_factory=factory())
    assert signed.main_password is True


@pytest.mark.asyncio
async def test_plain_http_to_another_machine_is_refused_before_any_request() -> None:
    with pytest.raises(InsecureURL):
        await sign_in("shop.test", PASSWORD, service="http://bsky.example", http_factory=factory())


# -- staying signed in -----------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_first_call_trades_the_refresh_token_and_saves_the_rotated_one(
    bluesky: BlueskyTestServer,  # noqa: F811
) -> None:
    biz = bluesky.business()
    saved: list[str] = []
    connector = connector_for(bluesky, biz, saved=saved)
    first_refresh = connector.session.refresh_token
    await connector.fetch_authors([f"bluesky:{biz.did}"])
    refresh, profiles = bluesky.requests[:2]
    assert refresh.nsid == "com.atproto.server.refreshSession" and refresh.bearer == first_refresh
    assert profiles.bearer in bluesky.world.access and profiles.bearer != first_refresh
    assert saved == [connector.session.refresh_token] and saved[0] != first_refresh
    await connector.fetch_authors([f"bluesky:{biz.did}"])
    assert len(bluesky.requests_to("com.atproto.server.refreshSession")) == 1  # the access token is reused
    await connector.aclose()


@pytest.mark.asyncio
async def test_the_session_is_refreshed_before_the_access_token_expires(
    bluesky: BlueskyTestServer,  # noqa: F811
) -> None:
    biz = bluesky.business()
    saved: list[str] = []
    connector = connector_for(bluesky, biz, saved=saved)
    await connector.fetch_authors([biz.did])
    token = bluesky.requests_to("app.bsky.actor.getProfiles")[-1].bearer
    expires = token_expiry(token)
    assert expires is not None
    bluesky.world.now = expires - timedelta(seconds=30)  # inside the safety margin
    await connector.fetch_authors([biz.did])
    assert [r.nsid for r in bluesky.requests[-2:]] == ["com.atproto.server.refreshSession",
                                                       "app.bsky.actor.getProfiles"]
    assert bluesky.requests[-1].bearer != token and len(saved) == 2
    await connector.aclose()


@pytest.mark.asyncio
async def test_an_expired_token_is_refreshed_and_the_call_repeated(bluesky: BlueskyTestServer) -> None:  # noqa: F811
    biz = bluesky.business()
    saved: list[str] = []
    connector = connector_for(bluesky, biz, saved=saved)
    await connector.fetch_authors([biz.did])
    bluesky.world.expire_access_tokens()  # the server says so before the token's own exp claim
    authors = await connector.fetch_authors([biz.did])
    assert [a.handle for a in authors] == ["@shop.test"]
    assert [r.nsid for r in bluesky.requests[-3:]] == ["app.bsky.actor.getProfiles",
                                                       "com.atproto.server.refreshSession",
                                                       "app.bsky.actor.getProfiles"]
    assert len(saved) == 2 and saved[-1] == connector.session.refresh_token
    await connector.aclose()


@pytest.mark.asyncio
async def test_a_revoked_sign_in_marks_the_account_for_reconnection(
    bluesky: BlueskyTestServer, tmp_path: Path  # noqa: F811
) -> None:
    biz = bluesky.business()
    connector = connector_for(bluesky, biz)
    bluesky.world.refresh.clear()  # the owner deleted the app password
    writer = StoreWriter(Inbox.open(tmp_path / "inbox.db"))
    try:
        await writer.call(Inbox.ensure_account, connector.account)
        (result,) = await SyncEngine(writer, [connector]).sync_once()
        (account,) = await writer.call(Inbox.accounts)
    finally:
        writer.close()
    assert "reconnect" in (result.error or "") and account.needs_reconnect is True
    assert bluesky.requests_to("com.atproto.server.createSession") == []  # never signs in by itself
    with pytest.raises(AuthExpired):
        await connector.fetch_authors([biz.did])
    await connector.aclose()
