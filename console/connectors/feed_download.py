"""Downloading one feed document, safely: capped, conditional, and every redirect checked like the first address.

Feeds come from anywhere, so the body is capped while it arrives (compressed and decompressed, so a gzip bomb stops
at the cap), a conditional GET (``If-None-Match`` / ``If-Modified-Since``) lets an unchanged feed cost the site a
``304``, and redirects are followed here rather than by httpx so each hop is checked (https only, never from the
internet to this computer). Every way a site can answer without a feed becomes ``FeedUnreadable`` in plain words.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from console.connectors.feed_address import FeedUnreadable, check_feed_url, host_of
from console.connectors.http import DEFAULT_TIMEOUT, HttpClient, is_loopback_host, redact_url
from console.domain import utc_now

# Review and blog feeds are tens of kilobytes; a few megabytes is already a podcast archive. Past this, stop reading.
MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
ACCEPT = ("application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, "
          "text/xml;q=0.8, */*;q=0.1")
_REDIRECTS = (301, 302, 303, 307, 308)
_PERMANENT = (301, 308)
# 4xx answers are the site's word about this address, not a reason to reconnect anything: mapped here, in plain words.
_CLIENT_ERRORS = tuple(status for status in range(400, 500) if status != 429)


class _BodyRefused(Exception):
    """Raised inside the transport; deliberately not an ``httpx`` error, so the HTTP client neither retries it nor
    words it as a network failure."""


class _TooLarge(_BodyRefused):
    pass


class _BadEncoding(_BodyRefused):
    pass


class _CappedStream(httpx.AsyncByteStream):
    """The body as it arrives, decompressed here (so the cap applies to what would be held), stopped at the cap."""

    def __init__(self, inner: httpx.AsyncByteStream, limit: int, decoder: Any | None) -> None:
        self._inner = inner
        self._limit = limit
        self._decoder = decoder

    async def __aiter__(self) -> AsyncIterator[bytes]:
        total = 0
        async for chunk in self._inner:
            if self._decoder is not None:
                try:
                    # Never more than one byte past what is still allowed, whatever the compression ratio.
                    chunk = self._decoder.decompress(chunk, self._limit - total + 1)
                except zlib.error as error:
                    raise _BadEncoding(f"compressed body is corrupt: {error}") from None
            total += len(chunk)
            if total > self._limit:
                raise _TooLarge(f"more than {self._limit} bytes")
            if chunk:
                yield chunk
        if self._decoder is not None:
            try:
                rest = self._decoder.flush()
            except zlib.error as error:
                raise _BadEncoding(f"compressed body is corrupt: {error}") from None
            if total + len(rest) > self._limit:
                raise _TooLarge(f"more than {self._limit} bytes")
            if rest:
                yield rest

    async def aclose(self) -> None:
        await self._inner.aclose()


class CappedTransport(httpx.AsyncBaseTransport):
    """Wraps a transport so no response body grows past ``limit`` bytes, compressed or not.

    gzip and deflate are decoded here (and the ``Content-Encoding`` removed) rather than by httpx, because httpx
    would inflate a few kilobytes into gigabytes before anything could count them.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int = MAX_FEED_BYTES) -> None:
        self._inner = inner
        self._limit = limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        declared = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        decoder = None
        if encoding in ("gzip", "x-gzip"):
            decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            decoder = zlib.decompressobj(zlib.MAX_WBITS)
        elif encoding not in ("", "identity"):
            await response.aclose()
            raise _BadEncoding(f"unsupported content encoding {encoding[:40]!r}")
        if encoding in ("", "identity") and declared.isdigit() and int(declared) > self._limit:
            await response.aclose()
            raise _TooLarge(f"announced {declared} bytes")
        headers = httpx.Headers(response.headers)
        if decoder is not None:
            for name in ("content-encoding", "content-length"):
                headers.pop(name, None)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(response.status_code, headers=headers,
                              stream=_CappedStream(response.stream, self._limit, decoder),
                              extensions=response.extensions)

    async def aclose(self) -> None:
        await self._inner.aclose()


