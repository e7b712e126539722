"""A feed's address and what is named after it: the account, its items' ids, and the errors that point at it.

A feed is an ``Account`` of network ``feed`` whose ``server_url`` is the feed's address; it holds no secret. The
address is checked where it is typed and again before every request (redirects included): https only, except plain
http to this computer. Ids are derived from the address, so adding the same feed twice is one account, and one
article in two feeds is two threads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from console.connectors.errors import BadResponse, ConnectorError, InsecureURL
from console.connectors.feed_text import MAX_NAME_CHARS, plain_line
from console.connectors.http import is_loopback_host, redact_url
from console.domain import Account
from console.domain.records import make_id

NETWORK = "feed"


class FeedUnreadable(BadResponse):
    """The address answered, but with nothing Tend can read as a feed (an HTML page, garbage, far too much)."""

    def __init__(self, url: str, why: str, *, detail: str = "", feed_links: Sequence[str] = ()) -> None:
        super().__init__(f"The feed at {where(url)} could not be read: {why}.", detail=detail or f"{why}: {url}")
        self.feed_links = tuple(feed_links)  # feeds an HTML page names (``<link rel="alternate">``), best first


class InvalidFeedAddress(ConnectorError):
    """What the owner typed is not a web address."""


def where(url: str) -> str:
    """The feed as an owner recognises it: host and path, no scheme or query (which may carry a key)."""
    parts = urlsplit(url)
    shown = (parts.netloc.rsplit("@", 1)[-1] + parts.path).rstrip("/")
    return shown if len(shown) <= 80 else shown[:79] + "…"


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
    title = plain_line(title, MAX_NAME_CHARS)
    return Account(id=feed_account_id(url), network=NETWORK, handle=title or host_of(url), server_url=url,
                   display_name=title)


def item_post_id(feed_url: str, item_key: str) -> str:
    """The inbox id of one feed item; the feed is part of it, so one article in two feeds is two threads."""
    return make_id(NETWORK, f"{feed_key(feed_url)}-{item_hash(item_key)}")


def item_hash(item_key: str) -> str:
    return hashlib.sha256(item_key.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


__all__ = [
    "NETWORK", "FeedUnreadable", "InvalidFeedAddress", "check_feed_url", "feed_account", "feed_account_id",
    "feed_key", "host_of", "item_hash", "item_post_id", "normalise_feed_url", "where",
]
