"""Business hours with a time zone, overnight intervals and DST."""

from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from console.replies.hours import BusinessHours

LONDON = ZoneInfo("Europe/London")
WEEKDAYS_9_TO_5 = {day: [(time(9), time(17))] for day in range(5)}


def at(*args: int, tz: ZoneInfo = LONDON) -> datetime:
    return datetime(*args, tzinfo=tz)


def test_open_and_closed_on_a_weekday() -> None:
    hours = BusinessHours(WEEKDAYS_9_TO_5, LONDON)
    assert hours.is_open(at(2026, 3, 2, 9, 0))  # a Monday
    assert not hours.is_open(at(2026, 3, 2, 17, 0))
    assert not hours.is_open(at(2026, 3, 2, 8, 59))


def test_next_opening_after_hours_and_over_the_weekend() -> None:
    hours = BusinessHours(WEEKDAYS_9_TO_5, LONDON)
    assert hours.next_opening(at(2026, 3, 2, 18, 0)) == at(2026, 3, 3, 9, 0)
    assert hours.next_opening(at(2026, 3, 6, 17, 30)) == at(2026, 3, 9, 9, 0)  # Friday evening -> Monday
    now = at(2026, 3, 2, 10, 0)
    assert hours.next_opening(now) == now


def test_time_zones_are_respected_and_result_keeps_the_callers_zone() -> None:
    hours = BusinessHours(WEEKDAYS_9_TO_5, LONDON)
    utc_now = datetime(2026, 7, 6, 8, 30, tzinfo=timezone.utc)  # 09:30 in London (summer time)
    assert hours.is_open(utc_now)
    before = datetime(2026, 7, 6, 7, 30, tzinfo=timezone.utc)
    opening = hours.next_opening(before)
    assert opening == datetime(2026, 7, 6, 8, 0, tzinfo=timezone.utc) and opening.tzinfo == timezone.utc


def test_split_days_and_overnight_intervals() -> None:
    hours = BusinessHours({5: [(time(8), time(12)), (time(14), time(18))], 4: [(time(22), time(2))]}, LONDON)
    assert not hours.is_open(at(2026, 3, 7, 13, 0))
    assert hours.next_opening(at(2026, 3, 7, 13, 0)) == at(2026, 3, 7, 14, 0)
    assert hours.is_open(at(2026, 3, 7, 1, 30))  # Friday night runs into Saturday
    assert hours.is_open(at(2026, 3, 6, 23, 0))


def test_no_hours_means_no_opening() -> None:
    hours = BusinessHours({}, LONDON)
    assert not hours.is_open(at(2026, 3, 2, 10, 0))
    assert hours.next_opening(at(2026, 3, 2, 10, 0)) is None


def test_settings_round_trip_and_refusals() -> None:
    hours = BusinessHours(WEEKDAYS_9_TO_5, LONDON)
    again = BusinessHours.from_dict(hours.to_dict())
    assert again.to_dict() == hours.to_dict()
    assert again.is_open(at(2026, 3, 2, 12, 0))
    with pytest.raises(ValueError):
        BusinessHours.from_dict({"tz": "Nowhere/City", "weekly": {}})
    with pytest.raises(ValueError):
        BusinessHours.from_dict({"weekly": {"mon": [["9", "late"]]}})
    with pytest.raises(ValueError):
        BusinessHours({7: [(time(9), time(17))]})
    with pytest.raises(ValueError):
        BusinessHours({0: [(time(9), time(9))]})
