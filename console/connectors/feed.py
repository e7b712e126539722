"""RSS and Atom watches: review sites and blogs that offer a feed, each new item a read-only thread in the inbox.

A feed is an ``Account`` of network ``feed`` whose ``server_url`` is the feed's address; it holds no secret. Its one
stream, ``items``, is read with a conditional GET (``If-None-Match`` / ``If-Modified-Since``), so an unchanged feed
costs the site a ``304`` and Tend nothing. Cursor (JSON, kept verbatim by the store)::

    {"etag": "\"abc\"", "modified": "Tue, 24 Nov 2026 18:12:00 GMT", "seen": ["<item key>", ...]}

``seen`` holds the keys of the items already delivered (newest first, bounded), so an item comes in once even when
it carries no date; a feed is a sliding window, so the last few hundred keys are enough.

Feeds come from anywhere, so everything in them is hostile until proven otherwise: the body is capped (compressed and
decompressed, so a gzip bomb stops at the cap), the document is parsed by ``feedparser`` from bytes (never from a
URL or a file name, which it would open), its HTML goes through the same nh3 sanitiser and plain-text converter as
Mastodon posts, and only http(s) links survive. Anything unreadable becomes ``FeedUnreadable`` with a plain message.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import io
import json
import logging
import re
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx

from console.connectors.base import OutgoingReply
from console.connectors.errors import BadResponse, ConnectorError, InsecureURL
from console.connectors.http import DEFAULT_TIMEOUT, HttpClient, is_loopback_host, redact_url
from console.connectors.mastodon_text import cap_text, html_to_text, neutralise
from console.domain import Account, Author, Batch, Direction, Post, Visibility, iso_utc, utc_now
from console.domain.records import make_id

log = logging.getLogger(__name__)

NETWORK = "feed"
STREAM = "items"
# Review and blog feeds are tens of kilobytes; a few megabytes is already a podcast archive. Past this, stop reading.
MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_SEEN = 500
MAX_REDIRECTS = 5
FIRST_SYNC_DAYS = 14
# An unchanged feed answers 304 cheaply, but a small site still should not be asked every minute.
MIN_INTERVAL_S = 300.0
MAX_TITLE_CHARS = 300
MAX_SUMMARY_CHARS = 5_000
MAX_NAME_CHARS = 120
ACCEPT = ("application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, "
          "text/xml;q=0.8, */*;q=0.1")
_REDIRECTS = (301, 302, 303, 307, 308)
_PERMANENT = (301, 308)
# 4xx answers are the site's word about this address, not a reason to reconnect anything: mapped here, in plain words.
_CLIENT_ERRORS = tuple(status for status in range(400, 500) if status != 429)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SPACE = re.compile(r"\s+")


# -- errors ------------------------------------------------------------------------------------------------------------


class FeedUnreadable(BadResponse):
    """The address answered, but with nothing Tend can read as a feed (an HTML page, garbage, far too much)."""

    def __init__(self, url: str, why: str, *, detail: str = "", feed_links: Sequence[str] = ()) -> None:
        super().__init__(f"The feed at {where(url)} could not be read: {why}.", detail=detail or f"{why}: {url}")
        self.feed_links = tuple(feed_links)  # feeds an HTML page names (``<link rel="alternate">``), best first


class FeedReadOnly(ConnectorError):
    """Feeds are read, never written to: replies go on the site itself."""


class InvalidFeedAddress(ConnectorError):
    """What the owner typed is not a web address."""


def where(url: str) -> str:
    """The feed as an owner recognises it: host and path, no scheme or query (which may carry a key)."""
    parts = urlsplit(url)
    shown = (parts.netloc.rsplit("@", 1)[-1] + parts.path).rstrip("/")
    return shown if len(shown) <= 80 else shown[:79] + "…"


# -- addresses and identity ------------------------------------------------------------------------------------------


def normalise_feed_url(text: str) -> str:
    """``example.com/feed`` → ``https://example.com/feed``; https only, except plain http to this computer.

    ``feed://`` (what some browsers show) means https. Addresses with a user name or password are refused: the
    address is stored in the inbox and shown in lists, which is no place for a password.
    """
    text = text.strip()
    if not text:
        raise InvalidFeedAddress("Enter the address of a feed, for example https://example.com/feed.xml.")
    if text.lower().startswith("feed://"):
        text = "https://" + text[len("feed://"):]
    elif "://" not in text:
        text = "https://" + text
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        raise InvalidFeedAddress(f"“{text[:100]}” is not a web address Tend understands.") from None
    if url.scheme not in ("http", "https") or not url.host or any(c.isspace() for c in text):
        raise InvalidFeedAddress(f"“{text[:100]}” is not a web address Tend understands.")
    if url.userinfo:
        raise InvalidFeedAddress("Tend does not keep feed addresses that contain a user name or password.")
    check_feed_url(str(url))
    return str(url.copy_with(fragment=None))


def check_feed_url(url: str) -> None:
    parsed = httpx.URL(url)
    if parsed.scheme == "https" or (parsed.scheme == "http" and is_loopback_host(parsed.host)):
        return
    raise InsecureURL(
        f"Tend reads feeds only over a secure (https) connection, and {where(url)} is not one; "
        "plain http is allowed only for this computer.",
        detail=f"refused feed URL {redact_url(url)}",
    )


def feed_key(url: str) -> str:
    """A stable short name for a feed address: the account's id and the namespace of its items' ids."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def feed_account_id(url: str) -> str:
    return make_id(NETWORK, feed_key(url))


