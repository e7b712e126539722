"""Brand watches on X: the owner's words as one recent-search query (``GET /2/tweets/search/recent``).

X's search is fuzzy (it matches inside handles and links, ignores ``#``), so the query only narrows what is read;
``BrandWatch.matches`` decides what is kept. The query itself spends nothing on what can never be kept: retweets
(``-is:retweet``: the original is what matters), the business's own posts (``-from:<username>``) and the owner's
excluded phrases. Every post the search returns counts against the monthly read cap, so narrow is cheap. Posts that
reach the business anyway (they mention it or answer it) are left to the mentions stream, which brings their whole
conversation, as the other networks' watches do.

Cursor: the id of the newest search result already seen (matching or not), sent back as ``since_id``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from console.connectors.errors import ConnectorError
from console.domain.watches import BrandWatch

MAX_QUERY_LENGTH = 512  # what the lower access levels accept (higher ones allow 1,024)
_BARE = re.compile(r"[#$@]?\w+")


def search_term(term: str) -> str:
    """A single word (or #hashtag, $cashtag) as it is; anything else as a quoted phrase."""
    term = " ".join(term.replace('"', " ").split())
    return term if _BARE.fullmatch(term) else f'"{term}"'


def watch_query(watch: BrandWatch, username: str) -> str:
    """``(term OR "a phrase") -is:retweet -from:<business> -"excluded phrase"``."""
    terms = [search_term(t) for t in watch.terms if t.replace('"', "").strip()]
    if not terms:
        raise ConnectorError("This brand watch has no words to look for on X.")
    query = f"({' OR '.join(terms)}) -is:retweet"
    if username:
        query += f" -from:{username.lstrip('@')}"
    query += "".join(f" -{search_term(t)}" for t in watch.exclude if t.replace('"', "").strip())
    if len(query) > MAX_QUERY_LENGTH:
        raise ConnectorError(
            f"The brand-watch words are too long for one X search ({len(query)} of {MAX_QUERY_LENGTH} characters); "
            "remove some words or excluded phrases.", detail=f"query {query[:80]!r}…")
    return query


def reaches_business(tweet: Mapping[str, Any], business_id: str, username: str) -> bool:
    """Whether the post mentions the business or answers it (so the mentions stream has it, thread and all)."""
    if business_id and tweet.get("in_reply_to_user_id") == business_id:
        return True
    entities = tweet.get("entities") if isinstance(tweet.get("entities"), dict) else {}
    mentions = entities.get("mentions") if isinstance(entities.get("mentions"), list) else []
    named = {m.get("username", "").lower() for m in mentions if isinstance(m, dict) and isinstance(m.get("username"),
                                                                                                   str)}
    text = tweet.get("text") if isinstance(tweet.get("text"), str) else ""
    handle = username.lstrip("@").lower()
    return bool(handle) and (handle in named or re.search(rf"@{re.escape(handle)}\b", text, re.IGNORECASE) is not None)
