"""Connecting Tend to a Mastodon account the way a desktop client should (no Qt, no SQLite).

The owner signs in on their own server, in their own browser: Tend registers itself once per server (the client id
and secret are kept in the keyring and reused), opens the authorization page with PKCE (S256) and a random
``state``, and listens on ``http://127.0.0.1:<port>/callback`` for the browser to bring the code back. Only the
scopes Tend needs are asked for: granular ones where the server offers them, else ``read write``.

Nothing secret (token, code, verifier, client secret) is ever logged: HttpClient redacts what it sends, and this
module logs only which step it is at.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import webbrowser
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from console.connectors.errors import AuthExpired, BadResponse, ConnectorError, InsecureURL, RateLimited, ServerError
from console.connectors.http import HttpClient, check_url_is_safe
from console.connectors.oauth_loopback import LoopbackRedirect, loopback_port, pkce_pair
from console.domain import Account
from console.secrets import off_loop

log = logging.getLogger(__name__)

CLIENT_NAME = "Tend"
# Read notifications, statuses (threads, conversations, markers, hashtag timelines), accounts (verify_credentials,
# profiles); search (brand watches); post replies. Mastodon has no separate conversations read scope:
# /api/v1/conversations is covered by read:statuses.
GRANULAR_SCOPES = ("read:accounts", "read:notifications", "read:statuses", "read:search", "write:statuses")
BROAD_SCOPES = ("read", "write")
DEFAULT_AUTH_TIMEOUT = 300.0
DEFAULT_CHAR_LIMIT = 500
_APP_KEY_PREFIX = "mastodon-app:"
_APP_KIND = "app"

OpenBrowser = Callable[[str], object]
Status = Callable[[str], None]


class AuthFailed(ConnectorError):
    """Signing in did not work; the message says why in the owner's words."""


class AuthDenied(AuthFailed):
    """The owner (or the server) said no on the authorization page."""


class AuthTimedOut(AuthFailed):
    """Nobody came back from the browser in time."""


class InvalidServer(ConnectorError):
    """What the owner typed is not a server address Tend can use."""


# -- server addresses ------------------------------------------------------------------------------------------------


def normalise_server_url(text: str) -> str:
    """``mastodon.social``, ``https://mastodon.social/about`` or ``@me@mastodon.social`` → ``https://mastodon.social``.

    Plain http is accepted only for this computer (a test or development server), so a token never crosses a
    network in clear text.
    """
    text = text.strip()
    if not text:
        raise InvalidServer("Enter the address of your Mastodon server, for example mastodon.social.")
    if "://" not in text and "@" in text:
        text = text.rsplit("@", 1)[1]  # a handle such as @shop@example.social
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = None
        parts = parts._replace(netloc="")
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme.lower() not in ("http", "https") or not host or any(c.isspace() for c in host):
        raise InvalidServer(f"“{text}” is not a server address Tend understands; try something like mastodon.social.")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    url = f"{parts.scheme.lower()}://{netloc}"
    check_url_is_safe(url, host)
    return url


def server_host(server_url: str) -> str:
    """The host (and port) of a server, as the owner would name it."""
    return urlsplit(server_url).netloc or server_url


def client_for(server_url: str, **kwargs: Any) -> HttpClient:
    """An HTTP session with a Mastodon server; errors name the server so the owner knows which one failed."""
    return HttpClient(server_url, service_name=server_host(server_url), **kwargs)


# -- app registration ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppRegistration:
    """Tend as registered on one server; reused for every sign-in there (and for revoking tokens)."""

    client_id: str
    client_secret: str = field(repr=False)  # never printed by accident
    redirect_uri: str = ""
    scopes: str = ""


class RegistrationStore(Protocol):
    """Where registrations are kept. Async, because an OS keyring may block while it asks to be unlocked."""

    async def load(self, server_url: str) -> AppRegistration | None: ...

    async def save(self, server_url: str, registration: AppRegistration) -> None: ...

    async def forget(self, server_url: str) -> None: ...


class KeyringRegistrations:
    """App registrations in the OS keyring, under ``mastodon-app:<server url>`` (the client secret is a secret).

    The keyring functions run on a worker thread; ``SecretStoreUnavailable`` from them reaches the caller.
    """

    def __init__(
        self,
        store: Callable[[str, str, str], None],
        load: Callable[[str, str], str | None],
        delete: Callable[[str, str], None],
    ) -> None:
        self._store, self._load, self._delete = store, load, delete

    @staticmethod
    def key(server_url: str) -> str:
        return f"{_APP_KEY_PREFIX}{server_url}"

    async def load(self, server_url: str) -> AppRegistration | None:
        raw = await off_loop(self._load, self.key(server_url), _APP_KIND)
        if not raw:
            return None
        try:
            return AppRegistration(**json.loads(raw))
        except (ValueError, TypeError):
            log.warning("ignoring an unreadable app registration for %s", server_url)
            return None

    async def save(self, server_url: str, registration: AppRegistration) -> None:
        await off_loop(self._store, self.key(server_url), _APP_KIND, json.dumps(asdict(registration)))

    async def forget(self, server_url: str) -> None:
        await off_loop(self._delete, self.key(server_url), _APP_KIND)


