"""The order of "Needs reply": fires first, but nobody waits forever.

Priority is expressed as a moment, ``priority_key`` (seconds since the epoch): when the customer started waiting,
moved later if the business was closed then (waiting starts at the next opening), and moved earlier by a head start
for heat, influence and VIP; an escalating thread gets a head start no backlog can match. Sorting by it ascending puts the most urgent first. Because every thread's key moves
with the same clock, the order does not change just because time passes, so it is stored and indexed rather than
recomputed on every paint. See docs/influence.md ("Priority").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Head start at full heat / influence, and for a VIP.
HEAT_HEAD_START = timedelta(hours=24)
INFLUENCE_HEAD_START = timedelta(hours=8)
VIP_HEAD_START = timedelta(hours=4)
# An escalating thread is answered before any backlog: a fire spreading now outranks a week-old question.
ESCALATION_HEAD_START = timedelta(days=30)


def head_start(heat: int, influence: int, vip: bool, escalating: bool = False) -> timedelta:
    """How much earlier than its waiting time a thread is ranked."""
    heat = max(0, min(100, heat))
    influence = max(0, min(100, influence))
    return (
        HEAT_HEAD_START * (heat / 100)
        + INFLUENCE_HEAD_START * (influence / 100)
        + (VIP_HEAD_START if vip else timedelta())
        + (ESCALATION_HEAD_START if escalating else timedelta())
    )


def priority_key(
    waiting_since: datetime,
    *,
    heat: int,
    influence: int,
    vip: bool = False,
    opening: datetime | None = None,
    escalating: bool = False,
) -> float:
    """The moment a thread ranks as, in epoch seconds: lower is more urgent.

    ``opening`` is the business's first opening at or after ``waiting_since`` (``None`` when no hours are set):
    a message sent at midnight to a bakery that opens at seven has been waiting since seven.
    """
    start = max(waiting_since, opening) if opening is not None else waiting_since
    return (start - head_start(heat, influence, vip, escalating)).timestamp()


def waiting_text(waited: timedelta) -> str:
    minutes = int(waited.total_seconds() // 60)
    if minutes < 1:
        return "waiting under a minute"
    if minutes < 60:
        return f"waiting {minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"waiting {hours} h"
    return f"waiting {hours // 24} days"


@dataclass(frozen=True, slots=True)
class PriorityReason:
    """What puts a thread where it is, in the owner's words."""

    followers: int
    reshares_last_hour: int
    waited: timedelta | None
    heat: int = 0
    vip: bool = False
    escalating: bool = False

    def text(self) -> str:
        """e.g. "2,300 followers · 14 reshares in the last hour · waiting 2 h"."""
        parts = []
        if self.vip:
            parts.append("VIP")
        if self.escalating:
            parts.append(f"escalating (heat {self.heat})")
        parts.append(f"{self.followers:,} follower{'' if self.followers == 1 else 's'}")
        if self.reshares_last_hour:
            parts.append(
                f"{self.reshares_last_hour:,} reshare{'' if self.reshares_last_hour == 1 else 's'} in the last hour"
            )
        if self.waited is not None:
            parts.append(waiting_text(self.waited))
        return " · ".join(parts)
