"""Chart figures: a thread's reshares over time, and each local day's volume and median first response."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from console.domain import Direction, iso_utc
from console.store.stats import _FIRST_RESPONSES, _POSTS_PER_MINUTE, DayStats, daily_activity, thread_reshare_series

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")


def moment(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def post_at(records, native_id: str, thread: str, when: datetime, direction=Direction.IN, **fields):
    """A post created (and first observed) at ``when``."""
    stamp = iso_utc(when)
    return records.post(native_id, thread, direction=direction, created_at=stamp, observed_at=stamp, **fields)


# -- reshares over time ------------------------------------------------------------------------------------------


def test_series_sums_each_posts_latest_sample_at_every_sample_time(inbox, records, helpers):
    at = helpers.at
    # Each apply is one observation: the store samples a post only when its counts change.
    inbox.apply_batch(records.batch(records.post("a", "t1", minute=0)))
    inbox.apply_batch(records.batch(records.post("b", "t1", minute=5, reshare_count=1, quote_count=1)))
    inbox.apply_batch(records.batch(records.post("a", "t1", minute=0, observed_minute=10, reshare_count=3)))
    # Both posts move at the same moment: one point, not two.
    inbox.apply_batch(records.batch(
        records.post("a", "t1", minute=0, observed_minute=20, reshare_count=5, quote_count=1),
        records.post("b", "t1", minute=5, observed_minute=20, reshare_count=4, quote_count=1),
    ))
    # Only likes moved: a sample (and a point) with the same reshare total.
    inbox.apply_batch(records.batch(
        records.post("b", "t1", minute=5, observed_minute=30, reshare_count=4, quote_count=1, like_count=9)
    ))
    # Another thread's reshares never leak in.
    inbox.apply_batch(records.batch(records.post("c", "t2", minute=1, observed_minute=15, reshare_count=50)))

    assert thread_reshare_series(inbox.db, "mastodon:t1") == [
        (at(0), 0),
        (at(5), 2),
        (at(10), 5),
        (at(20), 11),
        (at(30), 11),
    ]
    assert thread_reshare_series(inbox.db, "mastodon:t2") == [(at(15), 50)]


def test_series_counts_a_post_that_was_not_resampled_with_its_last_value(inbox, records, helpers):
    at = helpers.at
    inbox.apply_batch(records.batch(records.post("a", "t1", minute=0, reshare_count=7)))
    inbox.apply_batch(records.batch(records.post("b", "t1", minute=3, reshare_count=1)))
    inbox.apply_batch(records.batch(records.post("b", "t1", minute=3, observed_minute=9, reshare_count=2)))
    # A reshare count can fall (someone undid a boost): the total follows it down.
    inbox.apply_batch(records.batch(records.post("a", "t1", minute=0, observed_minute=12, reshare_count=4)))
    assert thread_reshare_series(inbox.db, "mastodon:t1") == [(at(0), 7), (at(3), 8), (at(9), 9), (at(12), 6)]


def test_series_of_an_unknown_thread_is_empty(inbox):
    assert thread_reshare_series(inbox.db, "mastodon:nope") == []


# -- daily activity ----------------------------------------------------------------------------------------------


@pytest.fixture
def week(inbox, records):
    """Known traffic around 24-25 November 2026 (UTC times):

    A: in 24 10:00, reply 24 10:30 (30 min), in again 25 08:00
    B: in 24 20:00, reply 24 22:00 (2 h)
    C: in 24 23:00, never answered
    D: in 25 01:00, reply 25 01:10 (10 min)
    E: in 22 12:00 (before the window), reply 23 09:00
    """
    posts = [
        post_at(records, "a1", "A", moment(24, 10)),
        post_at(records, "a2", "A", moment(24, 10, 30), Direction.OUT),
        post_at(records, "a3", "A", moment(25, 8)),
        post_at(records, "b1", "B", moment(24, 20)),
        post_at(records, "b2", "B", moment(24, 22), Direction.OUT),
        post_at(records, "c1", "C", moment(24, 23)),
        post_at(records, "d1", "D", moment(25, 1)),
        post_at(records, "d2", "D", moment(25, 1, 10), Direction.OUT),
        post_at(records, "e1", "E", moment(22, 12)),
        post_at(records, "e2", "E", moment(23, 9), Direction.OUT),
    ]
    inbox.apply_batch(records.batch(*posts))
    return inbox


def test_days_in_utc(week):
    assert daily_activity(week.db, 3, moment(25, 12), UTC) == [
        DayStats(date(2026, 11, 23), incoming=0, replies=1, median_first_response_s=None),
        DayStats(date(2026, 11, 24), incoming=3, replies=2, median_first_response_s=(1800 + 7200) / 2),
        DayStats(date(2026, 11, 25), incoming=2, replies=1, median_first_response_s=600),
    ]


def test_days_follow_the_owners_time_zone(week):
    # New York is UTC-5 in November: D's post at 01:00 UTC on the 25th arrived on the evening of the 24th.
    assert daily_activity(week.db, 3, moment(25, 12), NEW_YORK) == [
        DayStats(date(2026, 11, 23), incoming=0, replies=1, median_first_response_s=None),
        DayStats(date(2026, 11, 24), incoming=4, replies=3, median_first_response_s=1800),  # of 600, 1800, 7200
        DayStats(date(2026, 11, 25), incoming=1, replies=0, median_first_response_s=None),
    ]


def test_a_quiet_window_still_lists_every_day(week):
    days = daily_activity(week.db, 4, moment(30, 12), UTC)
    assert [d.day for d in days] == [date(2026, 11, d) for d in (27, 28, 29, 30)]
    assert all(d.incoming == d.replies == 0 and d.median_first_response_s is None for d in days)


def test_one_day_window_is_today_only(week):
    assert daily_activity(week.db, 1, moment(24, 23, 59), UTC) == [
        DayStats(date(2026, 11, 24), incoming=3, replies=2, median_first_response_s=4500),
    ]


def test_a_thread_counts_for_the_day_its_first_customer_post_arrived(inbox, records):
    # Asked late on the 24th, answered on the 25th: a 3-hour wait that belongs to the 24th.
    inbox.apply_batch(records.batch(
        post_at(records, "x1", "X", moment(24, 23)),
        post_at(records, "x2", "X", moment(25, 2), Direction.OUT),
    ))
    assert daily_activity(inbox.db, 2, moment(25, 12), UTC) == [
        DayStats(date(2026, 11, 24), incoming=1, replies=0, median_first_response_s=3 * 3600),
        DayStats(date(2026, 11, 25), incoming=0, replies=1, median_first_response_s=None),
    ]


def test_day_boundary_at_a_quarter_hour_offset(inbox, records):
    kathmandu = ZoneInfo("Asia/Kathmandu")  # UTC+5:45: midnight falls at 18:15 UTC
    inbox.apply_batch(records.batch(
        post_at(records, "k1", "K1", moment(24, 18, 14)),  # 23:59 on the 24th
        post_at(records, "k2", "K2", moment(24, 18, 15)),  # 00:00 on the 25th
    ))
    days = daily_activity(inbox.db, 2, moment(25, 6), kathmandu)
    assert [(d.day.day, d.incoming) for d in days] == [(24, 1), (25, 1)]


def test_the_day_clocks_go_back_has_25_hours(inbox, records):
    berlin = ZoneInfo("Europe/Berlin")  # summer time ends 25 October 2026 at 01:00 UTC
    inbox.apply_batch(records.batch(
        post_at(records, "s1", "S1", moment(24, 22, 30, month=10)),  # 00:30 CEST on the 25th
        post_at(records, "s2", "S2", moment(25, 22, 30, month=10)),  # 23:30 CET on the 25th
        post_at(records, "s3", "S3", moment(25, 23, 30, month=10)),  # 00:30 CET on the 26th
    ))
    days = daily_activity(inbox.db, 3, moment(26, 12, month=10), berlin)
    assert [(d.day.day, d.incoming) for d in days] == [(24, 0), (25, 2), (26, 1)]


@pytest.fixture
def system_zone(monkeypatch) -> Iterator[None]:
    """Run with the computer's zone set to New York, and put the real one back afterwards."""
    if not hasattr(time, "tzset"):
        pytest.skip("the system time zone can only be changed on POSIX")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_no_zone_means_the_computers_local_time(week, system_zone):
    assert daily_activity(week.db, 3, moment(25, 12)) == daily_activity(week.db, 3, moment(25, 12), NEW_YORK)


def test_a_naive_now_is_utc(week):
    naive = datetime(2026, 11, 25, 12, 0)
    assert daily_activity(week.db, 3, naive, UTC) == daily_activity(week.db, 3, moment(25, 12), UTC)


def test_days_must_be_positive(inbox):
    with pytest.raises(ValueError):
        daily_activity(inbox.db, 0, moment(25, 12), UTC)


@pytest.mark.parametrize("sql", [_POSTS_PER_MINUTE, _FIRST_RESPONSES])
def test_daily_queries_read_through_indexes_not_the_whole_inbox(inbox, sql):
    plan = " | ".join(row[3] for row in inbox.db.execute(f"EXPLAIN QUERY PLAN {sql}", {"start": "", "end": ""}))
    assert "threads_by_activity" in plan
    assert "posts_by_thread" in plan
    assert "SCAN p " not in plan + " " and "SCAN posts" not in plan and "SCAN t " not in plan + " "
