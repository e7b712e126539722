"""Connecting a Bluesky account and keeping its session alive (no Qt, no SQLite).

At add time: the handle (or DID) the owner typed is resolved to a DID (``com.atproto.identity.resolveHandle``), the
DID to its document (asked of the same service first, else the PLC directory for ``did:plc`` or
``/.well-known/did.json`` for ``did:web``), and the document to the account's own server, its PDS (the
``#atproto_pds`` service): Bluesky accounts live on many servers, not only bsky.social. Then ``createSession`` runs once on that PDS with the app password. Only the refresh token is
kept (in the keyring); the app password is forgotten as soon as the call returns.

At sync time ``Session`` trades the refresh token for short-lived access tokens (``refreshSession``), before the
access token expires and whenever the server says it has; every rotation of the refresh token is handed to
``save_refresh_token`` at once. ``createSession`` is never called again: Bluesky rate-limits it hard.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx

from console.connectors.errors import AuthExpired, BadResponse, ConnectorError, RateLimited
from console.connectors.http import HttpClient, check_url_is_safe, is_loopback_host
from console.domain import Account, utc_now

log = logging.getLogger(__name__)

DEFAULT_SERVICE = "https://bsky.social"
DEFAULT_PLC = "https://plc.directory"
APP_PASSWORDS_HELP = "Settings → Privacy and security → App passwords on bsky.app"
CHAR_LIMIT = 300
# Refresh this long before the access token's own expiry, so a request never leaves with a token about to lapse.
REFRESH_MARGIN = timedelta(seconds=60)
_HANDLE = re.compile(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
_DID = re.compile(r"did:(plc:[a-z2-7]{24}|web:[A-Za-z0-9.%-]+)")
TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"})

SaveToken = Callable[[str], None | Awaitable[None]]


class BlueskySignInError(ConnectorError):
    """Connecting the account failed for a reason the owner can act on; the message says which."""


def xrpc_error(response: httpx.Response) -> tuple[str, str]:
    """(error name, message) of an XRPC error body; empty strings when the body is not one."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    name, message = body.get("error"), body.get("message")
    return (name if isinstance(name, str) else ""), (message[:300] if isinstance(message, str) else "")


def decode_json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise BadResponse("Bluesky sent a reply Tend could not read — Tend will try again later",
                          detail=f"{what} -> {response.status_code}: not a JSON object, {len(response.content)} bytes")
    return body