def feed_account(url: str, title: str = "") -> Account:
    title = _plain_line(title, MAX_NAME_CHARS)
    return Account(id=feed_account_id(url), network=NETWORK, handle=title or _host(url), server_url=url,
                   display_name=title)


def item_post_id(feed_url: str, item_key: str) -> str:
    """The inbox id of one feed item; the feed is part of it, so one article in two feeds is two threads."""
    return make_id(NETWORK, f"{feed_key(feed_url)}-{_item_hash(item_key)}")


def _item_hash(item_key: str) -> str:
    return hashlib.sha256(item_key.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


# -- downloading -------------------------------------------------------------------------------------------------------


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
        service_name=f"The feed at {_host(feed_url) or 'this address'}",
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


# -- parsing -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    url: str
    title: str
    site_url: str
    entries: tuple[Mapping[str, Any], ...]


def parse_feed(body: bytes, *, url: str, content_type: str = "") -> ParsedFeed:
    """The feed in ``body`` (RSS 0.9x/1.0/2.0 or Atom); ``FeedUnreadable`` for anything that is not one.

    A feed with small mistakes (feedparser's ``bozo``) is still read when it has items: real feeds often do.
    """
    try:
        result = feedparser.parse(
            io.BytesIO(body),  # bytes in a stream: feedparser would fetch a URL or open a file named by a string
            response_headers={"content-type": content_type or "application/xml", "content-location": url},
            sanitize_html=True, resolve_relative_uris=True,
        )
        entries = tuple(result.get("entries") or ())
        version = result.get("version") or ""
        feed = result.get("feed") or {}
    except Exception as error:  # a parser bug on hostile input must read as "unreadable", never crash a sync
        log.warning("feedparser failed on %s: %r", redact_url(url), error)
        raise FeedUnreadable(url, "it is not a feed Tend understands", detail=f"{error.__class__.__name__}: "
                             f"{str(error)[:200]}") from None
    if not entries and (result.get("bozo") or not version):
        if _looks_like_html(body, content_type):
            links = discover_feed_links(body, url)
            hint = "; the page names a feed Tend can watch instead" if links else \
                "; look on the site for an RSS or Atom link"
            raise FeedUnreadable(url, f"this address is a web page, not a feed{hint}",
                                 detail=f"HTML page ({content_type or 'no type'})", feed_links=links)
        raise FeedUnreadable(url, "it is not an RSS or Atom feed",
                             detail=f"{result.get('bozo_exception')!r}"[:300])
    if result.get("bozo"):
        log.debug("feed %s has mistakes: %r", redact_url(url), result.get("bozo_exception"))
    title = _detail_text(feed.get("title_detail"), feed.get("title"), MAX_NAME_CHARS)
    return ParsedFeed(url, " ".join(title.split()), _web_link(feed.get("link")), entries)


def _looks_like_html(body: bytes, content_type: str) -> bool:
    if content_type.split(";")[0].strip().lower() in _HTML_TYPES:
        return True
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


class _FeedLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        kind = values.get("type", "").lower()
        if "alternate" in values.get("rel", "").lower().split() and kind in (
                "application/rss+xml", "application/atom+xml", "application/rdf+xml") and values.get("href"):
            self.links.append(values["href"].strip())


def discover_feed_links(body: bytes, base_url: str) -> tuple[str, ...]:
    """The feeds a web page announces (``<link rel="alternate" type="application/rss+xml">``), as absolute https
    (or loopback http) addresses."""
    finder = _FeedLinks()
    try:
        finder.feed(body[:300_000].decode("utf-8", "replace"))
        finder.close()
    except Exception:  # pragma: no cover - html.parser is lenient; discovery is a convenience
        return ()
    found: list[str] = []
    for href in finder.links:
        try:
            absolute = normalise_feed_url(urljoin(base_url, href))
        except ConnectorError:
            continue
        if absolute not in found:
            found.append(absolute)
    return tuple(found)


def _web_link(value: Any) -> str:
    """Only absolute http(s) links are kept: a ``javascript:`` link must never reach "Open in browser"."""
    if not isinstance(value, str):
        return ""
    value = value.strip()
    if not value.lower().startswith(("https://", "http://")) or any(c.isspace() or ord(c) < 32 for c in value):
        return ""
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, ValueError):
        return ""
    return str(url) if url.host else ""  # percent-encoded: no "<" or quote survives into a link or a label


