"""The HTTP machinery every network connector shares: one place for timeouts, retries, rate limits and safety.

Networks fail in the same few ways (timeouts, 5xx, 429, revoked tokens, garbled bodies). Handling them here, once,
means each connector only maps payloads to domain records, and the sync engine sees one exception family whose
``str()`` the owner can read. Waiting goes through an injected ``sleep`` and ``clock`` so tests never wait.
"""

from __future__ import annotations

import asyncio
import importlib
import ipaddress
import json as jsonlib
import logging
import random as _random
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from console import __version__
from console.connectors.errors import AuthExpired, BadResponse, ConnectorError, InsecureURL, RateLimited, ServerError
from console.domain.timeutil import parse_iso, utc_now

log = logging.getLogger(__name__)

USER_AGENT = f"Tend/{__version__}"
# Reading a page of notifications can be slow on a busy instance; connecting should never be.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "dpop", "x-api-key"})
SENSITIVE_PARAMS = frozenset({"access_token", "refresh_token", "id_token", "token", "code", "code_verifier",
                              "client_secret", "password", "oauth_token", "oauth_verifier", "api_key", "key"})
REDACTED = "[redacted]"
# A reset value this small cannot be an epoch timestamp, so it is a delay in seconds (IETF RateLimit draft style).
_EPOCH_THRESHOLD = 1_000_000_000
# When a 429 names no reset time at all, assume the usual window rather than hammering the server.
_UNKNOWN_RATE_LIMIT_WAIT = 60.0
# Mastodon, X and Bluesky spell the same three headers differently (httpx makes the lookup case-insensitive).
_LIMIT_HEADERS = ("x-ratelimit-limit", "x-rate-limit-limit", "ratelimit-limit")
_REMAINING_HEADERS = ("x-ratelimit-remaining", "x-rate-limit-remaining", "ratelimit-remaining")
_RESET_HEADERS = ("x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset")


# httpx's transport (httpcore) loads its async backend, anyio's asyncio support, on the first request. Made on the
# Qt thread, those imports held the window for ~25 ms (PySide's import hook also reads each new module's source).
# The app imports them ahead, off the event loop (``preload_async_backend``); tests/connectors check that a first
# request imports nothing else.
ASYNC_BACKEND_MODULES = (
    "sniffio",
    "typing_extensions",
    "anyio.abc",
    "anyio.lowlevel",
    "anyio.streams.memory",
    "anyio.streams.stapled",
    "anyio.streams.tls",
    "anyio.to_thread",
    "anyio._backends._asyncio",
)


def preload_async_backend() -> list[str]:
    """Import what the first request would import lazily; returns the names a newer httpcore no longer has."""
    missing = []
    for name in ASYNC_BACKEND_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def redact(text: str, secrets: Iterable[str]) -> str:
    """Blank out every known secret value in ``text``; short values are skipped so words like "on" survive."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def redact_url(url: str | httpx.URL) -> str:
    """The URL with sensitive query values replaced, safe for logs and error details."""
    parts = urlsplit(str(url))
    if not parts.query:
        return str(url)
    pairs = [(k, REDACTED if k.lower() in SENSITIVE_PARAMS else v) for k, v in parse_qsl(parts.query, True)]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="[]")))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with credentials blanked, for debugging output."""
    return {k: (REDACTED if k.lower() in SENSITIVE_HEADERS else v) for k, v in headers.items()}


def _secrets_in(headers: Mapping[str, str], url: httpx.URL, *payloads: Any) -> set[str]:
    """Every credential a request carries, so it can be scrubbed from whatever text comes back."""
    found: set[str] = set()
    for name, value in headers.items():
        if name.lower() in SENSITIVE_HEADERS:
            found.add(value)
            found.update(value.split()[1:])  # the token after "Bearer" / "DPoP"
    found.update(v for k, v in url.params.multi_items() if k.lower() in SENSITIVE_PARAMS)
    for payload in payloads:
        if isinstance(payload, Mapping):
            found.update(str(v) for k, v in payload.items() if str(k).lower() in SENSITIVE_PARAMS)
    return found


