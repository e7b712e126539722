"""One timestamp format for the whole inbox.

Timestamps are stored as ISO 8601 UTC text with millisecond precision and a ``Z`` suffix
(``2026-11-25T09:30:00.000Z``). A single fixed-width format means SQLite can sort and compare them as plain
text, and owners reading the file in ``sqlite3`` see real dates.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    """The real clock; everything that schedules takes a clock argument defaulting to this."""
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    """Format an aware datetime (naive ones are taken as UTC) in the inbox's canonical form."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    # isoformat, not strftime: glibc's %Y drops leading zeros (year 5 -> "5"), which breaks the fixed width.
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_iso(text: str) -> datetime:
    """Parse the ISO 8601 forms networks send (``Z`` or offsets, with or without fractions) to aware UTC."""
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
