"""Reach, velocity and heat: bounded, monotone, de-duplicated, and calm about threads hovering at the line."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from console.domain.spread import (
    DAY,
    DAY_FULL,
    DAY_POINTS,
    DEFAULT_THRESHOLD,
    HOUR,
    HOUR_FULL,
    HOUR_POINTS,
    HYSTERESIS,
    MIN_RESHARES_TO_START,
    REACH_FULL,
    REACH_POINTS,
    TONE_POINTS,
    CountSample,
    Heat,
    PostSeries,
    estimate_reach,
    heat_score,
    is_escalating,
    reshares_at,
    reshares_gained,
    thread_heat,
)

FAST = settings(max_examples=300, deadline=None)
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=timezone.utc)

# Counts well past every saturation point, plus the negatives a buggy API (or a deleted reshare) may produce.
COUNT = st.integers(min_value=-1_000, max_value=10**12)
NEGATIVITY = st.floats(allow_nan=True, allow_infinity=True)
UNIT = st.floats(min_value=0.0, max_value=1.0)
GROWTH = st.integers(min_value=0, max_value=10**9)
WEIGHTS = {
    "hour_points": HOUR_POINTS,
    "day_points": DAY_POINTS,
    "reach_points": REACH_POINTS,
    "tone_points": TONE_POINTS,
}


def _components(heat: Heat) -> dict[str, float]:
    return {name: getattr(heat, name) for name in WEIGHTS}


def at(minutes: float) -> datetime:
    """A moment relative to NOW, in minutes (negative is the past)."""
    return NOW + timedelta(minutes=minutes)


def series(created_minutes: float, *points: tuple[float, int]) -> PostSeries:
    return PostSeries(at(created_minutes), tuple(CountSample(at(m), n) for m, n in points))


# -- synthetic sample series ------------------------------------------------------------------------------------------
# Whole seconds after creation keep the arithmetic exact; distinct sample times keep "the latest sample" well defined.

THREE_DAYS = 3 * 86_400


@st.composite
def monotone_series(draw: st.DrawFn, max_samples: int = 8) -> PostSeries:
    """A post created some time before NOW whose counts only ever grow, its samples handed over in any order."""
    created_offset = draw(st.integers(min_value=0, max_value=THREE_DAYS))
    created = NOW - timedelta(seconds=created_offset)
    times = sorted(draw(st.sets(st.integers(min_value=0, max_value=THREE_DAYS), min_size=1, max_size=max_samples)))
    counts, total = [], 0
    for _ in times:
        total += draw(st.integers(min_value=0, max_value=5_000))
        counts.append(total)
    samples = [CountSample(created + timedelta(seconds=t), n) for t, n in zip(times, counts)]
    draw(st.randoms(use_true_random=False)).shuffle(samples)
    return PostSeries(created, tuple(samples))


@st.composite
def any_series(draw: st.DrawFn) -> PostSeries:
    """Counts that may fall (a reshare undone, a post deleted) or even be negative (a buggy API)."""
    created = NOW - timedelta(seconds=draw(st.integers(min_value=0, max_value=THREE_DAYS)))
    times = draw(st.sets(st.integers(min_value=-3_600, max_value=THREE_DAYS), min_size=0, max_size=8))
    samples = tuple(
        CountSample(created + timedelta(seconds=t), draw(st.integers(min_value=-100, max_value=10_000))) for t in times
    )
    return PostSeries(created, samples)


MOMENT = st.integers(min_value=-4 * 86_400, max_value=86_400).map(lambda s: NOW + timedelta(seconds=s))


# -- heat: bounds ---------------------------------------------------------------------------------------------------


def test_the_weights_add_up_to_100():
    assert sum(WEIGHTS.values()) == 100


@FAST
@given(COUNT, COUNT, COUNT, NEGATIVITY)
def test_heat_is_an_int_from_0_to_100(last_hour, last_day, reach, negativity):
    score = heat_score(last_hour, last_day, reach, negativity).score
    assert type(score) is int
    assert 0 <= score <= 100


@FAST
@given(COUNT, COUNT, COUNT, NEGATIVITY)
def test_each_component_stays_within_its_weight_and_they_sum_to_the_score(last_hour, last_day, reach, negativity):
    heat = heat_score(last_hour, last_day, reach, negativity)
    for name, points in _components(heat).items():
        assert 0.0 <= points <= WEIGHTS[name], name
    assert heat.score == round(sum(_components(heat).values()))
    assert heat.last_hour >= 0 and heat.last_day >= 0 and heat.reach >= 0
    assert 0.0 <= heat.negativity <= 1.0


# -- heat: each input can only raise it --------------------------------------------------------------------------------


@FAST
@given(COUNT, COUNT, COUNT, NEGATIVITY, GROWTH)
def test_more_reshares_in_the_last_hour_never_cools(last_hour, last_day, reach, negativity, extra):
    before = heat_score(last_hour, last_day, reach, negativity)
    after = heat_score(last_hour + extra, last_day, reach, negativity)
    assert after.score >= before.score
    assert after.hour_points >= before.hour_points


@FAST
@given(COUNT, COUNT, COUNT, NEGATIVITY, GROWTH)
def test_more_reshares_in_the_last_day_never_cools(last_hour, last_day, reach, negativity, extra):
    before = heat_score(last_hour, last_day, reach, negativity)
    after = heat_score(last_hour, last_day + extra, reach, negativity)
    assert after.score >= before.score
    assert after.day_points >= before.day_points


@FAST
@given(COUNT, COUNT, COUNT, NEGATIVITY, GROWTH)
def test_a_larger_reach_never_cools(last_hour, last_day, reach, negativity, extra):
    before = heat_score(last_hour, last_day, reach, negativity)
    after = heat_score(last_hour, last_day, reach + extra, negativity)
    assert after.score >= before.score
    assert after.reach_points >= before.reach_points


@FAST
@given(COUNT, COUNT, COUNT, UNIT, UNIT)
def test_angrier_words_never_cool(last_hour, last_day, reach, a, b):
    calmer, angrier = sorted((a, b))
    before = heat_score(last_hour, last_day, reach, calmer)
    after = heat_score(last_hour, last_day, reach, angrier)
    assert after.score >= before.score
    assert after.tone_points >= before.tone_points


@FAST
@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 10**8), UNIT)
def test_heat_is_monotone_in_all_inputs_at_once(last_hour, last_day, reach, negativity):
    low = heat_score(last_hour, last_day, reach, negativity / 2)
    high = heat_score(2 * last_hour, 2 * last_day, 2 * reach, negativity)
    assert high.score >= low.score


# -- heat: odd inputs ------------------------------------------------------------------------------------------------


def test_nan_negativity_counts_as_calm():
    assert heat_score(10, 50, 5_000, math.nan) == heat_score(10, 50, 5_000, 0.0)


@pytest.mark.parametrize(("given_", "clamped"), [(-0.5, 0.0), (-math.inf, 0.0), (1.7, 1.0), (math.inf, 1.0)])
def test_negativity_is_clamped_to_0_1(given_, clamped):
    assert heat_score(10, 50, 5_000, given_) == heat_score(10, 50, 5_000, clamped)


def test_negative_counts_count_as_zero():
    assert heat_score(-5, 10, -300, 0.5) == heat_score(0, 10, 0, 0.5)
    assert heat_score(-5, -10, 10**6, 1.0).score == 0


@FAST
@given(st.integers(-1_000, 0), st.integers(-1_000, 0), COUNT, NEGATIVITY)
def test_a_thread_that_is_not_spreading_has_no_heat(last_hour, last_day, reach, negativity):
    """However large the audience or angry the words: waiting time and influence rank those, not heat."""
    heat = heat_score(last_hour, last_day, reach, negativity)
    assert heat.score == 0
    assert set(_components(heat).values()) == {0.0}


def test_saturation():
    assert heat_score(HOUR_FULL, DAY_FULL, REACH_FULL, 1.0).score == 100
    assert heat_score(10**9, 10**9, 10**12, 1.0).score == 100
    full = heat_score(HOUR_FULL, DAY_FULL, REACH_FULL, 1.0)
    assert _components(full) == pytest.approx(WEIGHTS)
    # Below saturation every component is short of its weight.
    short = heat_score(HOUR_FULL - 1, DAY_FULL - 1, REACH_FULL - 1, 0.99)
    assert all(points < WEIGHTS[name] for name, points in _components(short).items())


# -- heat: known numbers ---------------------------------------------------------------------------------------------


def _share(value: float, full: float) -> float:
    return min(1.0, math.log10(value + 1) / math.log10(full + 1)) if value > 0 else 0.0


@pytest.mark.parametrize(
    ("last_hour", "last_day", "reach", "negativity", "points", "score"),
    [
        # A single reshare in the last hour, nobody reached, calm words.
        (1, 1, 0, 0.0, (5.23, 1.50, 0.0, 0.0), 7),
        # The ordinary complaint: one reshare this hour, two today, 530 people, fairly angry.
        (1, 2, 530, 0.8, (5.23, 2.39, 11.36, 16.0), 35),
        # Busy but friendly: 14 reshares this hour, 60 today, 2,300 followers' worth of reach.
        (14, 60, 2_300, 0.1, (20.42, 8.93, 14.01, 2.0), 45),
        # A snowball: 2,000 this hour (past saturation), 52,550 people, angry.
        (2_000, 2_003, 52_550, 0.8, (40.0, 15.0, 19.67, 16.0), 91),
        # Everything saturated.
        (200, 1_000, 1_000_000, 1.0, (40.0, 15.0, 25.0, 20.0), 100),
        # Reshares only earlier today (none this hour): at most 15 + 25 + 20 = 60.
        (0, 1_000, 1_000_000, 1.0, (0.0, 15.0, 25.0, 20.0), 60),
        # Not spreading: no heat at all.
        (0, 0, 1_000_000, 1.0, (0.0, 0.0, 0.0, 0.0), 0),
    ],
)
def test_heat_table(last_hour, last_day, reach, negativity, points, score):
    heat = heat_score(last_hour, last_day, reach, negativity)
    assert (heat.hour_points, heat.day_points, heat.reach_points, heat.tone_points) == pytest.approx(points, abs=0.006)
    assert heat.score == score
    if last_hour > 0 or last_day > 0:
        # The same numbers from the formula written out.
        assert heat.hour_points == pytest.approx(40 * _share(last_hour, 200))
        assert heat.day_points == pytest.approx(15 * _share(last_day, 1_000))
        assert heat.reach_points == pytest.approx(25 * _share(reach, 1_000_000))
        assert heat.tone_points == pytest.approx(20 * negativity)


def test_each_tenfold_step_in_reach_adds_the_same_points():
    def reach_points(n: int) -> float:
        return heat_score(1, 1, n, 0.0).reach_points

    assert reach_points(9_999) - reach_points(999) == pytest.approx(reach_points(99_999) - reach_points(9_999))


def test_explain_lists_the_score_and_every_component():
    heat = heat_score(14, 60, 2_300, 0.1)
    assert heat.explain() == (
        "Heat 45 of 100\n"
        "  20.4 pts  14 reshares in the last hour\n"
        "   8.9 pts  60 reshares in the last day\n"
        "  14.0 pts  up to 2,300 people reached\n"
        "   2.0 pts  the customer's tone"
    )


@FAST
@given(COUNT, COUNT, COUNT, NEGATIVITY)
def test_explain_always_has_five_lines(last_hour, last_day, reach, negativity):
    heat = heat_score(last_hour, last_day, reach, negativity)
    lines = heat.explain().splitlines()
    assert lines[0] == f"Heat {heat.score} of 100"
    assert len(lines) == 5


def test_heat_is_immutable():
    with pytest.raises(AttributeError):
        heat_score(1, 1, 1, 0.0).hour_points = 99  # type: ignore[misc]


# -- reshares_at -----------------------------------------------------------------------------------------------------


@FAST
@given(monotone_series(), MOMENT, MOMENT)
def test_a_growing_post_never_shrinks_over_time(post, a, b):
    earlier, later = sorted((a, b))
    assert reshares_at(post, earlier) <= reshares_at(post, later)


@FAST
@given(any_series(), MOMENT)
def test_reshares_at_is_never_negative(post, moment):
    assert reshares_at(post, moment) >= 0.0


@FAST
@given(any_series(), st.integers(min_value=1, max_value=10**7))
def test_nothing_before_creation(post, seconds_before):
    assert reshares_at(post, post.created_at - timedelta(seconds=seconds_before)) == 0.0


@FAST
@given(any_series(), MOMENT)
def test_after_the_first_sample_it_is_the_latest_sample(post, moment):
    samples = sorted(post.samples, key=lambda s: s.at)
    assume(samples and samples[0].at <= moment and post.created_at <= moment)
    latest = [s for s in samples if s.at <= moment][-1]
    assert reshares_at(post, moment) == max(0, latest.reshares)


@FAST
@given(monotone_series(), st.floats(min_value=0.0, max_value=1.0))
def test_before_the_first_sample_it_climbs_in_a_straight_line_from_creation(post, fraction):
    first = min(post.samples, key=lambda s: s.at)
    span = first.at - post.created_at
    assume(timedelta(0) < span <= DAY)
    moment = post.created_at + span * fraction
    assume(moment < first.at)
    elapsed = (moment - post.created_at) / span
    assert reshares_at(post, moment) == pytest.approx(first.reshares * elapsed)
    assert reshares_at(post, post.created_at) == 0.0


@FAST
@given(
    st.floats(min_value=1.0001, max_value=30.0),
    st.integers(min_value=0, max_value=10**6),
    st.floats(min_value=0.0, max_value=0.9999),
)
def test_a_post_first_seen_after_a_day_keeps_its_first_count_as_history(days_old, reshares, fraction):
    first_seen = DAY * days_old
    post = PostSeries(NOW - first_seen, (CountSample(NOW, reshares),))
    moment = post.created_at + first_seen * fraction
    assert reshares_at(post, moment) == reshares


def test_an_old_post_first_seen_with_many_reshares_is_not_spreading():
    old = series(-3 * 24 * 60, (0, 5_000))  # three days old, first seen now with 5,000 reshares
    assert reshares_gained([old], NOW - HOUR, NOW) == 0
    assert thread_heat([old], [("a", 10_000)], 0.5, NOW).score == 0


@FAST
@given(any_series(), MOMENT, st.randoms(use_true_random=False))
def test_sample_order_does_not_matter(post, moment, rng):
    shuffled = list(post.samples)
    rng.shuffle(shuffled)
    assert reshares_at(PostSeries(post.created_at, tuple(shuffled)), moment) == reshares_at(post, moment)


def test_reshares_at_by_hand():
    # Created 60 min ago, first seen 20 min ago with 40 reshares, then 90 at 10 min ago.
    post = series(-60, (-20, 40), (-10, 90))
    assert reshares_at(post, at(-61)) == 0.0  # before creation
    assert reshares_at(post, at(-60)) == 0.0  # at creation
    assert reshares_at(post, at(-40)) == pytest.approx(20.0)  # half-way to the first sample: a straight line
    assert reshares_at(post, at(-20)) == 40.0  # the first sample
    assert reshares_at(post, at(-15)) == 40.0  # steps, not a line, between samples: counts change when seen
    assert reshares_at(post, at(-10)) == 90.0
    assert reshares_at(post, at(+600)) == 90.0  # the latest sample holds


def test_a_post_never_sampled_has_no_reshares():
    assert reshares_at(series(-60), NOW) == 0.0


def test_a_first_sample_at_creation_holds_from_creation():
    post = series(-30, (-30, 12))
    assert reshares_at(post, at(-30)) == 12.0
    assert reshares_at(post, at(-31)) == 0.0


# -- reshares_gained --------------------------------------------------------------------------------------------------


@FAST
@given(st.lists(any_series(), max_size=4), MOMENT, MOMENT)
def test_gained_is_never_negative(posts, start, end):
    assert reshares_gained(posts, start, end) >= 0


@FAST
@given(st.lists(monotone_series(), max_size=4), MOMENT, MOMENT, MOMENT)
def test_gained_adds_up_over_adjacent_windows(posts, a, b, c):
    start, middle, end = sorted((a, b, c))
    parts = reshares_gained(posts, start, middle) + reshares_gained(posts, middle, end)
    assert abs(parts - reshares_gained(posts, start, end)) <= 1  # each window rounds once


@FAST
@given(st.lists(monotone_series(), max_size=4), MOMENT, MOMENT)
def test_gained_for_growing_posts_is_the_rise_in_the_total(posts, a, b):
    start, end = sorted((a, b))
    rise = sum(reshares_at(p, end) for p in posts) - sum(reshares_at(p, start) for p in posts)
    assert reshares_gained(posts, start, end) == round(rise)


@FAST
@given(st.lists(monotone_series(), max_size=4), MOMENT, st.integers(0, 86_400), st.integers(0, 86_400))
def test_a_wider_window_never_gains_less(posts, end, narrow, extra):
    narrow_gain = reshares_gained(posts, end - timedelta(seconds=narrow), end)
    wide_gain = reshares_gained(posts, end - timedelta(seconds=narrow + extra), end)
    assert wide_gain >= narrow_gain


def test_a_post_that_loses_reshares_counts_zero_not_minus():
    losing = series(-120, (-90, 100), (-30, 40))  # reshares undone
    growing = series(-120, (-90, 5), (-30, 15))
    assert reshares_gained([losing], at(-60), NOW) == 0
    # The loss does not cancel another post's gain.
    assert reshares_gained([losing, growing], at(-60), NOW) == 10


def test_a_window_that_ends_before_it_starts_gains_nothing():
    post = series(-120, (-90, 5), (-30, 15))
    assert reshares_gained([post], NOW, at(-60)) == 0


def test_gained_by_hand():
    # Seen at 10 reshares 90 min ago (created 2 h ago), then 50 and 250 within the last hour.
    root = series(-120, (-90, 10), (-40, 50), (-5, 250))
    # A reply that went round too: created 50 min ago, first seen 25 min ago with 30.
    reply = series(-50, (-25, 30))
    assert reshares_gained([root], at(-60), NOW) == 240
    assert reshares_gained([reply], at(-60), NOW) == 30
    assert reshares_gained([root, reply], at(-60), NOW) == 270
    # Half-way through the reply's unseen climb: 15 of its 30 came in the last 12.5 minutes.
    assert reshares_gained([reply], at(-37.5), NOW) == 15
    assert reshares_gained([root, reply], NOW - DAY, NOW) == 280


# -- estimate_reach ---------------------------------------------------------------------------------------------------

PERSON = st.sampled_from(["ana", "ben", "cho", "dev", "eli", "fay"])
AUDIENCES = st.lists(st.tuples(PERSON, st.integers(min_value=-100, max_value=10**8)), max_size=12)


def test_the_same_person_twice_counts_once_at_the_larger_figure():
    # Ana replied (seen at 300 followers) and later reshared (seen at 320): one audience of 320.
    assert estimate_reach([("ana", 300), ("ben", 50_000), ("ana", 320)]) == 50_320
    assert estimate_reach([("ana", 320), ("ana", 300)]) == 320


def test_reach_by_hand():
    assert estimate_reach([]) == 0
    assert estimate_reach([("ana", -5)]) == 0
    assert estimate_reach([("ana", 110), ("ben", 52_000), ("cho", 3_000), ("ben", 52_000)]) == 55_110


@FAST
@given(AUDIENCES, st.randoms(use_true_random=False))
def test_reach_does_not_depend_on_order(audiences, rng):
    shuffled = list(audiences)
    rng.shuffle(shuffled)
    assert estimate_reach(shuffled) == estimate_reach(audiences)


@FAST
@given(AUDIENCES)
def test_reach_is_the_sum_over_distinct_people_of_their_largest_figure(audiences):
    people = {person for person, _ in audiences}
    expected = sum(max(0, max(f for p, f in audiences if p == person)) for person in people)
    assert estimate_reach(audiences) == expected


@FAST
@given(AUDIENCES)
def test_repeating_someone_changes_nothing(audiences):
    assert estimate_reach(audiences + audiences) == estimate_reach(audiences)


@FAST
@given(AUDIENCES, PERSON, st.integers(min_value=0, max_value=10**8))
def test_another_audience_never_shrinks_the_reach(audiences, person, followers):
    assert estimate_reach([*audiences, (person, followers)]) >= estimate_reach(audiences)


# -- is_escalating ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heat", "was", "expected"),
    [
        (59, False, False),
        (60, False, True),  # starts at the threshold
        (100, False, True),
        (59, True, True),  # keeps going below the threshold...
        (45, True, True),  # ...down to threshold - 15
        (44, True, False),  # and ends below it
        (0, True, False),
        (0, False, False),
    ],
)
def test_escalation_starts_at_the_threshold_and_ends_15_below(heat, was, expected):
    assert DEFAULT_THRESHOLD == 60 and HYSTERESIS == 15
    assert is_escalating(heat, was) is expected


@pytest.mark.parametrize("threshold", [30, 50, 75, 90])
def test_a_custom_threshold_moves_both_lines(threshold):
    assert is_escalating(threshold, False, threshold)
    assert not is_escalating(threshold - 1, False, threshold)
    assert is_escalating(threshold - HYSTERESIS, True, threshold)
    assert not is_escalating(threshold - HYSTERESIS - 1, True, threshold)


def _run(readings: list[int], threshold: int = DEFAULT_THRESHOLD) -> tuple[int, list[bool]]:
    """Feed readings through the radar; return how many escalations started and the state after each."""
    was, starts, states = False, 0, []
    for heat in readings:
        now = is_escalating(heat, was, threshold)
        starts += now and not was
        states.append(now)
        was = now
    return starts, states


def test_a_thread_hovering_around_the_line_does_not_flap():
    starts, states = _run([58, 61, 59, 62, 57, 60, 55, 63, 50, 61])
    assert starts == 1
    assert states == [False] + [True] * 9


def test_a_thread_that_cools_properly_ends_and_can_start_again():
    starts, states = _run([70, 50, 44, 50, 59, 60])
    assert states == [True, True, False, False, False, True]
    assert starts == 2


@FAST
@given(st.integers(DEFAULT_THRESHOLD, 100), st.lists(st.integers(DEFAULT_THRESHOLD - HYSTERESIS, 100), max_size=50))
def test_once_started_readings_within_the_band_never_end_it(first, rest):
    starts, states = _run([first, *rest])
    assert starts == 1
    assert all(states)


@FAST
@given(st.lists(st.integers(0, 100), max_size=60))
def test_each_new_escalation_needs_a_real_cool_down_in_between(readings):
    """Between two starts there is a reading below threshold - 15: no notification every minute."""
    _, states = _run(readings)
    start_indexes = [i for i, s in enumerate(states) if s and (i == 0 or not states[i - 1])]
    for a, b in zip(start_indexes, start_indexes[1:]):
        assert any(heat < DEFAULT_THRESHOLD - HYSTERESIS for heat in readings[a:b])
    for i, state in enumerate(states):
        if state:
            assert readings[i] >= DEFAULT_THRESHOLD - HYSTERESIS
        else:
            assert readings[i] < DEFAULT_THRESHOLD


# -- thread_heat: a snowball and an ordinary complaint ---------------------------------------------------------------


def _snowball() -> tuple[list[PostSeries], list[tuple[str, int]]]:
    """Like the demo's scripted complaint: a small customer's post that a 52,000-follower account reshared.

    The complaint was posted 50 minutes ago and had 2 reshares when Tend first saw it, five minutes ago. Then the big
    account reshared it and within four minutes it had 2,400 reshares; the big account's own post gathered 600.
    """
    root = series(-50, (-5, 2), (-4, 150), (-3.5, 900), (-3, 1_700), (-2, 2_200), (-1, 2_400))
    big_repost = series(-4.5, (-4, 20), (-3.5, 220), (-2, 550), (-1, 600))
    audiences = [
        ("mastodon:ana", 110),  # the customer
        ("mastodon:foodie", 52_000),  # the big account that reshared it
        ("mastodon:ana", 110),  # the customer again, on her follow-up
        ("mastodon:ben", 3_000),  # customers piling on
        ("mastodon:cho", 1_500),
        ("mastodon:foodie", 52_000),  # the big account reshared a reply too: still one audience
    ]
    return [root, big_repost], audiences


def _ordinary_complaint() -> tuple[list[PostSeries], list[tuple[str, int]]]:
    """A 300-follower customer's complaint from three hours ago: a friend reshared it, then another this hour."""
    root = series(-180, (-170, 0), (-120, 1), (-30, 2))
    audiences = [("mastodon:dev", 300), ("mastodon:eli", 150), ("mastodon:fay", 80)]
    return [root], audiences


