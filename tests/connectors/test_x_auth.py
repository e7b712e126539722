"""Connecting X with OAuth 2.0 (PKCE S256, a loopback redirect, the exact scopes), exchanging the code, refreshing
before expiry with the new refresh token handed over, and revoking: against a local token endpoint that checks
what X checks (the verifier against the challenge, the callback, the client)."""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from console.connectors.errors import AuthExpired
from console.connectors.x import XConnector
from console.connectors.oauth_loopback import s256
from console.connectors.x_auth import (
    SCOPES, XSignInDenied, XSignInError, XTokens, authorization_url, client_for, exchange_code, fetch_identity,
    refresh_tokens, revoke_token, sign_in,
)
from console.domain import Account
from tests.connectors.oauth_server import FakeBrowser
from tests.connectors.x_server import CLIENT_ID, NOW, SNOWMAN, Clock, Grant, XTestServer, x_server  # noqa: F401

SCOPE_TEXT = "tweet.read users.read tweet.write dm.read dm.write offline.access"
TOKEN = "/2/oauth2/token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def register_callback(server: XTestServer) -> int:
    """The owner's app in the developer portal, with Tend's callback on a port free on this machine."""
    port = free_port()
    server.clients[CLIENT_ID] = f"http://127.0.0.1:{port}/callback"
    return port


def test_the_authorization_url_asks_for_exactly_tends_scopes_with_a_pkce_s256_challenge() -> None:
    verifier = "v" * 64
    url = authorization_url(CLIENT_ID, "http://127.0.0.1:47219/callback", s256(verifier), "state-1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://x.com/i/oauth2/authorize"
    assert "scope=tweet.read%20users.read%20tweet.write%20dm.read%20dm.write%20offline.access" in parts.query
    assert dict(parse_qsl(parts.query)) == {
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": "http://127.0.0.1:47219/callback",
        "scope": SCOPE_TEXT, "state": "state-1", "code_challenge": s256(verifier), "code_challenge_method": "S256"}
    assert " ".join(SCOPES) == SCOPE_TEXT


@pytest.mark.asyncio
async def test_signing_in_through_the_browser_exchanges_the_code_with_the_verifier(x_server: XTestServer) -> None:
    port = register_callback(x_server)
    browser, clock = FakeBrowser(), Clock(NOW)
    async with client_for(x_server.url) as http:
        tokens = await sign_in(CLIENT_ID, http=http, redirect_port=port, open_browser=browser, timeout=10,
                               authorize_url=x_server.authorize_url, clock=clock)
        identity = await fetch_identity(http, tokens.access_token)
    assert "Tend is connected" in browser.last_page
    assert x_server.failures == []  # the verifier matched the challenge, the callback and client were the same

    [authorize] = x_server.requests_to("/i/oauth2/authorize")
    assert authorize.params["scope"] == SCOPE_TEXT and authorize.params["code_challenge_method"] == "S256"
    [exchange] = x_server.requests_to(TOKEN)
    form = exchange.form
    assert set(form) == {"grant_type", "code", "redirect_uri", "client_id", "code_verifier"}
    assert (form["grant_type"], form["client_id"], form["redirect_uri"]) == (
        "authorization_code", CLIENT_ID, f"http://127.0.0.1:{port}/callback")
    assert s256(form["code_verifier"]) == authorize.params["code_challenge"]
    assert "authorization" not in exchange.headers  # a public client: no secret
    assert tokens.access_token in x_server.access_tokens and tokens.refresh_token in x_server.refresh_tokens
    assert tokens.scope == SCOPE_TEXT and tokens.expires_at is not None
    assert timedelta(seconds=7199) < tokens.expires_at - NOW <= timedelta(seconds=7201)
    assert (identity.remote_id, identity.username, identity.name) == (SNOWMAN, "snowman", "Jim Moffitt")
    account = identity.account()
    assert (account.id, account.network, account.handle, account.remote_id, account.char_limit) == (
        "x:17200003", "x", "@snowman", SNOWMAN, 280)
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)


@pytest.mark.asyncio
async def test_saying_no_on_the_authorization_page_connects_nothing(x_server: XTestServer) -> None:
    port = register_callback(x_server)
    x_server.deny = True
    browser = FakeBrowser()
    async with client_for(x_server.url) as http:
        with pytest.raises(XSignInDenied, match="Nothing was connected"):
            await sign_in(CLIENT_ID, http=http, redirect_port=port, open_browser=browser, timeout=10,
                          authorize_url=x_server.authorize_url)
    assert x_server.requests_to(TOKEN) == []


@pytest.mark.asyncio
async def test_the_registered_callback_port_must_be_free(x_server: XTestServer) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        opened: list[str] = []
        async with client_for(x_server.url) as http:
            with pytest.raises(XSignInError, match=f"Another program is using port {port}"):
                await sign_in(CLIENT_ID, http=http, redirect_port=port, open_browser=opened.append, timeout=10,
                              authorize_url=x_server.authorize_url)
    assert opened == []
    with pytest.raises(XSignInError, match="client id"):
        await sign_in("  ", open_browser=opened.append)


