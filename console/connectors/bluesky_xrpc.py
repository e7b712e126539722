"""Authorised XRPC calls to the account's PDS: the access token attached, refreshed and retried when it lapses.

Bluesky reports an expired access token as ``400 ExpiredToken`` (not 401), and an unusable one as ``401`` or
``400 InvalidToken``; either way the session is refreshed once and the call repeated. A token that is valid but may
not do this (``Bad token scope``, e.g. an app password without access to direct messages) is *not* an expired
session: it is reported as ``Forbidden`` so the account is not marked for reconnection over it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import httpx

from console.connectors.bluesky_session import Session, xrpc_error
from console.connectors.errors import AuthExpired, BadResponse, ConnectorError, ServerError
from console.connectors.http import HttpClient, redact_url

UNREADABLE = "Bluesky sent a reply Tend could not read — Tend will try again later"


class Forbidden(ConnectorError):
    """The session is fine but may not do this (an app password's scope, a block, a disabled feature)."""


def _is_scope_error(name: str, message: str) -> bool:
    return name == "InvalidToken" and message.lower().startswith(("bad token scope", "bad token method"))


def _is_session_error(status: int, name: str, message: str) -> bool:
    if _is_scope_error(name, message):
        return False
    return status == 401 or (status == 400 and name in ("ExpiredToken", "InvalidToken"))


def decode(response: httpx.Response) -> dict[str, Any]:
    """An XRPC answer body (always a JSON object), or ``BadResponse``."""
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        body, problem = None, f"invalid JSON ({exc.__class__.__name__})"
    else:
        problem = f"a JSON {type(body).__name__}, not an object"
    if not isinstance(body, dict):
        raise BadResponse(UNREADABLE, detail=f"{response.request.method} {redact_url(response.request.url)} -> "
                                             f"{response.status_code}: {problem}, {len(response.content)} bytes")
    return body


class Xrpc:
    """``/xrpc/<nsid>`` on one PDS, as one account."""

    def __init__(self, http: HttpClient, session: Session, handle: str) -> None:
        self.http = http
        self.session = session
        self._handle = handle

    async def call(
        self,
        method: str,
        nsid: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        accept: Collection[int] = (),
        retry_unsafe: bool = False,
    ) -> httpx.Response:
        """The response; statuses in ``accept`` are returned for the caller to read, others raise."""
        for attempt in (1, 2):
            token = await self.session.access_token()
            response = await self.http.request(
                method, f"/xrpc/{nsid}", params=params, json=json_body,
                headers={**(headers or {}), "Authorization": f"Bearer {token}"},
                accept_status={400, 401, 403, *accept}, retry_unsafe=retry_unsafe,
            )
            status = response.status_code
            if status < 400:
                return response
            name, message = xrpc_error(response)
            if _is_session_error(status, name, message):
                if attempt == 1:
                    await self.session.refresh(token)
                    continue
                raise AuthExpired(
                    f"Bluesky no longer accepts Tend's sign-in for {self._handle}; reconnect the account "
                    "(Accounts…, or `tend account add bluesky`).",
                    detail=f"{nsid} -> {status} {name}: {message}",
                )
            if status in accept:
                return response
            raise self.error(response, nsid)
        raise AssertionError("unreachable")  # pragma: no cover

    async def get(self, nsid: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        return decode(await self.call("GET", nsid, params=params, **kwargs))

    @staticmethod
    def error(response: httpx.Response, nsid: str) -> ConnectorError:
        status = response.status_code
        name, message = xrpc_error(response)
        detail = f"{nsid} -> {status} {name}: {message}"
        because = f": {message}" if message else ""
        if _is_scope_error(name, message) or status == 403:
            return Forbidden(f"Bluesky does not let Tend's app password do this{because}", detail=detail)
        if status == 404 or name in ("NotFound", "RecordNotFound"):
            return ConnectorError(f"Bluesky could not find what Tend asked for{because}", detail=detail)
        if status >= 500:
            return ServerError(f"Bluesky is having trouble (server error {status}) — Tend will try again later",
                               detail=detail)
        return ConnectorError(f"Bluesky refused the request (error {status}){because}", detail=detail)


def error_name(response: httpx.Response) -> str:
    return xrpc_error(response)[0]
