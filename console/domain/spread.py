"""How fast and how far a conversation is spreading: velocity, reach and heat.

The inputs are what the inbox records anyway: count samples (one per observed change of a post's counts), the
followers of the customers in the thread and of the people who reshared their posts, and the tone of the customer's
words. Every function here is pure and bounded, so the escalation radar can be tested with a fake clock and
synthetic series. See docs/influence.md ("Reach, velocity and heat") for the formulas and why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

# Heat weights (they add up to 100) and where each component saturates.
HOUR_POINTS = 40.0
DAY_POINTS = 15.0
REACH_POINTS = 25.0
TONE_POINTS = 20.0
HOUR_FULL = 200  # reshares in the last hour
DAY_FULL = 1_000  # reshares in the last day
REACH_FULL = 1_000_000  # people who could have seen it

DEFAULT_THRESHOLD = 60
HYSTERESIS = 15  # an escalation ends only when heat falls this far below the threshold
MIN_RESHARES_TO_START = 5  # reshares in the last hour it takes to start an escalation


@dataclass(frozen=True, slots=True)
class CountSample:
    """One observation of a post's spread: reshares plus quotes at a moment."""

    at: datetime
    reshares: int


@dataclass(frozen=True, slots=True)
class PostSeries:
    """A post's creation time and its count samples in any order."""

    created_at: datetime
    samples: tuple[CountSample, ...]


def _log_share(value: float, full: float) -> float:
    if value <= 0:
        return 0.0
    return min(1.0, math.log10(value + 1) / math.log10(full + 1))


def reshares_at(series: PostSeries, moment: datetime) -> float:
    """A post's reshares at ``moment``.

    Counts only change when Tend observes them, so after the first sample the value is the latest sample at or
    before ``moment``. Before the first sample the post was not yet seen: its count rose from 0 at creation to the
    first sample somehow, and a straight line is the least surprising guess (a post first seen an hour old with 40
    reshares did not get all 40 in the last minute).
    """
    samples = sorted(series.samples, key=lambda s: s.at)
    if not samples or moment < series.created_at:
        return 0.0
    first = samples[0]
    if moment < first.at:
        span = (first.at - series.created_at).total_seconds()
        if span <= 0 or first.at - series.created_at > DAY:
            # Seen only when already old: its reshares are history, not speed (a three-day-old post first seen
            # with 5,000 reshares must not look like 70 an hour). Its first count is the baseline.
            return float(first.reshares)
        return max(0.0, first.reshares * (moment - series.created_at).total_seconds() / span)
    latest = first.reshares
    for sample in samples:
        if sample.at > moment:
            break
        latest = sample.reshares
    return float(max(0, latest))


def reshares_gained(posts: Iterable[PostSeries], start: datetime, end: datetime) -> int:
    """Reshares a thread gained between two moments, over all its posts (a post that lost some counts as 0)."""
    total = 0.0
    for series in posts:
        total += max(0.0, reshares_at(series, end) - reshares_at(series, start))
    return round(total)


def estimate_reach(audiences: Iterable[tuple[str, int]]) -> int:
    """People who could have seen the thread: the followers of every customer in it and of everyone who reshared
    their posts, each person counted once (someone who replied and reshared, or reshared twice, is one audience).

    Followers of two people overlap in reality; without follower lists Tend cannot know by how much, so this is an
    upper estimate and is labelled "up to" in the UI.
    """
    by_person: dict[str, int] = {}
    for person, followers in audiences:
        by_person[person] = max(by_person.get(person, 0), max(0, followers))
    return sum(by_person.values())


def reshares_text(count: int) -> str:
    """"1 reshare", "2,300 reshares"."""
    return f"{count:,} reshare{'' if count == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Heat:
    """A thread's heat (0-100) and what it is made of, so the owner can see why it is hot."""

    last_hour: int
    last_day: int
    reach: int
    negativity: float
    hour_points: float
    day_points: float
    reach_points: float
    tone_points: float

    @property
    def score(self) -> int:
        return max(0, min(100, round(self.hour_points + self.day_points + self.reach_points + self.tone_points)))

    def explain(self) -> str:
        return "\n".join(
            [
                f"Heat {self.score} of 100",
                f"  {self.hour_points:4.1f} pts  {reshares_text(self.last_hour)} in the last hour",
                f"  {self.day_points:4.1f} pts  {reshares_text(self.last_day)} in the last day",
                f"  {self.reach_points:4.1f} pts  up to {self.reach:,} people reached",
                f"  {self.tone_points:4.1f} pts  the customer's tone",
            ]
        )


def heat_score(last_hour: int, last_day: int, reach: int, negativity: float) -> Heat:
    """Combine velocity, reach and tone.

    ``negativity`` is 0 (neutral or warm) to 1 (furious). Each input can only raise heat, and the score stays in
    0..100 whatever the inputs. A thread that gained no reshares in the last hour or day is not spreading: its heat
    is 0 however large the audience or angry the words (waiting time and influence rank it in "Needs reply"), so
    heat cools to nothing once a fire is out.
    """
    negativity = 0.0 if math.isnan(negativity) else min(1.0, max(0.0, negativity))
    if last_hour <= 0 and last_day <= 0:
        return Heat(0, 0, max(0, reach), negativity, 0.0, 0.0, 0.0, 0.0)
    return Heat(
        last_hour=max(0, last_hour),
        last_day=max(0, last_day),
        reach=max(0, reach),
        negativity=negativity,
        hour_points=HOUR_POINTS * _log_share(last_hour, HOUR_FULL),
        day_points=DAY_POINTS * _log_share(last_day, DAY_FULL),
        reach_points=REACH_POINTS * _log_share(reach, REACH_FULL),
        tone_points=TONE_POINTS * negativity,
    )


def thread_heat(
    posts: Sequence[PostSeries], audiences: Iterable[tuple[str, int]], negativity: float, now: datetime
) -> Heat:
    """Heat of a thread at ``now`` from its posts' count series, its audiences and the customer's tone."""
    return heat_score(
        reshares_gained(posts, now - HOUR, now),
        reshares_gained(posts, now - DAY, now),
        estimate_reach(audiences),
        negativity,
    )


def is_escalating(
    heat: int, was_escalating: bool, threshold: int = DEFAULT_THRESHOLD, *, last_hour: int = MIN_RESHARES_TO_START
) -> bool:
    """Whether a thread counts as escalating after this reading.

    It starts at ``threshold`` and ends only below ``threshold - HYSTERESIS``, so a thread hovering around the line
    does not start a new escalation (and a new notification) every minute. Escalating means spreading *now*: a
    thread with no reshares in the last hour neither starts nor stays escalating, however much its day, reach and
    tone still add up to; and starting one takes at least ``MIN_RESHARES_TO_START`` reshares in the last hour, so a
    single late reshare of yesterday's fire does not raise a new alarm.
    """
    if last_hour <= 0:
        return False
    if was_escalating:
        return heat >= threshold - HYSTERESIS
    return heat >= threshold and last_hour >= MIN_RESHARES_TO_START
