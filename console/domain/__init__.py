"""Plain records and pure functions every other layer speaks: no I/O, no Qt."""

from console.domain.influence import InfluenceBreakdown, influence_breakdown
from console.domain.records import (
    Account,
    Attachment,
    Author,
    Batch,
    Direction,
    Post,
    Reshare,
    ThreadStatus,
    Visibility,
)
from console.domain.timeutil import iso_utc, parse_iso, utc_now

__all__ = [
    "Account",
    "Attachment",
    "Author",
    "Batch",
    "Direction",
    "InfluenceBreakdown",
    "Post",
    "Reshare",
    "ThreadStatus",
    "Visibility",
    "influence_breakdown",
    "iso_utc",
    "parse_iso",
    "utc_now",
]