def token_expiry(token: str) -> datetime | None:
    """The ``exp`` claim of a JWT, read without verifying it (Tend only needs to know when to refresh)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(float(claims["exp"]), timezone.utc)
    except (IndexError, ValueError, KeyError, TypeError, OverflowError):
        return None


def token_scope(token: str) -> str:
    try:
        payload = token.split(".")[1]
        scope = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("scope")
    except (IndexError, ValueError, AttributeError):
        return ""
    return scope if isinstance(scope, str) else ""


def client_for(url: str, **kwargs: Any) -> HttpClient:
    return HttpClient(url, service_name="Bluesky", **kwargs)


# ------------------------------------------------------------------------------------------------ at sync time


class Session:
    """Access tokens for one account, from its refresh token; safe to share between concurrent requests."""

    def __init__(self, http: HttpClient, refresh_token: str, *, account_did: str, handle: str,
                 clock: Callable[[], datetime] = utc_now, save_refresh_token: SaveToken | None = None) -> None:
        self._http = http
        self._refresh_token = refresh_token
        self._did = account_did
        self._handle = handle
        self._clock = clock
        self._save = save_refresh_token
        self._access: str | None = None
        self._expires_at: datetime | None = None
        self._lock = asyncio.Lock()

    @property
    def refresh_token(self) -> str:
        return self._refresh_token

    async def access_token(self) -> str:
        """A token valid for at least ``REFRESH_MARGIN``, refreshing first when needed."""
        if self._access is None or self._expiring():
            await self.refresh(self._access)
        assert self._access is not None
        return self._access

    def _expiring(self) -> bool:
        return self._expires_at is not None and self._expires_at - self._clock() <= REFRESH_MARGIN

    async def refresh(self, stale: str | None) -> None:
        """``refreshSession``; ``stale`` is the token a request failed with (another request may have refreshed)."""
        async with self._lock:
            if self._access is not None and self._access != stale and not self._expiring():
                return
            response = await self._http.request(
                "POST", "/xrpc/com.atproto.server.refreshSession",
                headers={"Authorization": f"Bearer {self._refresh_token}"},
                accept_status=(400, 401, 403),
                # The PDS accepts a just-rotated refresh token again for a grace period: a lost answer can be retried.
                retry_unsafe=True,
            )
            if response.status_code >= 400:
                name, message = xrpc_error(response)
                raise AuthExpired(
                    f"Bluesky no longer accepts Tend's sign-in for {self._handle}; reconnect the account "
                    "(Accounts…, or `tend account add bluesky`).",
                    detail=f"refreshSession -> {response.status_code} {name}: {message}",
                )
            body = decode_json(response, "refreshSession")
            access, refresh, did = body.get("accessJwt"), body.get("refreshJwt"), body.get("did")
            if not isinstance(access, str) or not isinstance(refresh, str) or not access or not refresh:
                raise BadResponse("Bluesky sent a reply Tend could not read — Tend will try again later",
                                  detail="refreshSession: accessJwt/refreshJwt missing")
            if did != self._did:
                raise AuthExpired(f"Bluesky signed Tend in as another account than {self._handle}; reconnect it.",
                                  detail=f"refreshSession returned {did!r}, expected {self._did!r}")
            self._access, self._expires_at = access, token_expiry(access)
            if refresh != self._refresh_token:
                self._refresh_token = refresh
                await self._store(refresh)
            log.debug("refreshed the Bluesky session of %s", self._did)

    async def _store(self, refresh: str) -> None:
        if self._save is None:
            return
        try:
            outcome = self._save(refresh)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:  # the session still works now; the owner may have to reconnect after a restart
            log.exception("could not save the rotated Bluesky refresh token of %s", self._did)


# ------------------------------------------------------------------------------------------------ at add time


@dataclass(frozen=True, slots=True)
class Identity:
    did: str
    handle: str
    pds_url: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The connected account and the one secret to keep (``refresh_token``)."""

    account: Account
    refresh_token: str = field(repr=False)
    main_password: bool = False  # the owner gave their account password instead of an app password


def normalise_identifier(text: str) -> str:
    """``@Shop.bsky.social `` → ``shop.bsky.social``; a DID stays as it is."""
    text = text.strip().removeprefix("@").strip()
    if text.startswith("did:"):
        if not _DID.fullmatch(text):
            raise BlueskySignInError(f"“{text}” is not a Bluesky DID Tend understands.")
        return text
    handle = text.lower().rstrip(".")
    if not _HANDLE.fullmatch(handle):
        raise BlueskySignInError(
            f"“{text}” is not a Bluesky handle; a handle looks like yourshop.bsky.social (or your own domain)."
        )
    return handle


def normalise_service_url(text: str | None, default: str = DEFAULT_SERVICE) -> str:
    text = (text or "").strip() or default
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlueskySignInError(f"“{text}” is not a server address Tend understands; try https://bsky.social.")
    url = f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
    check_url_is_safe(url, parts.hostname)
    return url


async def resolve_handle(http: HttpClient, service: str, handle: str) -> str:
    response = await http.request("GET", f"{service}/xrpc/com.atproto.identity.resolveHandle",
                                  params={"handle": handle}, accept_status=(400, 404))
    if response.status_code >= 400:
        raise BlueskySignInError(
            f"Bluesky could not find the handle @{handle}: check the spelling (it looks like yourshop.bsky.social).",
            detail=f"resolveHandle -> {response.status_code} {xrpc_error(response)}",
        )
    did = decode_json(response, "resolveHandle").get("did")
    if not isinstance(did, str) or not _DID.fullmatch(did):
        raise BadResponse(f"Bluesky answered with something other than an account for @{handle}.",
                          detail=f"resolveHandle did={str(did)[:80]!r}")
    return did


