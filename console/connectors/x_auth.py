"""Connecting an X account with OAuth 2.0 (authorization code with PKCE) and keeping its tokens fresh (no Qt, no
SQLite, no keyring: the account service stores what this module hands it).

X has no app registration API: the owner creates an app in the X developer portal (type "Native App", a public
client with no secret), registers ``http://127.0.0.1:<port>/callback`` as its callback URI and gives Tend the app's
client id. X compares the callback exactly, port included, so the loopback listener must get that very port.

- ``authorization_url`` builds the page the owner approves Tend on (``https://x.com/i/oauth2/authorize``, PKCE S256,
  the scopes Tend needs and nothing more).
- ``exchange_code`` trades the code and verifier for tokens at ``POST /2/oauth2/token``.
- ``XTokens`` holds them while Tend runs: access tokens live two hours, so it refreshes when less than
  ``REFRESH_MARGIN`` remains (and whenever X refuses one), and hands every new refresh token to a callback at once:
  X rotates refresh tokens, so the previous one stops working.
- ``revoke_token`` withdraws a token when the owner removes the account.

Base URLs are arguments, so tests run all of this against a token endpoint on 127.0.0.1. Nothing secret (token,
code, verifier) is logged: ``HttpClient`` redacts what it sends.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import secrets
import webbrowser
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from console.connectors.errors import AuthExpired, BadResponse, ConnectorError
from console.connectors.http import HttpClient
from console.connectors.oauth_loopback import LoopbackRedirect, pkce_pair
from console.domain import Account, utc_now

log = logging.getLogger(__name__)

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
API_BASE = "https://api.x.com"
TOKEN_PATH = "/2/oauth2/token"
REVOKE_PATH = "/2/oauth2/revoke"
# Read mentions, conversations and profiles; post replies; read and send direct messages; offline.access for a
# refresh token, without which the owner would have to sign in again every two hours.
SCOPES = ("tweet.read", "users.read", "tweet.write", "dm.read", "dm.write", "offline.access")
REFRESH_MARGIN = timedelta(minutes=5)
DEFAULT_REDIRECT_PORT = 47219  # what the owner registers in the developer portal: http://127.0.0.1:47219/callback
DEFAULT_AUTH_TIMEOUT = 300.0
CHAR_LIMIT = 280

SaveToken = Callable[[str], None | Awaitable[None]]
OpenBrowser = Callable[[str], object]
Status = Callable[[str], None]


class XSignInError(ConnectorError):
    """Connecting the X account did not work; the message says why in the owner's words."""


class XSignInDenied(XSignInError):
    """The owner (or X) said no on the authorization page."""


class XSignInTimedOut(XSignInError):
    """Nobody came back from the browser in time."""


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What the token endpoint gave: the access token, when it lapses, and the refresh token to keep."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime | None
    scope: str = ""


def client_for(base_url: str = API_BASE, **kwargs: Any) -> HttpClient:
    """An HTTP session with X's API host (which also serves the token endpoint)."""
    return HttpClient(base_url, service_name="X", **kwargs)


def redirect_uri(port: int = DEFAULT_REDIRECT_PORT) -> str:
    return f"http://127.0.0.1:{port}/callback"