def is_loopback_host(host: str) -> bool:
    """True for this machine only: a test server or a local development instance may use plain http."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url_is_safe(url: str | httpx.URL, service_name: str = "The network") -> None:
    """Refuse anything that would send a token in clear text across a network."""
    parsed = httpx.URL(str(url))
    if parsed.scheme == "https" or (parsed.scheme == "http" and is_loopback_host(parsed.host)):
        return
    raise InsecureURL(
        f"Tend will only talk to {service_name} over a secure (https) connection; "
        f"plain http is allowed only for this computer.",
        detail=f"refused URL {redact_url(parsed)}",
    )


@dataclass(frozen=True, slots=True)
class RateLimitBudget:
    """The latest request budget a network reported, so a poller can slow down before it is told to."""

    limit: int | None
    remaining: int | None
    reset_at: datetime | None

    def suggested_delay(self, default_interval: float, now: datetime, low_fraction: float = 0.1) -> float:
        """Seconds to wait before the next poll: the default, or longer when the budget is nearly spent."""
        if self.remaining is None or self.reset_at is None:
            return default_interval
        until_reset = (self.reset_at - now).total_seconds()
        if until_reset <= 0:
            return default_interval
        if self.remaining <= 0:
            return max(default_interval, until_reset)
        if self.limit is not None and self.remaining > self.limit * low_fraction:
            return default_interval
        # Spread what is left evenly over the rest of the window.
        return max(default_interval, until_reset / self.remaining)


def parse_reset(value: str | None, now: datetime) -> datetime | None:
    """A reset header as a moment: ISO 8601 (Mastodon), epoch seconds (X, mastodon-mock, Bluesky) or a delay."""
    if not value:
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            return parse_iso(value)
        except ValueError:
            return None
    if number >= _EPOCH_THRESHOLD:
        return datetime.fromtimestamp(number, timezone.utc)
    return now + timedelta(seconds=max(number, 0.0))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After in seconds, from either of its two forms (delay seconds or an HTTP date)."""
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max((moment - now).total_seconds(), 0.0)


def _first_header(headers: httpx.Headers, *names: str) -> str | None:
    return next((headers[n] for n in names if n in headers), None)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def next_link(response: httpx.Response) -> str | None:
    """The URL of the next (older) page from a ``Link`` header, as Mastodon paginates."""
    return response.links.get("next", {}).get("url")


def prev_link(response: httpx.Response) -> str | None:
    """The URL of the previous (newer) page from a ``Link`` header."""
    return response.links.get("prev", {}).get("url")


