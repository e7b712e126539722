"""Short, human forms of numbers and times for a dense list."""

from __future__ import annotations

from datetime import datetime

from console.domain import parse_iso


def compact_number(value: int) -> str:
    """12 -> '12', 2300 -> '2.3k', 54000 -> '54k', 1200000 -> '1.2M'."""
    if value < 1000:
        return str(value)
    for divisor, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= divisor:
            scaled = value / divisor
            text = f"{scaled:.1f}" if scaled < 10 else f"{scaled:.0f}"
            return text.removesuffix(".0") + suffix
    return str(value)


def age(since_iso: str | None, now: datetime) -> str:
    """How long ago, coarsely: '45 s', '12 min', '3 h', '2 d'."""
    if not since_iso:
        return ""
    seconds = max(0, int((now - parse_iso(since_iso)).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def local_time(iso: str) -> str:
    """A post's time in the owner's local zone."""
    return parse_iso(iso).astimezone().strftime("%a %d %b %H:%M")


def count_of(value: int, singular: str, plural: str | None = None) -> str:
    """'1 follower', '2,300 followers'."""
    return f"{value:,} {singular if value == 1 else (plural or singular + 's')}"
