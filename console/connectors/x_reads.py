"""The monthly post-read cap of X's low API tiers: counted, shown to the owner, and never run past.

X's Free and Basic tiers allow only so many posts to be read per month (every post an answer returns counts,
expanded ones included) and then refuse everything until the month turns. Running into that wall in the middle of a
thread is worse than stopping cleanly: so Tend counts what it reads, says how much is left ("1,240 of 10,000 reads
left this month"), and stops reading by itself when the owner's cap is reached, until the first of next month (UTC).

The count is a small JSON-ready dict the caller keeps (the connector writes no files): ``{"month": "2026-08",
"reads": 8760}``. A count from an earlier month is simply a fresh month.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from console.connectors.errors import RateLimited

log = logging.getLogger(__name__)

ReadStateSaver = Callable[[dict[str, Any]], None]


def _month(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return f"{moment.year:04d}-{moment.month:02d}"


def next_month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(timezone.utc)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return datetime(year, month, 1, tzinfo=timezone.utc)


class MonthlyCapReached(RateLimited):
    """The owner's monthly X read cap is used up; ``retry_after`` runs to the start of next month."""


class MonthlyReads:
    """Posts read this calendar month (UTC) against an optional cap (``None``: unknown or unlimited)."""

    def __init__(self, cap: int | None, state: Mapping[str, Any] | None, clock: Callable[[], datetime],
                 on_change: ReadStateSaver | None = None) -> None:
        if cap is not None and cap < 0:
            raise ValueError("a monthly read cap cannot be negative")
        self.cap = cap
        self._clock = clock
        self._on_change = on_change
        self._month = ""
        self._reads = 0
        if state:
            month, reads = state.get("month"), state.get("reads")
            if isinstance(month, str) and isinstance(reads, int) and not isinstance(reads, bool) and reads >= 0:
                self._month, self._reads = month, reads

    @property
    def reads(self) -> int:
        """Posts read this month (0 when the stored count is from an earlier month)."""
        return self._reads if self._month == _month(self._clock()) else 0

    def left(self) -> int | None:
        return None if self.cap is None else max(self.cap - self.reads, 0)

    def text(self) -> str:
        """What the account status shows: ``"1,240 of 10,000 reads left this month"``."""
        if self.cap is None:
            return f"{self.reads:,} posts read this month"
        return f"{self.left():,} of {self.cap:,} reads left this month"

    def state(self) -> dict[str, Any]:
        """The count to keep between runs (JSON-ready)."""
        return {"month": _month(self._clock()), "reads": self.reads}

    def check(self) -> None:
        """Raise ``MonthlyCapReached`` when no read is left, before a request that would return posts."""
        if self.cap is None or self.reads < self.cap:
            return
        now = self._clock()
        resume = next_month_start(now)
        raise MonthlyCapReached(
            f"Tend has read the {self.cap:,} X posts it may read this month (the limit set for this account), so "
            f"it will read X again on {resume.day} {resume:%B}. Replies can still be sent.",
            detail=f"monthly read cap {self.cap} reached ({self.reads} read in {_month(now)})",
            retry_after=(resume - now).total_seconds(),
        )

    def page_size(self, wanted: int, minimum: int) -> int:
        """A page no bigger than what is left (but never below what X accepts), so the cap is not overshot."""
        left = self.left()
        return wanted if left is None else max(minimum, min(wanted, left))

    def add(self, count: int) -> None:
        if count <= 0:
            return
        month = _month(self._clock())
        if month != self._month:
            self._month, self._reads = month, 0
        self._reads += count
        if self._on_change is not None:
            try:
                self._on_change(self.state())
            except Exception:  # keeping the count is the caller's business; reading goes on
                log.exception("could not hand over the X read count")
