"""Business hours, per account and optional: outside them a reply can be scheduled for the next opening.

Hours are wall-clock times in the business's own time zone (a bakery opens at 7:00 winter and summer), so every
comparison converts ``now`` to that zone; the answer is returned as an aware datetime in the same zone as ``now``.
An interval whose end is not after its start runs past midnight (22:00-02:00); ``time(0)`` as an end means midnight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

Interval = tuple[time, time]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """``weekly`` maps a weekday (0 = Monday, as ``date.weekday()``) to its opening intervals."""

    weekly: Mapping[int, Sequence[Interval]]
    tz: tzinfo = field(default_factory=lambda: ZoneInfo("UTC"))

    def __post_init__(self) -> None:
        for day, intervals in self.weekly.items():
            if day not in range(7):
                raise ValueError(f"weekday {day!r} is not 0 (Monday) to 6 (Sunday)")
            for start, end in intervals:
                if start == end:
                    raise ValueError(f"an opening interval on {WEEKDAYS[day]} starts and ends at {start:%H:%M}")

    def _spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The concrete opening spans that start on ``day``, in the business's zone."""
        spans = []
        for start, end in self.weekly.get(day.weekday(), ()):
            opens = datetime.combine(day, start, tzinfo=self.tz)
            end_day = day if end > start else day + timedelta(days=1)
            closes = datetime.combine(end_day, end, tzinfo=self.tz)
            spans.append((opens, closes))
        return spans

    def _around(self, now: datetime) -> list[tuple[datetime, datetime]]:
        local_day = now.astimezone(self.tz).date()
        spans = []
        for offset in range(-1, 8):
            spans += self._spans(local_day + timedelta(days=offset))
        return sorted(spans)

    def is_open(self, now: datetime) -> bool:
        return any(opens <= now < closes for opens, closes in self._around(now))

    def next_opening(self, now: datetime) -> datetime | None:
        """``now`` itself when open; else the next opening time; ``None`` when no hours are set at all."""
        if self.is_open(now):
            return now
        upcoming = [opens for opens, _ in self._around(now) if opens > now]
        if not upcoming:
            return None
        return min(upcoming).astimezone(now.tzinfo) if now.tzinfo else min(upcoming)

    def to_dict(self) -> dict[str, object]:
        return {"tz": str(self.tz), "weekly": {
            WEEKDAYS[day]: [[f"{s:%H:%M}", f"{e:%H:%M}"] for s, e in intervals]
            for day, intervals in sorted(self.weekly.items())}}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> BusinessHours:
        """Read the stored settings, e.g. ``{"tz": "Europe/London", "weekly": {"mon": [["09:00", "17:00"]]}}``."""
        try:
            zone = ZoneInfo(str(data.get("tz") or "UTC"))
            weekly_data = data.get("weekly") or {}
            if not isinstance(weekly_data, Mapping):
                raise TypeError("weekly must map weekdays to intervals")
            weekly = {WEEKDAYS.index(str(day).lower()[:3]): [(time.fromisoformat(s), time.fromisoformat(e))
                                                              for s, e in intervals]  # type: ignore[attr-defined]
                      for day, intervals in weekly_data.items()}
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(f"business hours could not be read: {error}") from None
        return cls(weekly=weekly, tz=zone)