def _covers(scopes: str) -> bool:
    """Whether a saved registration may ask for everything Tend needs now (an app registered before Tend searched
    for brand watches lacks ``read:search``; registering again is how a reconnect gains it)."""
    granted = set(scopes.split())
    return "read" in granted or set(GRANULAR_SCOPES) <= granted


async def discover_scopes(http: HttpClient) -> str:
    """Granular scopes when the server lists them all, else the broad ``read write`` every Mastodon knows."""
    try:
        meta = await http.get_json("/.well-known/oauth-authorization-server")
    except (ServerError, RateLimited, InsecureURL):
        raise  # the server is unreachable or busy: say so now rather than after the browser step
    except ConnectorError as error:  # older servers have no metadata document
        log.info("no OAuth metadata (%s); asking for broad scopes", error.detail or error)
        return " ".join(BROAD_SCOPES)
    supported = meta.get("scopes_supported") if isinstance(meta, dict) else None
    if isinstance(supported, list) and set(GRANULAR_SCOPES) <= set(supported):
        return " ".join(GRANULAR_SCOPES)
    return " ".join(BROAD_SCOPES)


async def register_app(http: HttpClient, redirect_uri: str, scopes: str, website: str | None = None) -> AppRegistration:
    """``POST /api/v1/apps``: Tend introduces itself to the server."""
    form = {"client_name": CLIENT_NAME, "redirect_uris": redirect_uri, "scopes": scopes}
    if website:
        form["website"] = website
    body = await http.request_json("POST", "/api/v1/apps", data=form)
    client_id = body.get("client_id") if isinstance(body, dict) else None
    client_secret = body.get("client_secret") if isinstance(body, dict) else None
    if not isinstance(client_id, str) or not isinstance(client_secret, str) or not client_id or not client_secret:
        raise BadResponse(
            f"{http.service_name} did not accept Tend as an app (its answer had no client id).",
            detail="POST /api/v1/apps: client_id/client_secret missing",
        )
    log.info("registered Tend with %s", http.service_name)
    return AppRegistration(client_id, client_secret, redirect_uri, scopes)


# -- the authorization page ----------------------------------------------------------------------------------------


def authorization_url(server_url: str, registration: AppRegistration, challenge: str, state: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": registration.client_id,
            "redirect_uri": registration.redirect_uri,
            "scope": registration.scopes,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{server_url}/oauth/authorize?{query}"


# -- the whole sign-in -----------------------------------------------------------------------------------------------


def _plain_minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes >= 1:
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"{round(seconds)} seconds"


async def sign_in(
    server_url: str,
    *,
    registrations: RegistrationStore,
    open_browser: OpenBrowser = webbrowser.open,
    timeout: float = DEFAULT_AUTH_TIMEOUT,
    on_status: Status | None = None,
    http: HttpClient | None = None,
) -> str:
    """Run the browser sign-in and return the access token. Cancelling the awaiting task stops the listener."""
    status = on_status or (lambda _text: None)
    owns_http = http is None
    http = http or client_for(server_url)
    host = http.service_name
    try:
        saved = await registrations.load(server_url)  # asks the keyring first: fail before the browser, not after
        state = secrets.token_urlsafe(32)
        verifier, challenge = pkce_pair()
        redirect = LoopbackRedirect(state)
        await redirect.start(preferred_port=loopback_port(saved.redirect_uri) if saved else None)
        try:
            if saved is not None and saved.redirect_uri == redirect.redirect_uri and _covers(saved.scopes):
                registration = saved
            else:
                status(f"Registering Tend with {host}…")
                scopes = await discover_scopes(http)
                registration = await register_app(http, redirect.redirect_uri, scopes)
                await registrations.save(server_url, registration)
            url = authorization_url(server_url, registration, challenge, state)
            status(f"Waiting for you to approve Tend in your browser ({host})…")
            log.info("opening the authorization page of %s", host)
            open_browser(url)
            try:
                result = await redirect.wait(timeout)
            except (TimeoutError, asyncio.TimeoutError):
                raise AuthTimedOut(
                    f"Tend waited {_plain_minutes(timeout)} for you to approve it in the browser and stopped "
                    "waiting. Start again when you are ready."
                ) from None
        finally:
            await redirect.close()
        if result.error is not None:
            if result.error == "access_denied":
                raise AuthDenied(f"Tend was not given access to your account on {host}. Nothing was connected.")
            said = f" ({result.error_description})" if result.error_description else ""
            raise AuthFailed(f"{host} did not let Tend in: {result.error}{said}.")
        status(f"Finishing the connection with {host}…")
        return await exchange_code(http, server_url, registration, result.code or "", verifier, registrations)
    finally:
        if owns_http:
            await http.aclose()


async def exchange_code(
    http: HttpClient,
    server_url: str,
    registration: AppRegistration,
    code: str,
    verifier: str,
    registrations: RegistrationStore | None = None,
) -> str:
    """``POST /oauth/token``: the code and the PKCE verifier in exchange for an access token."""
    response = await http.request(
        "POST",
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": registration.redirect_uri,
            "client_id": registration.client_id,
            "client_secret": registration.client_secret,
            "code_verifier": verifier,
        },
        accept_status=(400, 401, 403),
    )
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        if error == "invalid_client" and registrations is not None:
            await registrations.forget(server_url)  # the server forgot Tend; the next attempt registers again
            raise AuthFailed(f"{http.service_name} no longer recognises Tend's registration; connect again.")
        raise AuthFailed(
            f"{http.service_name} refused to finish the sign-in ({error or response.status_code}); "
            "start again from Tend."
        )
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise BadResponse(f"{http.service_name} finished the sign-in without giving Tend an access token.",
                          detail="POST /oauth/token: no access_token")
    return token


