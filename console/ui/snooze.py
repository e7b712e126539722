"""The snooze presets an owner picks from: relative to now, in the owner's local time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta


def _at_local(moment: datetime, when: time, days_ahead: int) -> datetime:
    local = moment.astimezone()
    target = datetime.combine(local.date() + timedelta(days=days_ahead), when, tzinfo=local.tzinfo)
    return target


def tonight(now: datetime) -> datetime:
    """19:00 today, or in an hour if it is already evening."""
    target = _at_local(now, time(19, 0), 0)
    return target if target > now else now + timedelta(hours=1)


def tomorrow_morning(now: datetime) -> datetime:
    return _at_local(now, time(9, 0), 1)


def snooze_choices() -> list[tuple[str, Callable[[datetime], datetime]]]:
    return [
        ("For 30 minutes", lambda now: now + timedelta(minutes=30)),
        ("For 2 hours", lambda now: now + timedelta(hours=2)),
        ("Until tonight", tonight),
        ("Until tomorrow 9:00", tomorrow_morning),
    ]
