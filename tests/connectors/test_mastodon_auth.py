"""Signing in to Mastodon as a real client does, against a strict sign-in server on 127.0.0.1.

The server (oauth_server.py) checks the PKCE verifier against the challenge, the state, the redirect URI and the
scopes, and answers account and instance questions with the recorded Mastodon 4.6.4 responses. The "browser" loads
the authorization URL and follows the redirect to Tend's loopback listener, as a real one would.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from console.connectors.errors import InsecureURL
from console.connectors.mastodon_auth import (
    BROAD_SCOPES,
    GRANULAR_SCOPES,
    AppRegistration,
    AuthDenied,
    AuthFailed,
    AuthTimedOut,
    InvalidServer,
    KeyringRegistrations,
    client_for,
    fetch_identity,
    normalise_server_url,
    revoke_token,
    sign_in,
)
from console.connectors.oauth_loopback import LoopbackRedirect, pkce_pair, s256
from console.secrets import delete_secret, load_secret, store_secret
from tests.connectors.oauth_server import FakeBrowser, FakeMastodonAuth, auth_server, browser, fresh_keyring  # noqa: F401


@pytest.fixture
def registrations(fresh_keyring) -> KeyringRegistrations:  # noqa: F811
    return KeyringRegistrations(store_secret, load_secret, delete_secret)


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


# -- server addresses ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("  https://Mastodon.Social/about/  ", "https://mastodon.social"),
        ("@shop@Example.Social", "https://example.social"),
        ("shop@example.social", "https://example.social"),
        ("https://example.social:8443/", "https://example.social:8443"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        ("http://localhost:3000/", "http://localhost:3000"),
        ("http://[::1]:3000", "http://[::1]:3000"),
    ],
)
def test_server_addresses_are_normalised(typed: str, expected: str) -> None:
    assert normalise_server_url(typed) == expected


def test_plain_http_to_another_machine_is_refused_plainly() -> None:
    with pytest.raises(InsecureURL) as refused:
        normalise_server_url("http://example.com")
    message = str(refused.value)
    assert message == (
        "Tend will only talk to example.com over a secure (https) connection; plain http is allowed only for this "
        "computer."
    )


@pytest.mark.parametrize("typed", ["", "   ", "ftp://example.com", "https://", "https://exa mple.com"])
def test_nonsense_addresses_are_refused_with_an_example(typed: str) -> None:
    with pytest.raises(InvalidServer) as refused:
        normalise_server_url(typed)
    assert "mastodon.social" in str(refused.value)


# -- PKCE ------------------------------------------------------------------------------------------------------------


def test_s256_matches_the_rfc_7636_example() -> None:
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_verifiers_are_fresh_and_within_the_rfc_limits() -> None:
    pairs = [pkce_pair() for _ in range(20)]
    assert len({verifier for verifier, _ in pairs}) == 20
    for verifier, challenge in pairs:
        assert 43 <= len(verifier) <= 128
        assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        assert challenge == s256(verifier) and "=" not in challenge


# -- the whole sign-in -----------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_sign_in_registers_asks_with_pkce_and_returns_the_token(
    auth_server: FakeMastodonAuth, browser: FakeBrowser, registrations: KeyringRegistrations  # noqa: F811
) -> None:
    statuses: list[str] = []
    token = await sign_in(auth_server.url, registrations=registrations, open_browser=browser, timeout=10,
                          on_status=statuses.append)

    assert auth_server.failures == []
    assert auth_server.tokens[token] is not None  # issued through the code flow to Tend's registered app
    (registered,) = auth_server.requests_to("/api/v1/apps")
    assert registered.form["client_name"] == "Tend"
    assert registered.form["scopes"] == " ".join(GRANULAR_SCOPES)
    redirect_uri = registered.form["redirect_uris"]
    assert urlsplit(redirect_uri).hostname == "127.0.0.1" and urlsplit(redirect_uri).path == "/callback"
    assert urlsplit(redirect_uri).port not in (None, 0)

    (opened,) = browser.opened
    asked = query_of(opened)
    assert opened.startswith(f"{auth_server.url}/oauth/authorize?")
    assert asked["response_type"] == "code" and asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"] == redirect_uri and asked["scope"] == " ".join(GRANULAR_SCOPES)
    assert len(asked["state"]) >= 32
    (exchange,) = auth_server.requests_to("/oauth/token")
    assert exchange.form["grant_type"] == "authorization_code"
    assert exchange.form["redirect_uri"] == redirect_uri
    assert s256(exchange.form["code_verifier"]) == asked["code_challenge"]
    assert exchange.form["code_verifier"] not in opened  # only the challenge travels through the browser
    assert "You can close this tab and return to Tend" in browser.last_page
    assert any("browser" in s for s in statuses)

    saved = await registrations.load(auth_server.url)
    assert saved is not None and saved.redirect_uri == redirect_uri
    assert load_secret(f"mastodon-app:{auth_server.url}", "app") is not None


@pytest.mark.asyncio
async def test_a_second_sign_in_reuses_the_registration(
    auth_server: FakeMastodonAuth, browser: FakeBrowser, registrations: KeyringRegistrations  # noqa: F811
) -> None:
    first = await sign_in(auth_server.url, registrations=registrations, open_browser=browser, timeout=10)
    second = await sign_in(auth_server.url, registrations=registrations, open_browser=browser, timeout=10)

    assert first != second
    assert len(auth_server.requests_to("/api/v1/apps")) == 1
    assert len(auth_server.requests_to("/.well-known/oauth-authorization-server")) == 1
    one, two = (query_of(url) for url in browser.opened)
    assert one["client_id"] == two["client_id"] and one["redirect_uri"] == two["redirect_uri"]
    assert one["state"] != two["state"] and one["code_challenge"] != two["code_challenge"]
    assert auth_server.failures == []


@pytest.mark.asyncio
async def test_registration_is_renewed_when_its_port_is_taken(
    auth_server: FakeMastodonAuth, browser: FakeBrowser, registrations: KeyringRegistrations  # noqa: F811
) -> None:
    await sign_in(auth_server.url, registrations=registrations, open_browser=browser, timeout=10)
    port = urlsplit((await registrations.load(auth_server.url)).redirect_uri).port
    squatter = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", port)
    try:
        await sign_in(auth_server.url, registrations=registrations, open_browser=browser, timeout=10)
    finally:
        squatter.close()
        await squatter.wait_closed()
    assert len(auth_server.requests_to("/api/v1/apps")) == 2  # a strict server would refuse the other port
    assert auth_server.failures == []


@pytest.mark.asyncio
@pytest.mark.parametrize("metadata", ["broad scopes only", "no metadata document"])
async def test_older_servers_get_the_broad_scopes(
    auth_server: FakeMastodonAuth, browser: FakeBrowser, registrations: KeyringRegistrations,  # noqa: F811
    metadata: str,
) -> None:
    if metadata == "no metadata document":
        auth_server.has_metadata = False
    auth_server.scopes_supported = ["read", "write", "follow", "push"]  # what mastodon-mock and pre-4.x servers offer
    await sign_in(auth_server.url, registrations=registrations, open_browser=browser, timeout=10)
    (registered,) = auth_server.requests_to("/api/v1/apps")
    assert registered.form["scopes"] == " ".join(BROAD_SCOPES)
    assert auth_server.failures == []


@pytest.mark.asyncio
async def test_denied_authorization_says_so_and_stops_listening(
    auth_server: FakeMastodonAuth, browser: FakeBrowser, registrations: KeyringRegistrations  # noqa: F811
) -> None:
    auth_server.deny = True
    with pytest.raises(AuthDenied) as denied:
        await sign_in(auth_server.url, registrations=registrations, open_browser=browser, timeout=10)
    assert str(denied.value) == (
        f"Tend was not given access to your account on 127.0.0.1:{urlsplit(auth_server.url).port}. "
        "Nothing was connected."
    )
    assert "You did not give Tend access" in browser.last_page
    assert auth_server.requests_to("/oauth/token") == []
    redirect_uri = query_of(browser.opened[0])["redirect_uri"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(redirect_uri, timeout=2)


@pytest.mark.asyncio
async def test_nobody_coming_back_times_out_with_a_clear_message(
    auth_server: FakeMastodonAuth, registrations: KeyringRegistrations  # noqa: F811
) -> None:
    opened: list[str] = []
    with pytest.raises(AuthTimedOut) as timed_out:
        await sign_in(auth_server.url, registrations=registrations, open_browser=opened.append, timeout=0.3)
    assert "stopped waiting" in str(timed_out.value) and "Start again" in str(timed_out.value)
    with pytest.raises(httpx.ConnectError):
        httpx.get(query_of(opened[0])["redirect_uri"], timeout=2)


@pytest.mark.asyncio
async def test_a_forged_or_stale_callback_is_refused_and_the_real_one_still_works(
    auth_server: FakeMastodonAuth, registrations: KeyringRegistrations  # noqa: F811
) -> None:
    real = FakeBrowser()
    forged: list[httpx.Response] = []

    def attacker_first(url: str) -> None:
        redirect_uri = query_of(url)["redirect_uri"]

        def visit() -> None:
            forged.append(httpx.get(f"{redirect_uri}?code=evil&state=not-the-state", timeout=5))
            forged.append(httpx.get(redirect_uri.replace("/callback", "/favicon.ico"), timeout=5))
            real(url)

        import threading

        threading.Thread(target=visit, daemon=True).start()

    token = await sign_in(auth_server.url, registrations=registrations, open_browser=attacker_first, timeout=10)
    assert [r.status_code for r in forged] == [400, 404]
    assert "out of date" in forged[0].text
    assert token in auth_server.tokens and auth_server.failures == []


@pytest.mark.asyncio
async def test_cancelling_the_sign_in_closes_the_listener(
    auth_server: FakeMastodonAuth, registrations: KeyringRegistrations  # noqa: F811
) -> None:
    opened: list[str] = []
    task = asyncio.ensure_future(
        sign_in(auth_server.url, registrations=registrations, open_browser=opened.append, timeout=60)
    )
    while not opened:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(httpx.ConnectError):
        httpx.get(query_of(opened[0])["redirect_uri"], timeout=2)


@pytest.mark.asyncio
async def test_a_forgotten_registration_is_dropped_so_the_next_attempt_registers_again(
    auth_server: FakeMastodonAuth, browser: FakeBrowser, registrations: KeyringRegistrations  # noqa: F811
) -> None:
    await sign_in(auth_server.url, registrations=registrations, open_browser=browser, timeout=10)
    saved = await registrations.load(auth_server.url)
    auth_server.apps[saved.client_id].client_secret = "rotated-by-the-admin"  # the server no longer knows Tend

    with pytest.raises(AuthFailed, match="no longer recognises"):
        await sign_in(auth_server.url, registrations=registrations, open_browser=browser, timeout=10)
    assert await registrations.load(auth_server.url) is None


@pytest.mark.asyncio
async def test_secrets_never_reach_the_log(
    auth_server: FakeMastodonAuth, browser: FakeBrowser, registrations: KeyringRegistrations,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await sign_in(auth_server.url, registrations=registrations, open_browser=browser, timeout=10)
    http = client_for(auth_server.url)
    async with http:
        await fetch_identity(http, auth_server.url, token)
        await revoke_token(http, token, await registrations.load(auth_server.url))
    (exchange,) = auth_server.requests_to("/oauth/token")
    secrets = [token, exchange.form["code"], exchange.form["code_verifier"], exchange.form["client_secret"]]
    # Tend's own loggers (the simulated browser is in this process too, and httpx logs the URLs it visits).
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("console"))
    assert "oauth/token" in logged  # the requests were logged, only without their secrets
    assert [s for s in secrets if s in logged] == []


# -- who the token belongs to, and letting go of it ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_identity_comes_from_the_recorded_account_and_instance(auth_server: FakeMastodonAuth) -> None:  # noqa: F811
    token = auth_server.issue_token()
    async with client_for(auth_server.url) as http:
        identity = await fetch_identity(http, auth_server.url, token)
    account = identity.account()
    # recorded: test_verify_credentials.yaml and test_instance.yaml (a Mastodon 4.6.4 at localhost:3000)
    assert account.id == "mastodon:mastodonpy_test@localhost:3000"
    assert account.handle == "@mastodonpy_test@localhost:3000"
    assert account.remote_id == "117020457910412882"
    assert account.display_name == "mastodonpy_test"  # the recorded display name is empty
    assert account.char_limit == 500
    assert account.server_url == auth_server.url and account.network == "mastodon"
    seen = auth_server.requests_to("/api/v1/accounts/verify_credentials")[0]
    assert seen.headers["authorization"] == f"Bearer {token}"


@pytest.mark.asyncio
async def test_a_wrong_token_is_refused_without_repeating_it(auth_server: FakeMastodonAuth) -> None:  # noqa: F811
    async with client_for(auth_server.url) as http:
        with pytest.raises(AuthFailed) as refused:
            await fetch_identity(http, auth_server.url, "typo-d-token-value")
    assert "did not accept this access token" in str(refused.value)
    assert "typo-d-token-value" not in str(refused.value) + refused.value.detail


@pytest.mark.asyncio
async def test_revoking_sends_the_client_credentials_of_the_app(auth_server: FakeMastodonAuth) -> None:  # noqa: F811
    registration = AppRegistration("client-1", "secret-1", "http://127.0.0.1:1/callback", "read write")
    token = auth_server.issue_token()
    async with client_for(auth_server.url) as http:
        await revoke_token(http, token, registration)
    (seen,) = auth_server.requests_to("/oauth/revoke")
    assert seen.form == {"token": token, "client_id": "client-1", "client_secret": "secret-1"}
    assert token not in auth_server.tokens
    assert "secret-1" not in repr(registration)


@pytest.mark.asyncio
async def test_the_listener_answers_only_get_callback() -> None:
    listener = LoopbackRedirect("the-state")
    await listener.start()
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            post = await client.post(listener.redirect_uri, content=b"x")
            missing = await client.get(listener.redirect_uri.replace("/callback", "/"))
            ok = await client.get(listener.redirect_uri, params={"code": "c0de", "state": "the-state"})
        result = await listener.wait(1)
    finally:
        await listener.close()
    assert (post.status_code, missing.status_code, ok.status_code) == (405, 404, 200)
    assert ok.headers["referrer-policy"] == "no-referrer" and ok.headers["cache-control"] == "no-store"
    assert result.code == "c0de" and result.error is None
    assert "c0de" not in repr(result)
