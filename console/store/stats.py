"""Figures behind the charts: how a thread's reshares grew, and how busy each day was and how fast it was answered.

Both are bounded: a thread's series reads only that thread's samples, and the daily figures read only threads
active in the window (``threads_by_activity``), then their posts through ``posts_by_thread``, never the whole
inbox. Day boundaries are the owner's local calendar days, which SQLite cannot compute for an arbitrary time zone,
so the SQL groups by UTC minute and Python assigns each minute to its local day.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

import sqlite_utils

from console.domain.timeutil import iso_utc, parse_iso


@dataclass(frozen=True, slots=True)
class DayStats:
    """One local calendar day: customer posts received, business posts sent, and the median first response (in
    seconds) of the threads whose first customer post arrived that day (``None`` when none of them was answered)."""

    day: date
    incoming: int
    replies: int
    median_first_response_s: float | None


_THREAD_SAMPLES = """
SELECT s.observed_at, s.post_id, s.reshare_count + s.quote_count
FROM count_samples s
WHERE s.post_id IN (SELECT id FROM posts WHERE thread_id = ?)
ORDER BY s.observed_at, s.post_id
"""


def thread_reshare_series(db: sqlite_utils.Database, thread_id: str) -> list[tuple[str, int]]:
    """The thread's reshares plus quotes over time, one point per distinct sample time, oldest first.

    Samples are taken per post and only when a post's counts change, so at any moment the thread total is the sum
    of each post's latest sample so far: a post not sampled at that moment still counts with its last known value.
    """
    latest: dict[str, int] = {}
    total = 0
    points: list[tuple[str, int]] = []
    for observed_at, post_id, reshares in db.execute(_THREAD_SAMPLES, (thread_id,)).fetchall():
        total += reshares - latest.get(post_id, 0)
        latest[post_id] = reshares
        if points and points[-1][0] == observed_at:
            points[-1] = (observed_at, total)
        else:
            points.append((observed_at, total))
    return points


# Threads with a post in the window have ``last_activity_at`` (their newest post) in or after it, so the window's
# start bounds the threads read; each thread's posts in the window are then an index range of posts_by_thread.
_POSTS_PER_MINUTE = """
SELECT substr(p.created_at, 1, 16) AS minute, p.direction, count(*)
FROM threads t
JOIN posts p ON p.thread_id = t.id AND p.direction IN ('in', 'out')
            AND p.created_at >= :start AND p.created_at < :end
WHERE t.last_activity_at >= :start
GROUP BY minute, p.direction
"""

# MATERIALIZED: otherwise SQLite inlines the subquery and seeks each thread's first post three times.
_FIRST_RESPONSES = """
WITH active AS MATERIALIZED (
    SELECT t.first_response_at,
           (SELECT min(i.created_at) FROM posts i WHERE i.thread_id = t.id AND i.direction = 'in') AS first_in
    FROM threads t
    WHERE t.last_activity_at >= :start
)
SELECT first_in, first_response_at FROM active WHERE first_in >= :start AND first_in < :end
"""


def daily_activity(
    db: sqlite_utils.Database, days: int, now: datetime, tz: tzinfo | None = None
) -> list[DayStats]:
    """The last ``days`` local calendar days up to and including ``now``'s, oldest first, one entry per day even
    when it was quiet (a chart needs the empty days too).

    ``tz`` is the owner's time zone (a ``zoneinfo.ZoneInfo`` or ``datetime.timezone``); ``None`` means the
    computer's local time, with its daylight-saving rules applied per moment. A naive ``now`` is taken as UTC, as
    everywhere in the inbox.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    today = _local(now, tz).date()
    first_day = today - timedelta(days=days - 1)
    params = {"start": iso_utc(_midnight(first_day, tz)), "end": iso_utc(_midnight(today + timedelta(days=1), tz))}

    incoming: dict[date, int] = defaultdict(int)
    replies: dict[date, int] = defaultdict(int)
    for minute, direction, count in db.execute(_POSTS_PER_MINUTE, params).fetchall():
        day = _local(parse_iso(minute + ":00Z"), tz).date()
        (incoming if direction == "in" else replies)[day] += count

    waits: dict[date, list[float]] = defaultdict(list)
    for first_in, first_response_at in db.execute(_FIRST_RESPONSES, params).fetchall():
        if first_response_at is None:
            continue  # not answered yet: it has no first-response time to count
        arrived = parse_iso(first_in)
        waits[_local(arrived, tz).date()].append((parse_iso(first_response_at) - arrived).total_seconds())

    result = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        median = statistics.median(waits[day]) if waits.get(day) else None
        result.append(DayStats(day, incoming.get(day, 0), replies.get(day, 0), median))
    return result


def _local(moment: datetime, tz: tzinfo | None) -> datetime:
    return moment.astimezone(tz) if tz is not None else moment.astimezone()


def _midnight(day: date, tz: tzinfo | None) -> datetime:
    """The moment a local day starts. With no zone, ``astimezone()`` on a naive time asks the system's rules for that
    very date, so a day-saving change inside the window is honoured."""
    naive = datetime.combine(day, time())
    return naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()
