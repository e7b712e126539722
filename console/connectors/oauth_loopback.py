"""The pieces of a desktop OAuth sign-in every network shares: PKCE (RFC 7636) and the loopback redirect (RFC 8252).

The browser brings the authorization code back to ``http://127.0.0.1:<port>/callback``, where a one-shot listener
on the asyncio loop (the qasync loop in the app) is waiting: no thread, nothing that blocks the Qt event loop.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import html
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

CALLBACK_PATH = "/callback"
LOOPBACK_HOST = "127.0.0.1"
# A browser sends its request at once; a connection that says nothing for this long is not a browser.
_REQUEST_READ_TIMEOUT = 10.0


def pkce_pair() -> tuple[str, str]:
    """A fresh code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)  # 86 characters, inside the 43..128 the RFC allows
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# -- the loopback redirect -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallbackResult:
    code: str | None = None
    error: str | None = None
    error_description: str = ""

    def __repr__(self) -> str:
        return f"CallbackResult(code={'[redacted]' if self.code else None}, error={self.error!r})"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tend</title>
<style>body{{font-family:system-ui,sans-serif;margin:4em auto;max-width:32em;color:#333}}h1{{font-size:1.4em}}</style>
</head><body><h1>{title}</h1><p>{text}</p></body></html>"""


def _page(title: str, text: str) -> bytes:
    return _PAGE.format(title=html.escape(title), text=html.escape(text)).encode("utf-8")


class LoopbackRedirect:
    """A one-shot HTTP listener on 127.0.0.1 that receives the browser's redirect with the code.

    Only ``GET /callback`` carrying this attempt's ``state`` counts; anything else (a favicon request, a stale tab
    from an earlier attempt, a forged request) gets a page and the listener keeps waiting.
    """

    def __init__(self, state: str) -> None:
        self._state = state
        self._server: asyncio.Server | None = None
        self._result: asyncio.Future[CallbackResult] | None = None
        self.port = 0

    @property
    def redirect_uri(self) -> str:
        return f"http://{LOOPBACK_HOST}:{self.port}{CALLBACK_PATH}"

    async def start(self, preferred_port: int | None = None) -> None:
        self._result = asyncio.get_running_loop().create_future()
        if preferred_port:
            with contextlib.suppress(OSError):
                self._server = await asyncio.start_server(self._handle, LOOPBACK_HOST, preferred_port)
        if self._server is None:
            self._server = await asyncio.start_server(self._handle, LOOPBACK_HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def wait(self, timeout: float) -> CallbackResult:
        assert self._result is not None, "start() first"
        return await asyncio.wait_for(asyncio.shield(self._result), timeout)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None
        if self._result is not None and not self._result.done():
            self._result.cancel()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), _REQUEST_READ_TIMEOUT)
            while True:  # headers: nothing in them matters, but a browser expects them to be read
                line = await asyncio.wait_for(reader.readline(), _REQUEST_READ_TIMEOUT)
                if line in (b"\r\n", b"\n", b""):
                    break
            status, body = self._answer(request_line.decode("latin-1"))
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
                "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
        except (TimeoutError, asyncio.TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _answer(self, request_line: str) -> tuple[str, bytes]:
        parts = request_line.split()
        if len(parts) < 2 or parts[0] != "GET":
            return "405 Method Not Allowed", _page("Tend", "This address only receives the answer from your server.")
        target = urlsplit(parts[1])
        if target.path != CALLBACK_PATH:
            return "404 Not Found", _page("Tend", "Nothing here.")
        params = {k: v[0] for k, v in parse_qs(target.query, keep_blank_values=True).items()}
        if not hmac.compare_digest(params.get("state", "").encode(), self._state.encode()):
            log.warning("ignored a sign-in callback with the wrong state")
            return "400 Bad Request", _page(
                "This sign-in is out of date",
                "This answer does not belong to the sign-in Tend is waiting for. "
                "Use the most recent tab Tend opened, or start again from Tend.",
            )
        if params.get("error") or not params.get("code"):
            result = CallbackResult(error=params.get("error") or "no_code",
                                    error_description=params.get("error_description", ""))
            answer = ("200 OK", _page("Tend was not connected",
                                      "You did not give Tend access. You can close this tab and return to Tend."))
        else:
            result = CallbackResult(code=params["code"])
            answer = ("200 OK", _page("Tend is connected", "You can close this tab and return to Tend."))
        if self._result is not None and not self._result.done():
            self._result.set_result(result)
        return answer


def loopback_port(uri: str) -> int | None:
    """The port of a redirect URI this module made, so a later sign-in can listen there again."""
    try:
        parts = urlsplit(uri)
        return parts.port if parts.hostname == LOOPBACK_HOST and parts.path == CALLBACK_PATH else None
    except ValueError:
        return None