def _plain_line(text: Any, limit: int) -> str:
    if not isinstance(text, str):
        return ""
    return cap_text(neutralise(_SPACE.sub(" ", text).strip()), limit)


def _detail_text(detail: Any, value: Any, limit: int) -> str:
    """A feed text construct as plain text: HTML ones converted and sanitised, plain ones defused."""
    if not isinstance(value, str) or not value.strip():
        return ""
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    if kind in ("text/html", "application/xhtml+xml"):
        return html_to_text(value, limit=limit)
    return cap_text(neutralise(value.strip()), limit)


def _moment(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # The plain dict lookup: feedparser's own maps a missing date to another one, with a deprecation warning.
        parsed = dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)
        if parsed is None:
            continue
        try:
            return datetime.fromtimestamp(calendar.timegm(tuple(parsed)[:6] + (0, 0, 0)), timezone.utc)
        except (TypeError, ValueError, OverflowError, OSError):
            continue
    return None


# -- items as records --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedItem:
    key: str  # the hash ``seen`` remembers
    post: Post
    author: Author
    dated: bool


def item_key(entry: Mapping[str, Any]) -> str:
    """What names an item across fetches: its id (guid), else its link, else its words."""
    for field_name in ("id", "link"):
        value = entry.get(field_name)
        if isinstance(value, str) and value.strip():
            return f"{field_name}:{value.strip()}"
    words = "\x1f".join(str(entry.get(k) or "") for k in ("title", "summary"))
    return f"text:{words}"


def feed_items(parsed: ParsedFeed, account: Account, *, now: datetime) -> list[FeedItem]:
    """Every readable item of the feed, oldest first; an item Tend cannot make sense of is skipped, not fatal."""
    host = _host(account.server_url) or _host(parsed.url)
    site_name = parsed.title or host
    site = Author(id=make_id(NETWORK, host), network=NETWORK, handle=host, display_name=site_name,
                  url=parsed.site_url, observed_at=iso_utc(now))
    items: list[FeedItem] = []
    for entry in parsed.entries:
        try:
            items.append(_item(entry, account, parsed, site, host, now))
        except Exception:  # one odd entry must not cost the rest of the feed
            log.warning("skipped an unreadable item of %s", redact_url(account.server_url), exc_info=True)
    items.sort(key=lambda item: item.post.created_at)
    return items


