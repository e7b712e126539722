"""Reading the JSON a network sent, so a surprise becomes one owner-readable ``BadResponse``, and collecting one
page of the records it yields.

Every network module reads payloads the same way; only the network's name, its sentence for the owner and the shape
of its ids differ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from console.connectors.errors import BadResponse
from console.connectors.mastodon_text import well_formed
from console.domain import Author, Batch, Post, iso_utc, parse_iso
from console.domain.records import Reshare

Json = dict[str, Any]

# No network counts this high: a larger figure is a broken one. Capped so a count (and the sums the store keeps of
# them) always fits a SQLite integer; sqlite3 raises OverflowError, not an sqlite3.Error, on an int past 2**63 - 1.
MAX_COUNT = 10**12


class PayloadReader:
    """Shape checks that raise ``BadResponse(unreadable, detail="<network> <what>: <problem>")``. ``id_pattern`` is
    what the network's ids look like (``id_field`` checks against it unless told another pattern)."""

    def __init__(self, network: str, unreadable: str, id_pattern: re.Pattern[str] | None = None) -> None:
        self.network = network
        self.unreadable = unreadable
        self.id_pattern = id_pattern

    def malformed(self, what: str, problem: str) -> BadResponse:
        return BadResponse(self.unreadable, detail=f"{self.network} {what}: {problem}")

    def as_object(self, value: Any, what: str) -> Json:
        if not isinstance(value, dict):
            raise self.malformed(what, f"expected an object, got {type(value).__name__}")
        return value

    def as_list(self, value: Any, what: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.malformed(what, f"expected a list, got {type(value).__name__}")
        return value

    def objects(self, value: Any, what: str) -> list[Json]:
        return [self.as_object(item, what) for item in self.as_list(value, what)]

    def id_field(self, obj: Mapping[str, Any], what: str, key: str = "id", pattern: re.Pattern[str] | None = None,
                 *, kind: str = "an id", shown: int = 40) -> str:
        """``obj[key]`` as text matching ``pattern`` (the network's id pattern by default); a whole number reads
        as its digits. ``kind`` names what it should have been, and ``shown`` how much of a wrong value is quoted."""
        pattern = pattern or self.id_pattern
        assert pattern is not None, "a PayloadReader without an id pattern needs one per call"
        value = obj.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise self.malformed(what, f"{key} is not {kind}: {str(value)[:shown]!r}")
        return value

    def optional_id(self, obj: Mapping[str, Any], what: str, key: str) -> str | None:
        return None if obj.get(key) is None else self.id_field(obj, what, key)

    def text_field(self, obj: Mapping[str, Any], what: str, key: str, *, required: bool = False) -> str:
        value = obj.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise self.malformed(what, f"{key} is not text")
        return well_formed(value)

    def count_field(self, obj: Mapping[str, Any], what: str, key: str) -> int:
        """A count that must be a number when present (absent is 0, negative is 0, absurd is ``MAX_COUNT``)."""
        value = obj.get(key)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.malformed(what, f"{key} is not a number")
        return min(max(value, 0), MAX_COUNT)


def count(obj: Mapping[str, Any], *keys: str) -> int:
    """A count under any of its names; absent, negative or not a number counts as 0 (a count is never fatal)."""
    for key in keys:
        value = obj.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return min(max(value, 0), MAX_COUNT)
    return 0


def moment(value: Any) -> str | None:
    """An ISO 8601 timestamp in the inbox's form, or ``None`` when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return iso_utc(parse_iso(value))
    except (ValueError, OverflowError):  # OverflowError: a year-1 or year-9999 time shifted out of range by its offset
        return None


def native_part(network: str, inbox_id: str) -> str:
    """``<network>:<x>`` → ``<x>``; ``""`` for an id of another network."""
    prefix = f"{network}:"
    return inbox_id[len(prefix):] if inbox_id.startswith(prefix) else ""


class PageRecords:
    """The posts, authors, deletions and reshares one page collects, handed on as one ``Batch``."""

    def __init__(self, scope: Any) -> None:
        self.scope = scope  # a network's Scope: whose inbox (``account_id``), and when the page was read
        self.posts: dict[str, Post] = {}
        self.authors: dict[str, Author] = {}
        self.deleted: dict[str, None] = {}
        self.reshares: dict[tuple[str, str], Reshare] = {}

    def deleted_ids(self) -> tuple[str, ...]:
        """Posts gone, except those this page read after all (a later reading wins)."""
        return tuple(d for d in self.deleted if d not in self.posts)

    def batch(self, stream: str, cursor: str | None = None, *, more: bool = False, source: str = "mention") -> Batch:
        return Batch(
            account_id=self.scope.account_id,
            stream=stream,
            posts=tuple(self.posts.values()),
            authors=tuple(self.authors.values()),
            cursor=cursor,
            more=more,
            deleted_post_ids=self.deleted_ids(),
            reshares=tuple(self.reshares.values()),
            source=source,
        )

    def __bool__(self) -> bool:
        return bool(self.posts or self.authors or self.deleted or self.reshares)