def client_for(
    feed_url: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    max_bytes: int = MAX_FEED_BYTES,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], datetime] = utc_now,
    max_attempts: int = 3,
) -> HttpClient:
    """An HTTP session for one feed; its errors name the feed's site so the owner knows which one failed."""
    return HttpClient(
        service_name=f"The feed at {host_of(feed_url) or 'this address'}",
        transport=CappedTransport(transport or httpx.AsyncHTTPTransport(), max_bytes),
        timeout=timeout, sleep=sleep, clock=clock, max_attempts=max_attempts,
    )


@dataclass(frozen=True, slots=True)
class Download:
    """One feed document as it arrived. ``url`` is where it was finally read; ``permanent_url`` is the address to
    use from now on (changed only by permanent redirects)."""

    url: str
    permanent_url: str
    body: bytes
    content_type: str
    etag: str | None
    modified: str | None


async def download(
    http: HttpClient, url: str, *, etag: str | None = None, modified: str | None = None,
    max_bytes: int = MAX_FEED_BYTES,
) -> Download | None:
    """GET the feed, following redirects (each checked as the first address was); ``None`` means not modified."""
    headers = {"Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    permanent, current, moved_for_good = url, url, True
    for _hop in range(MAX_REDIRECTS + 1):
        check_feed_url(current)
        try:
            response = await http.request("GET", current, headers=headers, accept_status=_CLIENT_ERRORS)
        except _TooLarge as error:
            raise FeedUnreadable(url, f"it is larger than Tend reads ({_size(max_bytes)})",
                                 detail=f"{redact_url(current)}: {error}") from None
        except _BodyRefused as error:
            raise FeedUnreadable(url, "the site sent a reply Tend cannot decode",
                                 detail=f"{redact_url(current)}: {error}") from None
        status = response.status_code
        if status in _REDIRECTS:
            location = response.headers.get("location", "").strip()
            if not location:
                raise FeedUnreadable(url, "the site redirected to nowhere", detail=f"{status} without Location")
            try:
                target = response.url.join(location).copy_with(fragment=None)
                if not target.host:
                    raise ValueError("no host")
            except (httpx.InvalidURL, ValueError):
                raise FeedUnreadable(url, "the site redirected to an address Tend cannot read",
                                     detail=f"{status} to {location[:200]!r}") from None
            if is_loopback_host(target.host) and not is_loopback_host(response.url.host):
                # A site on the internet has no business sending Tend to a service on this computer.
                raise FeedUnreadable(url, "the site redirected to this computer, which Tend refuses",
                                     detail=f"{redact_url(current)} -> {status} to {redact_url(target)}")
            current = str(target)
            moved_for_good = moved_for_good and status in _PERMANENT
            if moved_for_good:
                permanent = current
            continue
        if status == 304:
            return None
        if status in (401, 403):
            raise FeedUnreadable(url, f"the site refused access (error {status}); Tend can read only public feeds",
                                 detail=f"{redact_url(current)} -> {status}")
        if status in (404, 410):
            raise FeedUnreadable(url, f"the site says there is no feed at this address (error {status})",
                                 detail=f"{redact_url(current)} -> {status}")
        if status >= 400:
            raise FeedUnreadable(url, f"the site rejected the request (error {status})",
                                 detail=f"{redact_url(current)} -> {status}: {response.text[:200]}")
        if status != 200:
            raise FeedUnreadable(url, f"the site answered without a feed (status {status})",
                                 detail=f"{redact_url(current)} -> {status}")
        if len(response.content) > max_bytes:  # a client built without CappedTransport
            raise FeedUnreadable(url, f"it is larger than Tend reads ({_size(max_bytes)})",
                                 detail=f"{redact_url(current)}: {len(response.content)} bytes")
        return Download(current, permanent, response.content, response.headers.get("content-type", ""),
                        response.headers.get("etag"), response.headers.get("last-modified"))
    raise FeedUnreadable(url, "the site redirected too many times", detail=f"more than {MAX_REDIRECTS} redirects")


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.0f} MB" if count >= 1024 * 1024 else f"{max(1, count // 1024)} kB"


__all__ = ["ACCEPT", "MAX_FEED_BYTES", "MAX_REDIRECTS", "CappedTransport", "Download", "client_for", "download"]