def test_a_snowballing_complaint_escalates():
    posts, audiences = _snowball()
    heat = thread_heat(posts, audiences, 0.8, NOW)
    # Both posts are younger than an hour, so all 2,400 + 600 reshares came in the last hour.
    assert (heat.last_hour, heat.last_day) == (3_000, 3_000)
    assert heat.reach == 56_610
    assert heat.score >= DEFAULT_THRESHOLD
    assert heat.score == 91
    assert is_escalating(heat.score, False)


def test_a_snowball_escalates_even_in_calm_words():
    posts, audiences = _snowball()
    assert thread_heat(posts, audiences, 0.0, NOW).score >= DEFAULT_THRESHOLD


def test_an_ordinary_complaint_stays_below_the_line():
    posts, audiences = _ordinary_complaint()
    heat = thread_heat(posts, audiences, 0.8, NOW)
    assert (heat.last_hour, heat.last_day, heat.reach) == (1, 2, 530)
    assert heat.score == 35
    assert not is_escalating(heat.score, False)
    # Even furious, it does not escalate.
    assert thread_heat(posts, audiences, 1.0, NOW).score < DEFAULT_THRESHOLD


def test_a_snowball_cools_once_it_stops_spreading():
    posts, audiences = _snowball()
    tomorrow = NOW + DAY + HOUR
    later = thread_heat(posts, audiences, 0.8, NOW + 2 * HOUR)  # nothing new in the last hour
    assert later.score < DEFAULT_THRESHOLD  # no new escalation
    assert (later.last_hour, later.last_day, later.score) == (0, 3_000, 51)  # the figures in docs/influence.md
    assert thread_heat(posts, audiences, 0.0, NOW + 2 * HOUR).score == 35
    assert thread_heat(posts, audiences, 0.8, tomorrow).score == 0