def did_document_url(did: str, plc_url: str) -> str:
    if did.startswith("did:plc:"):
        return f"{plc_url.rstrip('/')}/{quote(did, safe=':')}"
    host = unquote(did.removeprefix("did:web:"))  # a port is written %3A (atproto allows one only on localhost)
    hostname = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if not hostname or "/" in host or (hostname != host and not is_loopback_host(hostname)):
        raise BlueskySignInError(f"Tend cannot look up the account {did}.")
    scheme = "http" if is_loopback_host(hostname) else "https"
    return f"{scheme}://{host}/.well-known/did.json"


def pds_endpoint(document: Any, did: str) -> tuple[str, str]:
    """(PDS url, handle) from a DID document."""
    if not isinstance(document, dict) or document.get("id") != did:
        raise BadResponse("Bluesky's directory answered with another account's details.",
                          detail=f"DID document id {str(document.get('id') if isinstance(document, dict) else '')!r}")
    handle = ""
    for alias in document.get("alsoKnownAs") or []:
        if isinstance(alias, str) and alias.startswith("at://"):
            handle = alias.removeprefix("at://")
            break
    for service in document.get("service") or []:
        if isinstance(service, dict) and str(service.get("id", "")).endswith("#atproto_pds"):
            endpoint = service.get("serviceEndpoint")
            if isinstance(endpoint, str) and endpoint:
                return normalise_service_url(endpoint), handle
    raise BlueskySignInError("This Bluesky account names no server to sign in to (its identity has no PDS).",
                             detail=f"no #atproto_pds service in the DID document of {did}")


_NOT_HERE = (400, 401, 403, 404, 405, 500, 501, 502, 503)


async def did_document(http: HttpClient, service: str, did: str, plc_url: str) -> Any:
    """The DID document. The service is asked first, since it knows its own network's directory (which is how a
    local development network works): ``resolveDid`` where it answers without signing in, else ``describeRepo``
    (the PDS hosting the account always answers it). Else the PLC directory (``did:plc``) or web host (``did:web``)."""
    for nsid, params in (("com.atproto.identity.resolveDid", {"did": did}),
                         ("com.atproto.repo.describeRepo", {"repo": did})):
        response = await http.request("GET", f"{service}/xrpc/{nsid}", params=params, accept_status=_NOT_HERE)
        if response.status_code < 400:
            document = decode_json(response, nsid).get("didDoc")
            if isinstance(document, dict) and document.get("id") == did:
                return document
        elif xrpc_error(response)[0] in ("DidNotFound", "DidDeactivated"):
            raise BlueskySignInError(f"Bluesky no longer knows the account {did}.",
                                     detail=f"{nsid} -> {response.status_code} {xrpc_error(response)}")
    response = await http.request("GET", did_document_url(did, plc_url), accept_status=(404, 410))
    if response.status_code >= 400:
        raise BlueskySignInError(f"The Bluesky directory does not know the account {did}.",
                                 detail=f"DID document of {did} -> {response.status_code}")
    return decode_json(response, "DID document")


async def resolve_identity(identifier: str, *, service: str, plc_url: str,
                           http_factory: Callable[[str], HttpClient] = client_for) -> Identity:
    """Handle or DID → DID → DID document → the account's PDS."""
    http = http_factory(service)
    try:
        did = identifier if identifier.startswith("did:") else await resolve_handle(http, service, identifier)
        pds, handle = pds_endpoint(await did_document(http, service, did, plc_url), did)
    finally:
        await http.aclose()
    if not identifier.startswith("did:") and handle and handle.lower() != identifier:
        raise BlueskySignInError(f"@{identifier} does not confirm it belongs to {did}; check the handle.",
                                 detail=f"alsoKnownAs at://{handle}")
    return Identity(did, handle or identifier, pds)


