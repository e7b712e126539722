"""Words and links from a feed, defused: everything in a feed is hostile until proven otherwise.

Kept apart from parsing because a feed's name reaches the inbox two ways (the title learnt when the feed is added, and
the site's name on every item) and both must be cleaned the same way. HTML goes through the same nh3 sanitiser and
plain-text converter as Mastodon posts, and only absolute http(s) links survive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from console.connectors.mastodon_text import cap_text, html_to_text, neutralise

MAX_NAME_CHARS = 120
_SPACE = re.compile(r"\s+")


def web_link(value: Any) -> str:
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


def plain_line(text: Any, limit: int) -> str:
    if not isinstance(text, str):
        return ""
    return cap_text(neutralise(_SPACE.sub(" ", text).strip()), limit)


def detail_text(detail: Any, value: Any, limit: int) -> str:
    """A feed text construct as plain text: HTML ones converted and sanitised, plain ones defused."""
    if not isinstance(value, str) or not value.strip():
        return ""
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    if kind in ("text/html", "application/xhtml+xml"):
        return html_to_text(value, limit=limit)
    return cap_text(neutralise(value.strip()), limit)


__all__ = ["MAX_NAME_CHARS", "detail_text", "plain_line", "web_link"]
