"""RSS and Atom documents as domain records: pure functions, no I/O.

The document is parsed by ``feedparser`` from bytes (never from a URL or a file name, which it would open); anything
that is not a feed becomes ``FeedUnreadable`` with a plain message, and a web page that names its feed says so, so
the owner may paste a site's address. Each item becomes a read-only thread of one, written by its author when the
item names one, else by the site; an item Tend cannot make sense of is skipped, never fatal for the rest.
"""

from __future__ import annotations

import calendar
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import feedparser

from console.connectors.errors import ConnectorError
from console.connectors.feed_address import (
    NETWORK, FeedUnreadable, host_of, item_hash, item_post_id, normalise_feed_url,
)
from console.connectors.feed_text import MAX_NAME_CHARS, detail_text, plain_line, web_link
from console.connectors.http import redact_url
from console.connectors.mastodon_text import neutralise
from console.domain import Account, Author, Direction, Post, Visibility, iso_utc
from console.domain.records import make_id

log = logging.getLogger(__name__)

MAX_TITLE_CHARS = 300
MAX_SUMMARY_CHARS = 5_000
_HTML_TYPES = ("text/html", "application/xhtml+xml")


# -- the document: a feed, or a web page that names one ----------------------------------------------------------------


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
    title = detail_text(feed.get("title_detail"), feed.get("title"), MAX_NAME_CHARS)
    return ParsedFeed(url, " ".join(title.split()), web_link(feed.get("link")), entries)


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
    host = host_of(account.server_url) or host_of(parsed.url)
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
    title = detail_text(entry.get("title_detail"), entry.get("title"), MAX_TITLE_CHARS)
    detail, value = entry.get("summary_detail"), entry.get("summary")
    contents = entry.get("content")
    first = contents[0] if isinstance(contents, list) and contents else None
    if not isinstance(detail, Mapping) and isinstance(first, Mapping):
        # Atom with only <content>: feedparser copies it into ``summary`` but names its type only here.
        detail, value = first, first.get("value")
    summary = detail_text(detail, value, MAX_SUMMARY_CHARS)
    title = " ".join(title.split())
    if title and summary.startswith(title):
        title = ""  # some feeds repeat the title as the first words of the summary
    # Defused again as a whole: two harmless parts could meet as a tag ("<" ending one, a word starting the next).
    text = neutralise("\n\n".join(part for part in (title, summary) if part))
    link = web_link(entry.get("link")) or parsed.site_url
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
    return FeedItem(item_hash(key), post, author, dated)


def _author(entry: Mapping[str, Any], site: Author, host: str, now: datetime) -> Author:
    detail = entry.get("author_detail")
    name = detail.get("name") if isinstance(detail, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        name = entry.get("author")
    name = plain_line(name, MAX_NAME_CHARS)
    if not name or ("@" in name and " " not in name):  # a bare e-mail address is no name to show
        return site
    href = web_link(detail.get("href")) if isinstance(detail, Mapping) else ""
    return Author(id=make_id(NETWORK, f"{host}/{name}"), network=NETWORK, handle=name, display_name=name,
                  url=href, observed_at=iso_utc(now))


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


__all__ = [
    "MAX_SUMMARY_CHARS", "MAX_TITLE_CHARS", "FeedItem", "ParsedFeed", "discover_feed_links", "feed_items", "item_key",
    "parse_feed",
]