def _item(entry: Mapping[str, Any], account: Account, parsed: ParsedFeed, site: Author, host: str,
          now: datetime) -> FeedItem:
    key = item_key(entry)
    post_id = item_post_id(account.server_url, key)
    title = _detail_text(entry.get("title_detail"), entry.get("title"), MAX_TITLE_CHARS)
    detail, value = entry.get("summary_detail"), entry.get("summary")
    contents = entry.get("content")
    first = contents[0] if isinstance(contents, list) and contents else None
    if not isinstance(detail, Mapping) and isinstance(first, Mapping):
        # Atom with only <content>: feedparser copies it into ``summary`` but names its type only here.
        detail, value = first, first.get("value")
    summary = _detail_text(detail, value, MAX_SUMMARY_CHARS)
    title = " ".join(title.split())
    if title and summary.startswith(title):
        title = ""  # some feeds repeat the title as the first words of the summary
    # Defused again as a whole: two harmless parts could meet as a tag ("<" ending one, a word starting the next).
    text = neutralise("\n\n".join(part for part in (title, summary) if part))
    link = _web_link(entry.get("link")) or parsed.site_url
    moment = _moment(entry)
    dated = moment is not None
    if moment is None or moment > now:
        moment = now  # undated items are as new as the moment Tend first saw them; future dates are mistakes
    author = _author(entry, site, host, now)
    post = Post(
        id=post_id, network=NETWORK, account_id=account.id, thread_id=post_id, author_id=author.id,
        text=text or neutralise(link) or "(an item without words)", created_at=iso_utc(moment), observed_at=iso_utc(now),
        url=link, visibility=Visibility.PUBLIC, direction=Direction.IN,
    )
    return FeedItem(_item_hash(key), post, author, dated)