def test_the_snowball_breakdown_in_the_docs():
    posts, audiences = _snowball()
    assert thread_heat(posts, audiences, 0.0, NOW).score == 75
    assert thread_heat(posts, audiences, 0.8, NOW).explain() == (
        "Heat 91 of 100\n"
        "  40.0 pts  3,000 reshares in the last hour\n"
        "  15.0 pts  3,000 reshares in the last day\n"
        "  19.8 pts  up to 56,610 people reached\n"
        "  16.0 pts  the customer's tone"
    )


def test_a_thread_with_no_samples_has_no_heat():
    assert thread_heat([], [("ana", 10**6)], 1.0, NOW).score == 0


@FAST
@given(st.lists(monotone_series(), max_size=3), AUDIENCES, UNIT)
def test_thread_heat_is_heat_score_of_the_windows(posts, audiences, negativity):
    heat = thread_heat(posts, audiences, negativity, NOW)
    assert heat == heat_score(
        reshares_gained(posts, NOW - HOUR, NOW),
        reshares_gained(posts, NOW - DAY, NOW),
        estimate_reach(audiences),
        negativity,
    )
    assert heat.last_hour <= heat.last_day + 1  # the hour is inside the day (each rounds once)


def test_demo_like_snowballs_all_escalate_even_calmly_worded():
    """The demo's script: a post 35-90 min old, seen with 1-3 reshares, reshared by a big account (52,000 followers
    and up) a few 3-second ticks later, then a logistic climb to a ceiling of 1,800-3,500. Every one of them crosses
    the line while it is climbing and for the rest of the hour."""
    rng = random.Random(6)
    for _ in range(200):
        created = -rng.uniform(35, 90)  # minutes before the live run starts
        ceiling = rng.randint(1_800, 3_500)
        start_tick = rng.randint(2, 4)
        points = [(0.0, rng.randint(1, 3))]
        for since in range(0, 91):
            level = int(ceiling / (1 + math.exp(-0.35 * (since - 12))))
            points.append(((start_tick + since) * 3 / 60, max(points[-1][1], level)))
        big = min(2_000_000, int(52_000 * rng.paretovariate(1.1)))
        audiences = [("customer", rng.randint(3, 499)), ("big", big)]
        for minutes_in in (1.5, 5, 30, 55):
            now = at(minutes_in)
            root = PostSeries(at(created), tuple(CountSample(at(m), n) for m, n in points if at(m) <= now))
            heat = thread_heat([root], audiences, 0.0, now)
            assert heat.score >= DEFAULT_THRESHOLD, (created, ceiling, big, minutes_in, heat)


def test_escalating_means_spreading_now():
    assert not is_escalating(99, False, last_hour=0)  # day, reach and tone alone never start one
    assert not is_escalating(99, True, last_hour=0)  # an hour without reshares ends one
    assert not is_escalating(99, False, last_hour=MIN_RESHARES_TO_START - 1)  # one late reshare is no new alarm
    assert is_escalating(99, False, last_hour=MIN_RESHARES_TO_START)
    assert is_escalating(DEFAULT_THRESHOLD - HYSTERESIS, True, last_hour=1)  # a running one needs only to move


def test_heat_explains_itself_in_the_singular_too():
    text = heat_score(1, 1, 500, 0.0).explain()
    assert "1 reshare in the last hour" in text and "1 reshare in the last day" in text