def authorization_url(client_id: str, redirect: str, challenge: str, state: str, *,
                      authorize_url: str = AUTHORIZE_URL, scopes: tuple[str, ...] = SCOPES) -> str:
    """The page the owner approves Tend on. Scopes are separated by ``%20`` (as X documents), not ``+``."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect,
            "scope": " ".join(scopes),
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        quote_via=quote,
    )
    return f"{authorize_url}?{query}"


# -- the token endpoint ----------------------------------------------------------------------------------------------


def _token_set(response: httpx.Response, now: datetime, previous_refresh: str = "") -> TokenSet:
    try:
        body = response.json()
    except ValueError:
        body = None
    access = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(access, str) or not access:
        raise BadResponse("X finished the sign-in without giving Tend an access token.",
                          detail=f"{TOKEN_PATH} -> {response.status_code}: no access_token")
    refresh = body.get("refresh_token") or previous_refresh
    if not isinstance(refresh, str) or not refresh:
        raise XSignInError("X did not let Tend stay connected (no offline access was granted); connect again and "
                           "allow it.", detail=f"{TOKEN_PATH}: no refresh_token, scope {body.get('scope')!r}")
    lifetime = body.get("expires_in")
    expires = now + timedelta(seconds=lifetime) if isinstance(lifetime, (int, float)) and lifetime > 0 else None
    scope = body.get("scope") if isinstance(body.get("scope"), str) else ""
    return TokenSet(access, refresh, expires, scope)


def _oauth_error(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    error, description = body.get("error"), body.get("error_description")
    return (error if isinstance(error, str) else ""), (description[:200] if isinstance(description, str) else "")


async def exchange_code(http: HttpClient, client_id: str, code: str, verifier: str, redirect: str, *,
                        clock: Callable[[], datetime] = utc_now) -> TokenSet:
    """``POST /2/oauth2/token`` with ``grant_type=authorization_code``: the code and PKCE verifier for tokens."""
    response = await http.request(
        "POST", TOKEN_PATH,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "client_id": client_id,
              "code_verifier": verifier},
        accept_status=(400, 401, 403),
    )
    if response.status_code >= 400:
        error, description = _oauth_error(response)
        raise XSignInError(
            f"X refused to finish the sign-in ({description or error or response.status_code}); start again from "
            "Tend, and check that the client id and callback address match the app in the X developer portal.",
            detail=f"{TOKEN_PATH} -> {response.status_code} {error}: {description}",
        )
    return _token_set(response, clock())


async def refresh_tokens(http: HttpClient, client_id: str, refresh_token: str, *, handle: str = "your account",
                         clock: Callable[[], datetime] = utc_now) -> TokenSet:
    """``POST /2/oauth2/token`` with ``grant_type=refresh_token``. Not retried after it may have reached X: the
    refresh token is spent by its first use, and a second use would be refused."""
    response = await http.request(
        "POST", TOKEN_PATH,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
        accept_status=(400, 401, 403),
    )
    if response.status_code >= 400:
        error, description = _oauth_error(response)
        raise AuthExpired(f"X no longer accepts Tend's connection to {handle}; reconnect the account.",
                          detail=f"{TOKEN_PATH} refresh -> {response.status_code} {error}: {description}")
    return _token_set(response, clock(), refresh_token)


async def revoke_token(http: HttpClient, client_id: str, token: str, token_type_hint: str = "refresh_token") -> None:
    """``POST /2/oauth2/revoke``: the token (and the access it grants) stops working on X."""
    await http.request("POST", REVOKE_PATH,
                       data={"token": token, "client_id": client_id, "token_type_hint": token_type_hint})


# -- while Tend runs -----------------------------------------------------------------------------------------------


class XTokens:
    """Access tokens for one account, from its refresh token; safe to share between concurrent calls.

    ``save_refresh_token`` is called (and awaited when it returns an awaitable) with every new refresh token, before
    the new access token is used. A failure to save is logged, not raised: the connection works until Tend restarts.
    """

    def __init__(self, http: HttpClient, client_id: str, refresh_token: str, *, access_token: str | None = None,
                 expires_at: datetime | None = None, save_refresh_token: SaveToken | None = None,
                 clock: Callable[[], datetime] = utc_now, margin: timedelta = REFRESH_MARGIN,
                 handle: str = "your account") -> None:
        self._http = http
        self._client_id = client_id
        self._refresh_token = refresh_token
        self._access = access_token
        self._expires_at = expires_at
        self._save = save_refresh_token
        self._clock = clock
        self._margin = margin
        self._handle = handle
        self._lock = asyncio.Lock()

    @classmethod
    def from_token_set(cls, http: HttpClient, client_id: str, tokens: TokenSet, **kwargs: Any) -> XTokens:
        return cls(http, client_id, tokens.refresh_token, access_token=tokens.access_token,
                   expires_at=tokens.expires_at, **kwargs)

    @property
    def refresh_token(self) -> str:
        return self._refresh_token

    @property
    def expires_at(self) -> datetime | None:
        return self._expires_at

    def _expiring(self) -> bool:
        return self._expires_at is not None and self._expires_at - self._clock() < self._margin

    async def access_token(self) -> str:
        """A token with at least ``margin`` left, refreshing first when needed."""
        if self._access is None or self._expiring():
            await self.refresh(self._access)
        assert self._access is not None
        return self._access

    async def refresh(self, stale: str | None) -> None:
        async with self._lock:
            if self._access is not None and self._access != stale and not self._expiring():
                return  # another call refreshed while this one waited
            tokens = await refresh_tokens(self._http, self._client_id, self._refresh_token, handle=self._handle,
                                          clock=self._clock)
            if tokens.refresh_token != self._refresh_token:
                self._refresh_token = tokens.refresh_token
                await self._store(tokens.refresh_token)
            self._access, self._expires_at = tokens.access_token, tokens.expires_at
            log.debug("refreshed the X access token of %s", self._handle)

    async def _store(self, refresh_token: str) -> None:
        if self._save is None:
            return
        try:
            outcome = self._save(refresh_token)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:  # the connection still works now; the owner may have to reconnect after a restart
            log.exception("could not save the rotated X refresh token of %s", self._handle)


# -- the whole sign-in ---------------------------------------------------------------------------------------------


async def sign_in(
    client_id: str,
    *,
    http: HttpClient | None = None,
    api_base: str = API_BASE,
    redirect_port: int = DEFAULT_REDIRECT_PORT,
    open_browser: OpenBrowser = webbrowser.open,
    timeout: float = DEFAULT_AUTH_TIMEOUT,
    on_status: Status | None = None,
    authorize_url: str = AUTHORIZE_URL,
    clock: Callable[[], datetime] = utc_now,
) -> TokenSet:
    """Run the browser sign-in and return the tokens (``http``: a session with ``api_base``, made and closed here
    when not given). Cancelling the awaiting task stops the listener."""
    client_id = client_id.strip()
    if not client_id:
        raise XSignInError("Enter the client id of your X app (X developer portal → your app → Keys and tokens → "
                           "OAuth 2.0 Client ID).")
    if http is None:
        async with client_for(api_base) as own:
            return await sign_in(client_id, http=own, redirect_port=redirect_port, open_browser=open_browser,
                                 timeout=timeout, on_status=on_status, authorize_url=authorize_url, clock=clock)
    status = on_status or (lambda _text: None)
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    redirect = LoopbackRedirect(state)
    await redirect.start(preferred_port=redirect_port)
    try:
        if redirect.port != redirect_port:
            raise XSignInError(
                f"Another program is using port {redirect_port}, which your X app expects Tend to listen on; close "
                "it and try again.", detail=f"loopback listener got port {redirect.port}")
        status("Waiting for you to approve Tend in your browser (X)…")
        log.info("opening X's authorization page")
        open_browser(authorization_url(client_id, redirect.redirect_uri, challenge, state,
                                       authorize_url=authorize_url))
        try:
            result = await redirect.wait(timeout)
        except (TimeoutError, asyncio.TimeoutError):
            raise XSignInTimedOut(f"Tend waited {round(timeout / 60)} minutes for you to approve it on X and stopped "
                                  "waiting. Start again when you are ready.") from None
    finally:
        await redirect.close()
    if result.error is not None:
        if result.error == "access_denied":
            raise XSignInDenied("Tend was not given access to your X account. Nothing was connected.")
        said = f" ({result.error_description})" if result.error_description else ""
        raise XSignInError(f"X did not let Tend in: {result.error}{said}.")
    status("Finishing the connection with X…")
    return await exchange_code(http, client_id, result.code or "", verifier, redirect.redirect_uri, clock=clock)


# -- who is this? ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class XIdentity:
    """The account a token belongs to."""

    remote_id: str
    username: str
    name: str
    followers_count: int = 0

    def account(self, api_base: str = API_BASE) -> Account:
        """The inbox account: its id is the numeric user id (a username can change; the id never does)."""
        return Account(id=f"x:{self.remote_id}", network="x", handle=f"@{self.username}", server_url=api_base,
                       display_name=self.name or self.username, remote_id=self.remote_id, char_limit=CHAR_LIMIT)


async def fetch_identity(http: HttpClient, access_token: str) -> XIdentity:
    """``GET /2/users/me``: who the token belongs to."""
    response = await http.request("GET", "/2/users/me", params={"user.fields": "public_metrics,name,username"},
                                  headers={"Authorization": f"Bearer {access_token}"}, accept_status=(401, 403))
    if response.status_code >= 400:
        raise XSignInError("X did not accept the new connection; start again from Tend.",
                           detail=f"/2/users/me -> {response.status_code}")
    try:
        data = response.json().get("data")
    except (ValueError, AttributeError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("username"), str):
        raise BadResponse("X did not say which account this connection belongs to.",
                          detail="/2/users/me: no id/username")
    metrics = data.get("public_metrics") if isinstance(data.get("public_metrics"), dict) else {}
    followers = metrics.get("followers_count")
    return XIdentity(data["id"], data["username"], str(data.get("name") or ""),
                     followers if isinstance(followers, int) else 0)