def _author(entry: Mapping[str, Any], site: Author, host: str, now: datetime) -> Author:
    detail = entry.get("author_detail")
    name = detail.get("name") if isinstance(detail, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        name = entry.get("author")
    name = _plain_line(name, MAX_NAME_CHARS)
    if not name or ("@" in name and " " not in name):  # a bare e-mail address is no name to show
        return site
    href = _web_link(detail.get("href")) if isinstance(detail, Mapping) else ""
    return Author(id=make_id(NETWORK, f"{host}/{name}"), network=NETWORK, handle=name, display_name=name,
                  url=href, observed_at=iso_utc(now))


# -- the cursor --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedCursor:
    etag: str | None = None
    modified: str | None = None
    seen: tuple[str, ...] = ()

    def encode(self) -> str:
        data = {"etag": self.etag, "modified": self.modified, "seen": list(self.seen[:MAX_SEEN])}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> FeedCursor | None:
        """``None`` for no cursor; an unreadable one starts over (items keep their ids, so nothing doubles)."""
        if text is None:
            return None
        try:
            data = json.loads(text)
            seen = tuple(str(k) for k in data.get("seen") or () if isinstance(k, str))
            etag, modified = data.get("etag"), data.get("modified")
            return cls(etag if isinstance(etag, str) else None, modified if isinstance(modified, str) else None,
                       seen)
        except (ValueError, TypeError, AttributeError):
            log.warning("unreadable feed cursor %r; starting over", text[:200])
            return None


# -- the connector -----------------------------------------------------------------------------------------------------


class FeedConnector:
    """One watched feed; satisfies ``console.connectors.base.Connector``. Owns its HTTP session (``aclose``)."""

    streams: Sequence[str] = (STREAM,)

    def __init__(
        self,
        account: Account,
        *,
        client: HttpClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], datetime] = utc_now,
        max_bytes: int = MAX_FEED_BYTES,
        first_sync_days: int = FIRST_SYNC_DAYS,
        min_interval: float = MIN_INTERVAL_S,
    ) -> None:
        check_feed_url(account.server_url)
        self.account = account
        self._clock = clock
        self._max_bytes = max_bytes
        self._first_sync_days = first_sync_days
        self._min_interval = min_interval
        self._http = client or client_for(account.server_url, transport=transport, max_bytes=max_bytes,
                                          timeout=timeout, sleep=sleep, clock=clock)
        self._checked_at: datetime | None = None
        self._delivered: dict[str, Post] = {}  # recent posts, for fetch_thread

    async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
        if stream != STREAM:
            raise ValueError(f"a feed has no stream {stream!r}")
        now = self._clock()
        if self._checked_at is not None and now - self._checked_at < timedelta(seconds=self._min_interval):
            return  # asked again too soon: the site is spared, nothing moves
        previous = FeedCursor.decode(cursor)
        got = await download(self._http, self.account.server_url, etag=previous.etag if previous else None,
                             modified=previous.modified if previous else None, max_bytes=self._max_bytes)
        self._checked_at = now
        if got is None:
            return  # 304 Not Modified
        if got.permanent_url != self.account.server_url:
            log.info("the feed %s moved for good to %s", redact_url(self.account.server_url),
                     redact_url(got.permanent_url))
        parsed = await asyncio.to_thread(parse_feed, got.body, url=got.url, content_type=got.content_type)
        items = await asyncio.to_thread(feed_items, parsed, self.account, now=now)
        seen = set(previous.seen) if previous else set()
        oldest = now - timedelta(days=self._first_sync_days)
        fresh = [
            item for item in items
            if item.key not in seen
            # The first look brings the last couple of weeks, not a site's whole archive.
            and not (previous is None and item.dated and item.post.created_at < iso_utc(oldest))
        ]
        current = [item.key for item in reversed(items)]  # newest first
        remembered = list(dict.fromkeys([*current, *(previous.seen if previous else ())]))[:MAX_SEEN]
        new_cursor = FeedCursor(got.etag, got.modified, tuple(remembered))
        for item in fresh:
            self._remember(item.post)
        yield Batch(
            account_id=self.account.id,
            stream=stream,
            posts=tuple(item.post for item in fresh),
            authors=tuple({item.author.id: item.author for item in fresh}.values()),
            cursor=new_cursor.encode(),
            source="watch",  # a review or blog post about the business, not a message to it: "Unmentioned"
        )

    def _remember(self, post: Post) -> None:
        self._delivered[post.id] = post
        while len(self._delivered) > MAX_SEEN:
            self._delivered.pop(next(iter(self._delivered)))

    async def fetch_thread(self, root_id: str) -> list[Post]:
        """A feed item is a thread of one: the item as delivered, if this session delivered it."""
        post = self._delivered.get(root_id)
        return [post] if post is not None else []

    async def fetch_authors(self, author_ids: Sequence[str]) -> list[Author]:
        return []  # feeds say nothing about audiences

    async def send_reply(self, reply: OutgoingReply) -> Post:
        link = reply.in_reply_to.url or self.account.server_url
        raise FeedReadOnly(f"Feeds are read-only: answer on the site ({link}).",
                           detail=f"reply to {reply.in_reply_to.id} refused: feed items are read-only")

    async def aclose(self) -> None:
        await self._http.aclose()


# -- adding a feed -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What adding a feed learns: where to read it from now on, and what it calls itself."""

    url: str
    title: str
    site_url: str
    items: int


async def probe_feed(
    text: str, *, transport: httpx.AsyncBaseTransport | None = None, clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, max_bytes: int = MAX_FEED_BYTES,
) -> FeedInfo:
    """Read a feed once, to learn its title and to fail early, in plain words, on a wrong address.

    Given a web page that names its feed (most blogs and review pages do), the named feed is read instead, so the
    owner may paste the site's address.
    """
    url = normalise_feed_url(text)
    http = client_for(url, transport=transport, max_bytes=max_bytes, clock=clock, sleep=sleep)
    try:
        for attempt in range(2):
            got = await download(http, url, max_bytes=max_bytes)
            assert got is not None  # nothing conditional was asked
            try:
                parsed = await asyncio.to_thread(parse_feed, got.body, url=got.url, content_type=got.content_type)
            except FeedUnreadable as error:
                if attempt == 0 and error.feed_links:
                    url = error.feed_links[0]
                    continue
                raise
            return FeedInfo(got.permanent_url, parsed.title, parsed.site_url, len(parsed.entries))
    finally:
        await http.aclose()
    raise AssertionError("unreachable")  # pragma: no cover