# -- who is this? ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MastodonIdentity:
    """The account a token belongs to, and what its server allows."""

    server_url: str
    remote_id: str
    username: str
    domain: str
    display_name: str
    url: str
    char_limit: int

    @property
    def handle(self) -> str:
        return f"@{self.username}@{self.domain}"

    def account(self) -> Account:
        return Account(
            id=f"mastodon:{self.username}@{self.domain}",
            network="mastodon",
            handle=self.handle,
            server_url=self.server_url,
            display_name=self.display_name or self.username,
            remote_id=self.remote_id,
            char_limit=self.char_limit,
        )


async def fetch_identity(http: HttpClient, server_url: str, token: str) -> MastodonIdentity:
    """``verify_credentials`` for who the token is, and the instance for its domain and post length limit."""
    auth = {"Authorization": f"Bearer {token}"}
    response = await http.request("GET", "/api/v1/accounts/verify_credentials", headers=auth,
                                  accept_status=(401, 403))
    if response.status_code == 401:
        raise AuthFailed(
            f"{http.service_name} did not accept this access token: check that it was copied whole and has not "
            "been revoked."
        )
    if response.status_code == 403:
        raise AuthFailed(
            f"{http.service_name} accepted the token but will not let it read your account: give it the scopes "
            f"{' '.join(GRANULAR_SCOPES)} (or read and write)."
        )
    try:
        me = response.json()
    except ValueError:
        me = None
    if not isinstance(me, dict) or not me.get("id") or not me.get("username"):
        raise BadResponse(f"{http.service_name} did not say which account this token belongs to.",
                          detail="verify_credentials: no id/username")
    domain, limit = await _instance_facts(http, auth)
    return MastodonIdentity(
        server_url=server_url,
        remote_id=str(me["id"]),
        username=str(me["username"]),
        domain=domain or server_host(server_url),
        display_name=str(me.get("display_name") or ""),
        url=str(me.get("url") or ""),
        char_limit=limit,
    )


async def _instance_facts(http: HttpClient, auth: dict[str, str]) -> tuple[str, int]:
    """(domain, max characters) from ``/api/v2/instance``, or ``/api/v1/instance`` on older and compatible servers."""
    for path in ("/api/v2/instance", "/api/v1/instance"):
        try:
            info = await http.get_json(path, headers=auth)
        except (AuthExpired, ServerError, RateLimited, InsecureURL):
            raise
        except ConnectorError:
            continue
        if not isinstance(info, dict):
            continue
        statuses = (info.get("configuration") or {}).get("statuses") or {}
        limit = statuses.get("max_characters") or info.get("max_toot_chars")  # max_toot_chars: Pleroma, Akkoma
        domain = info.get("domain") if path.startswith("/api/v2") else info.get("uri")
        domain = domain if isinstance(domain, str) and domain and "/" not in domain else ""
        return domain.lower(), int(limit) if isinstance(limit, (int, float)) and limit > 0 else DEFAULT_CHAR_LIMIT
    return "", DEFAULT_CHAR_LIMIT


async def revoke_token(http: HttpClient, token: str, registration: AppRegistration | None) -> None:
    """``POST /oauth/revoke``; the server needs the client credentials of the app the token was issued to."""
    form = {"token": token}
    if registration is not None:
        form |= {"client_id": registration.client_id, "client_secret": registration.client_secret}
    await http.request("POST", "/oauth/revoke", data=form)