def _server_message(response: httpx.Response) -> str:
    """The human part of an error body, from whichever shape the network uses (Mastodon, X, Bluesky)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    for key in ("detail", "message", "error_description", "error", "title"):
        if isinstance(body.get(key), str) and body[key].strip():
            return body[key].strip()[:300]
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", ""))[:300]
    return ""


class HttpClient:
    """One network's HTTP session: retries, waits out short rate limits and speaks in owner-readable errors."""

    def __init__(
        self,
        base_url: str = "",
        *,
        service_name: str = "The network",
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        max_wait: float = 60.0,
        max_total_wait: float = 120.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], datetime] = utc_now,
        random: Callable[[], float] = _random.random,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if base_url:
            check_url_is_safe(base_url, service_name)
        self.service_name = service_name
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.max_wait = max_wait
        self.max_total_wait = max_total_wait
        self.rate_limit: RateLimitBudget | None = None
        self._sleep = sleep
        self._clock = clock
        self._random = random
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # a redirect could carry the token elsewhere; connectors follow on purpose
        )

    @property
    def headers(self) -> httpx.Headers:
        """Headers sent with every request; connectors set ``Authorization`` here once they hold a token."""
        return self._client.headers

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def suggested_delay(self, default_interval: float) -> float:
        """How long a poller should wait before its next call, given the last reported budget."""
        if self.rate_limit is None:
            return default_interval
        return self.rate_limit.suggested_delay(default_interval, self._clock())

    def backoff_delay(self, attempt: int) -> float:
        """Exponential delay after failed try ``attempt`` (1-based), with up to 25% jitter so clients spread out."""
        base = self.backoff_base * 2 ** (attempt - 1)
        return base * (1 + 0.25 * self._random())

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_unsafe: bool = False,
        accept_status: Collection[int] = (),
    ) -> httpx.Response:
        """Send a request and return a successful response, or raise a ``ConnectorError`` the owner can read.

        Only safe methods are retried after the server may have acted on the request, unless the caller says a
        repeat is harmless (``retry_unsafe``, e.g. a POST carrying an Idempotency-Key). Statuses in
        ``accept_status`` are returned instead of raised, for callers that handle them (Bluesky's expired token).
        """
        method = method.upper()
        prepared = self._client.build_request(method, url, params=params, json=json, data=data, headers=headers)
        check_url_is_safe(prepared.url, self.service_name)
        secrets = _secrets_in(prepared.headers, prepared.url, data, json)
        where = f"{method} {redact_url(prepared.url)}"
        repeatable = method in SAFE_METHODS or retry_unsafe
        waited = 0.0
        for attempt in range(1, self.max_attempts + 1):
            last_try = attempt == self.max_attempts
            try:
                response = await self._client.send(prepared)
            except httpx.TransportError as exc:
                never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
                failure = self._transport_failure(exc, where, secrets)
                retry_after = None
                may_retry = repeatable or never_sent
            else:
                self._note_budget(response.headers)
                status = response.status_code
                log.debug("%s -> %s (try %d)", where, status, attempt)
                if status in accept_status or status < 400:
                    return response
                if status == 429:
                    wait = self._rate_limit_wait(response)
                    if last_try or wait > self.max_wait or waited + wait > self.max_total_wait:
                        raise RateLimited(
                            f"{self.service_name} asked Tend to slow down; Tend will try again in "
                            f"{_plain_duration(wait)}.",
                            detail=redact(f"{where} -> 429: {response.text[:300]}", secrets),
                            retry_after=wait,
                        )
                    log.info("%s rate limited; waiting %.1f s", where, wait)
                    await self._sleep(wait)
                    waited += wait
                    continue
                if status < 500:
                    raise self._client_error(response, where, secrets)
                retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
                failure = ServerError(
                    f"{self.service_name} is having trouble (server error {status}) — Tend will try again later",
                    detail=redact(f"{where} -> {status}: {response.text[:300]}", secrets),
                    retry_after=retry_after,
                )
                may_retry = repeatable
            delay = max(self.backoff_delay(attempt), retry_after or 0.0)
            if last_try or not may_retry or waited + delay > self.max_total_wait:
                raise failure
            log.warning("%s failed (%s); retrying in %.2f s", where, failure.detail, delay)
            await self._sleep(delay)
            waited += delay
        raise AssertionError("unreachable: the loop either returns or raises")  # pragma: no cover

    async def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        """``request`` and parse the body; a reply that is not JSON becomes ``BadResponse``."""
        response = await self.request(method, url, **kwargs)
        if response.status_code == 204:
            return None
        try:
            return jsonlib.loads(response.content)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
            raise BadResponse(
                f"{self.service_name} sent a reply Tend could not read — Tend will try again later",
                detail=f"{method.upper()} {redact_url(response.request.url)} -> {response.status_code}: "
                f"invalid JSON ({exc.__class__.__name__}: {str(exc)[:120]}), {len(response.content)} bytes",
            ) from None

    async def get_json(self, url: str, *, params: Mapping[str, Any] | None = None,
                       headers: Mapping[str, str] | None = None) -> Any:
        """The common case: read one JSON document (a retried GET is always safe)."""
        return await self.request_json("GET", url, params=params, headers=headers)

    async def stream_lines(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idle_timeout: float = 60.0,
    ) -> AsyncIterator[str]:
        """The lines of a long-lived GET (server-sent events) as they arrive; ends when the server closes it.

        Never retried: a live stream that fails is reopened by its caller, which also decides what an end means.
        ``idle_timeout`` bounds the silence between two chunks (servers send heartbeats), not the whole response,
        so a connection that went quiet without closing is noticed. Errors are the same family as ``request``'s.
        """
        timeout = httpx.Timeout(self._client.timeout.connect or DEFAULT_TIMEOUT.connect, read=idle_timeout)
        prepared = self._client.build_request("GET", url, params=params, headers=headers, timeout=timeout)
        check_url_is_safe(prepared.url, self.service_name)
        secrets = _secrets_in(prepared.headers, prepared.url)
        where = f"GET {redact_url(prepared.url)} (stream)"
        try:
            response = await self._client.send(prepared, stream=True)
        except httpx.TransportError as exc:
            raise self._transport_failure(exc, where, secrets) from None
        try:
            self._note_budget(response.headers)
            if response.status_code >= 400:
                try:
                    await response.aread()
                except httpx.TransportError as exc:
                    raise self._transport_failure(exc, where, secrets) from None
                raise self._status_failure(response, where, secrets)
            try:
                async for line in response.aiter_lines():
                    yield line
            except httpx.TransportError as exc:
                raise self._transport_failure(exc, where, secrets) from None
        finally:
            await response.aclose()

    def _status_failure(self, response: httpx.Response, where: str, secrets: set[str]) -> ConnectorError:
        """The error for a failed status when there is no retry loop to absorb it (a stream)."""
        status = response.status_code
        if status == 429:
            wait = self._rate_limit_wait(response)
            return RateLimited(
                f"{self.service_name} asked Tend to slow down; Tend will try again in {_plain_duration(wait)}.",
                detail=redact(f"{where} -> 429: {response.text[:300]}", secrets),
                retry_after=wait,
            )
        if status >= 500:
            return ServerError(
                f"{self.service_name} is having trouble (server error {status}) — Tend will try again later",
                detail=redact(f"{where} -> {status}: {response.text[:300]}", secrets),
                retry_after=parse_retry_after(response.headers.get("Retry-After"), self._clock()),
            )
        return self._client_error(response, where, secrets)

    def _note_budget(self, headers: httpx.Headers) -> None:
        """Remember the budget the server reported, so ``suggested_delay`` can slow the poller down."""
        limit = _int_or_none(_first_header(headers, *_LIMIT_HEADERS))
        remaining = _int_or_none(_first_header(headers, *_REMAINING_HEADERS))
        if limit is not None or remaining is not None:
            reset_at = parse_reset(_first_header(headers, *_RESET_HEADERS), self._clock())
            self.rate_limit = RateLimitBudget(limit, remaining, reset_at)

    def _rate_limit_wait(self, response: httpx.Response) -> float:
        now = self._clock()
        wait = parse_retry_after(response.headers.get("Retry-After"), now)
        if wait is not None:
            return wait
        reset_at = parse_reset(_first_header(response.headers, *_RESET_HEADERS), now)
        return _UNKNOWN_RATE_LIMIT_WAIT if reset_at is None else max((reset_at - now).total_seconds(), 0.0)

    def _transport_failure(self, exc: httpx.TransportError, where: str, secrets: set[str]) -> ConnectorError:
        detail = redact(f"{where}: {exc.__class__.__name__}: {exc}", secrets)
        name = self.service_name
        if isinstance(exc, httpx.TimeoutException):
            return ServerError(f"{name} is not answering (timed out) — Tend will try again later", detail=detail)
        if isinstance(exc, httpx.RemoteProtocolError):
            return BadResponse(f"{name} sent an incomplete reply — Tend will try again later", detail=detail)
        return ServerError(f"{name} could not be reached (no connection) — Tend will try again later",
                           detail=detail)

    def _client_error(self, response: httpx.Response, where: str, secrets: set[str]) -> ConnectorError:
        name, status = self.service_name, response.status_code
        said = redact(_server_message(response), secrets)
        detail = redact(f"{where} -> {status}: {response.text[:300]}", secrets)
        if status == 401:
            return AuthExpired(f"{name} access was revoked or has expired; reconnect the account", detail=detail)
        because = f": {said}" if said else ""
        if status == 403:
            return ConnectorError(f"{name} refused this request{because}", detail=detail)
        if status == 404:
            return ConnectorError(f"{name} could not find what Tend asked for{because}", detail=detail)
        return ConnectorError(f"{name} rejected the request (error {status}){because}", detail=detail)


def _plain_duration(seconds: float) -> str:
    if seconds < 2:
        return "a moment"
    if seconds < 90:
        return f"{round(seconds)} seconds"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"