async def sign_in(identifier: str, app_password: str, *, service: str | None = None, plc_url: str | None = None,
                  http_factory: Callable[[str], HttpClient] = client_for) -> SignedIn:
    """Resolve the account, then ``createSession`` once on its own PDS. The password is not kept anywhere."""
    identifier = normalise_identifier(identifier)
    password = app_password.strip()
    if not password:
        raise BlueskySignInError(f"No app password was given. Create one in {APP_PASSWORDS_HELP}.")
    identity = await resolve_identity(identifier, service=normalise_service_url(service),
                                      plc_url=normalise_service_url(plc_url, DEFAULT_PLC), http_factory=http_factory)
    http = http_factory(identity.pds_url)
    try:
        try:
            response = await http.request(
                "POST", "/xrpc/com.atproto.server.createSession",
                json={"identifier": identity.did, "password": password}, accept_status=(400, 401, 403),
            )
        except RateLimited as error:
            raise RateLimited(
                "Bluesky limits how often an account can sign in, and this one has reached the limit: wait "
                f"{_wait_words(error.retry_after)} before trying again.",
                detail=error.detail, retry_after=error.retry_after,
            ) from None
        if response.status_code >= 400:
            raise _refused(response, identity.handle)
        body = decode_json(response, "createSession")
        profile = await _display_name(http, body.get("accessJwt"), identity.did)
    finally:
        await http.aclose()
    refresh, did = body.get("refreshJwt"), body.get("did")
    if not isinstance(refresh, str) or not refresh:
        raise BadResponse("Bluesky signed Tend in but gave it no session to keep.",
                          detail="createSession: refreshJwt missing")
    if did != identity.did:
        raise BlueskySignInError(f"Bluesky signed Tend in to another account than @{identity.handle}.",
                                 detail=f"createSession did {did!r} != {identity.did!r}")
    handle = body.get("handle") if isinstance(body.get("handle"), str) else identity.handle
    account = Account(id=f"bluesky:{did}", network="bluesky", handle=f"@{handle}", server_url=identity.pds_url,
                      display_name=profile or handle, remote_id=did, char_limit=CHAR_LIMIT)
    main = token_scope(str(body.get("accessJwt", ""))) == "com.atproto.access"
    if main:
        log.warning("%s was connected with the account password, not an app password", account.id)
    return SignedIn(account, refresh, main_password=main)


def _refused(response: httpx.Response, handle: str) -> ConnectorError:
    name, message = xrpc_error(response)
    detail = f"createSession -> {response.status_code} {name}: {message}"
    if name == "AuthFactorTokenRequired":
        return BlueskySignInError(
            f"@{handle} asks for an email code when signing in; use an app password instead "
            f"(create one in {APP_PASSWORDS_HELP}).", detail=detail)
    if name in ("AccountTakedown", "AccountDeactivated") or "takendown" in message.lower():
        return BlueskySignInError(f"Bluesky says @{handle} is suspended or deactivated, so Tend cannot connect it.",
                                  detail=detail)
    return BlueskySignInError(
        f"Bluesky did not accept this app password for @{handle}: check that it was copied whole and has not "
        f"been revoked (app passwords are in {APP_PASSWORDS_HELP}).", detail=detail)


async def _display_name(http: HttpClient, access: Any, did: str) -> str:
    """The account's display name, for the accounts list; not worth failing the connection over."""
    if not isinstance(access, str):
        return ""
    try:
        body = await http.get_json("/xrpc/app.bsky.actor.getProfile", params={"actor": did},
                                   headers={"Authorization": f"Bearer {access}"})
    except ConnectorError as error:
        log.info("no profile for %s: %s", did, error.detail or error)
        return ""
    name = body.get("displayName") if isinstance(body, dict) else None
    return name.strip()[:200] if isinstance(name, str) else ""


async def end_session(http: HttpClient, refresh_token: str) -> None:
    """``deleteSession``: the refresh token stops working on the server."""
    await http.request("POST", "/xrpc/com.atproto.server.deleteSession",
                       headers={"Authorization": f"Bearer {refresh_token}"})


def _wait_words(seconds: float | None) -> str:
    if seconds is None or seconds < 90:
        return "a few minutes"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} minutes"
    return f"about {round(seconds / 3600)} hours"
