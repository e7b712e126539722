"""The inbox's one timestamp format: exact round trips, every ISO form networks send, text order is time order."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain import iso_utc, parse_iso, utc_now

CANONICAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

# Keep a day away from the ends of datetime's range so any offset can be converted to UTC.
_NAIVE = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
_ZONES = st.timezones() | st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-(23 * 60 + 59), 23 * 60 + 59)
)
AWARE = _NAIVE.flatmap(lambda naive: _ZONES.map(lambda zone: naive.replace(tzinfo=zone)))
AWARE_MS = AWARE.map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))


@settings(max_examples=200, deadline=None)
@given(AWARE_MS)
def test_round_trip_at_millisecond_precision(moment):
    text = iso_utc(moment)
    assert CANONICAL.match(text), text
    back = parse_iso(text)
    assert back == moment
    assert back.utcoffset() == timedelta(0)
    assert iso_utc(back) == text


@settings(max_examples=200, deadline=None)
@given(AWARE)
def test_formatting_truncates_to_the_millisecond(moment):
    back = parse_iso(iso_utc(moment))
    assert timedelta(0) <= moment - back < timedelta(milliseconds=1)


@settings(max_examples=300, deadline=None)
@given(AWARE, AWARE)
def test_text_order_is_time_order(first, second):
    a, b = iso_utc(first), iso_utc(second)
    assert len(a) == len(b) == 24
    if a < b:
        assert first < second
    if first < second:
        assert a <= b  # equal only when both fall in the same millisecond


@pytest.mark.parametrize("year", [1, 5, 99, 999, 1000, 9999])
def test_years_are_always_four_digits(year):
    text = iso_utc(datetime(year, 6, 15, 12, 0, tzinfo=timezone.utc))
    assert text == f"{year:04d}-06-15T12:00:00.000Z"
    assert parse_iso(text).year == year


def test_known_value():
    moment = datetime(2026, 11, 25, 9, 30, 0, 123999, tzinfo=timezone.utc)
    assert iso_utc(moment) == "2026-11-25T09:30:00.123Z"


def test_naive_datetimes_are_taken_as_utc():
    assert iso_utc(datetime(2026, 11, 25, 9, 30)) == "2026-11-25T09:30:00.000Z"
    assert parse_iso("2026-11-25T09:30:00") == datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)


def test_offsets_are_converted_to_utc():
    paris = timezone(timedelta(hours=1))
    assert iso_utc(datetime(2026, 11, 25, 10, 30, tzinfo=paris)) == "2026-11-25T09:30:00.000Z"
    # Crossing midnight and a year boundary.
    tokyo = timezone(timedelta(hours=9))
    assert iso_utc(datetime(2027, 1, 1, 3, 0, tzinfo=tokyo)) == "2026-12-31T18:00:00.000Z"


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25T09:30:00Z",
        "2026-11-25T09:30:00z",
        "2026-11-25T09:30:00.000Z",
        "2026-11-25T09:30:00.000000Z",
        "2026-11-25T09:30:00+00:00",
        "2026-11-25T10:30:00+01:00",
        "2026-11-25T04:00:00-05:30",
        "2026-11-25T10:30:00+0100",
        "2026-11-25T09:30:00",
        "  2026-11-25T09:30:00Z\n",
        "2026-11-25 09:30:00Z",
    ],
)
def test_accepts_the_forms_networks_send(text):
    assert parse_iso(text) == datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "micro"),
    [
        ("2026-11-25T09:30:00.5Z", 500000),
        ("2026-11-25T09:30:00.12Z", 120000),
        ("2026-11-25T09:30:00.123456Z", 123456),
        ("2026-11-25T09:30:00.1234567Z", 123456),  # seven digits (X sends .000Z; some servers send more)
    ],
)
def test_accepts_any_fraction(text, micro):
    assert parse_iso(text).microsecond == micro


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-25T25:00:00Z"])
def test_rejects_what_is_not_a_timestamp(text):
    with pytest.raises(ValueError):
        parse_iso(text)


def test_utc_now_is_aware_utc():
    now = utc_now()
    assert now.utcoffset() == timedelta(0)
    assert CANONICAL.match(iso_utc(now))