@pytest.mark.asyncio
async def test_a_code_with_the_wrong_verifier_is_refused_in_plain_words(x_server: XTestServer) -> None:
    port = register_callback(x_server)
    redirect = f"http://127.0.0.1:{port}/callback"
    x_server.grants["code-1"] = Grant(CLIENT_ID, redirect, s256("the-right-verifier"), SCOPE_TEXT, SNOWMAN)
    async with client_for(x_server.url) as http:
        with pytest.raises(XSignInError) as caught:
            await exchange_code(http, CLIENT_ID, "code-1", "a-wrong-verifier", redirect)
    assert str(caught.value).startswith("X refused to finish the sign-in (Value passed for the authorization code "
                                        "was invalid.)")
    assert x_server.failures == ["token: PKCE verifier does not match the challenge"]


# ------------------------------------------------------------------------------------------------ refreshing


@pytest.mark.asyncio
async def test_tokens_are_refreshed_before_they_expire_and_the_new_refresh_token_is_handed_over(
        x_server: XTestServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    clock = Clock(NOW)
    access, refresh = x_server.issue_tokens(SNOWMAN, scope=SCOPE_TEXT)
    saved: list[str] = []

    async def save(token: str) -> None:  # the account service writes it to the keyring (off the Qt thread)
        await asyncio.sleep(0)
        saved.append(token)

    async with client_for(x_server.url) as http:
        tokens = XTokens(http, CLIENT_ID, refresh, access_token=access, expires_at=NOW + timedelta(minutes=6),
                         save_refresh_token=save, clock=clock)
        assert await tokens.access_token() == access  # six minutes left: still good
        assert x_server.requests_to(TOKEN) == []
        clock.advance(minutes=1, seconds=30)  # four and a half minutes left: refreshed first
        fresh = await asyncio.gather(tokens.access_token(), tokens.access_token())
    [request] = x_server.requests_to(TOKEN)  # once, however many calls wanted a token at that moment
    assert request.form == {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": CLIENT_ID}
    assert fresh[0] == fresh[1] != access and fresh[0] in x_server.access_tokens
    assert saved == [tokens.refresh_token] and tokens.refresh_token != refresh
    assert refresh not in x_server.refresh_tokens  # X rotates: the old one is spent
    assert tokens.expires_at is not None and tokens.expires_at - clock.now > timedelta(hours=1, minutes=59)
    for secret in (access, refresh, fresh[0], saved[0]):
        assert secret not in caplog.text


@pytest.mark.asyncio
async def test_a_refresh_token_x_no_longer_accepts_means_reconnecting(x_server: XTestServer) -> None:
    async with client_for(x_server.url) as http:
        with pytest.raises(AuthExpired) as caught:
            await refresh_tokens(http, CLIENT_ID, "revoked-long-ago", handle="@snowman")
    assert str(caught.value) == "X no longer accepts Tend's connection to @snowman; reconnect the account."
    assert "invalid_request" in caught.value.detail


@pytest.mark.asyncio
async def test_revoking_withdraws_the_token(x_server: XTestServer) -> None:
    _access, refresh = x_server.issue_tokens(SNOWMAN)
    async with client_for(x_server.url) as http:
        await revoke_token(http, CLIENT_ID, refresh)
        [request] = x_server.requests_to("/2/oauth2/revoke")
        assert request.form == {"token": refresh, "client_id": CLIENT_ID, "token_type_hint": "refresh_token"}
        with pytest.raises(AuthExpired):
            await refresh_tokens(http, CLIENT_ID, refresh)
    assert x_server.revoked == [refresh]


@pytest.mark.asyncio
async def test_a_connector_built_from_a_stored_refresh_token_refreshes_first_and_hands_the_new_one_over(
        x_server: XTestServer) -> None:
    _access, refresh = x_server.issue_tokens(SNOWMAN, scope=SCOPE_TEXT)
    saved: list[str] = []
    account = Account(id=f"x:{SNOWMAN}", network="x", handle="@snowman", server_url=x_server.url,
                      remote_id=SNOWMAN)
    connector = XConnector.with_refresh_token(account, client_id=CLIENT_ID, refresh_token=refresh,
                                              save_refresh_token=saved.append, base_url=x_server.url,
                                              clock=Clock(NOW))
    batches = [b async for b in connector.fetch_since("mentions", None)]
    await connector.aclose()
    first, *rest = x_server.requests
    assert first.path == TOKEN and first.form["refresh_token"] == refresh
    assert saved == [next(iter(x_server.refresh_tokens))] and len(batches) == 1
    assert {r.bearer for r in rest} == {next(t for t in x_server.access_tokens if t != _access)}
