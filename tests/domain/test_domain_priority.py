"""The order of "Needs reply": fires first, nobody waits forever, closed hours do not count, and time alone never
reshuffles the list."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.hours import BusinessHours
from console.domain.priority import (
    HEAT_HEAD_START,
    INFLUENCE_HEAD_START,
    VIP_HEAD_START,
    PriorityReason,
    head_start,
    priority_key,
    waiting_text,
)

FAST = settings(max_examples=300, deadline=None)
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=timezone.utc)  # a Tuesday
MAX_HEAD_START = HEAT_HEAD_START + INFLUENCE_HEAD_START + VIP_HEAD_START

SCORE = st.integers(min_value=-50, max_value=150)  # out-of-range scores must be clamped, not trusted
IN_RANGE = st.integers(min_value=0, max_value=100)
MOMENT = st.integers(min_value=-30 * 86_400, max_value=0).map(lambda s: NOW + timedelta(seconds=s))


def ago(**kwargs: float) -> datetime:
    return NOW - timedelta(**kwargs)


# -- head_start -------------------------------------------------------------------------------------------------------


def test_head_starts_by_hand():
    assert head_start(0, 0, False) == timedelta(0)
    assert head_start(100, 0, False) == timedelta(hours=24)
    assert head_start(0, 100, False) == timedelta(hours=8)
    assert head_start(0, 0, True) == timedelta(hours=4)
    assert head_start(60, 0, False) == timedelta(hours=14, minutes=24)
    assert head_start(50, 50, True) == timedelta(hours=12 + 4 + 4)
    assert head_start(100, 100, True) == MAX_HEAD_START == timedelta(hours=36)


@FAST
@given(SCORE, SCORE, st.booleans())
def test_head_start_is_between_nothing_and_36_hours(heat, influence, vip):
    assert timedelta(0) <= head_start(heat, influence, vip) <= MAX_HEAD_START


@FAST
@given(SCORE, SCORE, st.booleans())
def test_out_of_range_scores_are_clamped(heat, influence, vip):
    clamp = lambda n: max(0, min(100, n))  # noqa: E731
    assert head_start(heat, influence, vip) == head_start(clamp(heat), clamp(influence), vip)


@FAST
@given(SCORE, SCORE, st.booleans(), st.integers(0, 200), st.integers(0, 200), st.booleans())
def test_more_heat_influence_or_vip_never_shortens_the_head_start(heat, influence, vip, more_heat, more_infl, to_vip):
    before = head_start(heat, influence, vip)
    assert head_start(heat + more_heat, influence, vip) >= before
    assert head_start(heat, influence + more_infl, vip) >= before
    assert head_start(heat, influence, vip or to_vip) >= before


@FAST
@given(IN_RANGE, IN_RANGE)
def test_heat_weighs_three_times_influence(heat, influence):
    assert head_start(heat, 0, False) == HEAT_HEAD_START * (heat / 100)
    assert head_start(0, influence, False) == INFLUENCE_HEAD_START * (influence / 100)


# -- priority_key: what it is -----------------------------------------------------------------------------------------


@FAST
@given(MOMENT, SCORE, SCORE, st.booleans())
def test_the_key_is_the_waiting_moment_moved_earlier_by_the_head_start(waiting_since, heat, influence, vip):
    key = priority_key(waiting_since, heat=heat, influence=influence, vip=vip)
    assert key == (waiting_since - head_start(heat, influence, vip)).timestamp()


@FAST
@given(MOMENT, MOMENT, IN_RANGE, IN_RANGE, st.booleans())
def test_among_equals_the_longest_waiting_comes_first(a, b, heat, influence, vip):
    older, newer = sorted((a, b))
    assert priority_key(older, heat=heat, influence=influence, vip=vip) <= priority_key(
        newer, heat=heat, influence=influence, vip=vip
    )


@FAST
@given(MOMENT, IN_RANGE, IN_RANGE, st.booleans(), st.integers(0, 100), st.integers(0, 100))
def test_more_heat_or_influence_never_ranks_later(waiting_since, heat, influence, vip, more_heat, more_infl):
    key = priority_key(waiting_since, heat=heat, influence=influence, vip=vip)
    assert priority_key(waiting_since, heat=heat + more_heat, influence=influence, vip=vip) <= key
    assert priority_key(waiting_since, heat=heat, influence=influence + more_infl, vip=vip) <= key
    assert priority_key(waiting_since, heat=heat, influence=influence, vip=True) <= key


# -- priority_key: the examples an owner expects -----------------------------------------------------------------------


def _order(threads: dict[str, dict]) -> list[str]:
    """Thread names sorted as "Needs reply" sorts them: by key, ascending."""
    return sorted(threads, key=lambda name: priority_key(**threads[name]))


def test_a_heated_thread_waiting_10_min_outranks_a_calm_one_waiting_3_h():
    threads = {
        "heated": dict(waiting_since=ago(minutes=10), heat=60, influence=20),  # head start 14.4 + 1.6 h
        "calm": dict(waiting_since=ago(hours=3), heat=0, influence=40),  # head start 3.2 h
    }
    assert _order(threads) == ["heated", "calm"]


def test_a_calm_thread_waiting_2_days_outranks_a_heat_60_one_waiting_5_min():
    """Nobody waits forever: even a VIP with full influence and heat 60 gets 26.4 h, less than two days."""
    threads = {
        "fresh fire": dict(waiting_since=ago(minutes=5), heat=60, influence=100, vip=True),
        "forgotten": dict(waiting_since=ago(days=2), heat=0, influence=0),
    }
    assert _order(threads) == ["forgotten", "fresh fire"]


def test_the_most_any_thread_can_jump_is_36_hours():
    brand_new = dict(waiting_since=NOW, heat=100, influence=100, vip=True)
    assert priority_key(**brand_new) == ago(hours=36).timestamp()
    just_over = dict(waiting_since=ago(hours=36, seconds=1), heat=0, influence=0)
    assert _order({"new": brand_new, "old": just_over}) == ["old", "new"]


@FAST
@given(MOMENT, SCORE, SCORE, st.booleans(), st.integers(min_value=1, max_value=10**7))
def test_nobody_waits_forever(newer, heat, influence, vip, extra_seconds):
    """A thread that has waited 36 h longer than another ranks ahead of it, whatever the other's heat."""
    older = newer - MAX_HEAD_START - timedelta(seconds=extra_seconds)
    assert priority_key(older, heat=0, influence=0) < priority_key(newer, heat=heat, influence=influence, vip=vip)


def test_a_ranked_inbox_by_hand():
    threads = {
        # Escalating: 14 min old, heat 91, a small customer a big account reshared (influence 53):
        # 30 days + 21.8 h + 4.2 h.
        "snowball": dict(waiting_since=ago(minutes=14), heat=91, influence=53, escalating=True),
        # A VIP regular with a question from 2 hours ago: 4 h + 4.2 h.
        "vip question": dict(waiting_since=ago(hours=2), heat=0, influence=53, vip=True),
        # An ordinary complaint, a bit warm, from 40 minutes ago: heat 35 -> 8.4 h, influence 29 -> 2.3 h.
        "warm complaint": dict(waiting_since=ago(minutes=40), heat=35, influence=29),
        # Praise from yesterday morning, nobody answered: 27 h waiting, influence 23 -> 1.8 h.
        "old praise": dict(waiting_since=ago(hours=27), heat=0, influence=23),
        # A quiet question from 20 minutes ago.
        "quiet question": dict(waiting_since=ago(minutes=20), heat=0, influence=20),
    }
    assert _order(threads) == ["snowball", "old praise", "warm complaint", "vip question", "quiet question"]
    ranks_as = {name: datetime.fromtimestamp(priority_key(**t), timezone.utc) for name, t in threads.items()}
    assert ranks_as == {  # the moments shown in docs/influence.md ("Priority")
        "old praise": datetime(2025, 3, 3, 7, 9, 36, tzinfo=timezone.utc),
        "snowball": datetime(2025, 2, 1, 9, 41, 12, tzinfo=timezone.utc),
        "warm complaint": datetime(2025, 3, 4, 0, 36, 48, tzinfo=timezone.utc),
        "vip question": datetime(2025, 3, 4, 1, 45, 36, tzinfo=timezone.utc),
        "quiet question": datetime(2025, 3, 4, 10, 4, tzinfo=timezone.utc),
    }


# -- priority_key: business hours --------------------------------------------------------------------------------------

LONDON = ZoneInfo("Europe/London")
# A bakery open Monday to Saturday 7:00-15:00, closed Sundays.
BAKERY = BusinessHours({day: [(time(7), time(15))] for day in range(6)}, tz=LONDON)


def _local(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2025 in London (GMT), e.g. _local(4, 0, 10) is Tuesday 4 March, 00:10."""
    return datetime(2025, 3, day, hour, minute, tzinfo=LONDON)


def _key(waiting_since: datetime, hours: BusinessHours | None = BAKERY, **scores: int) -> float:
    opening = hours.next_opening(waiting_since) if hours is not None else None
    scores = {"heat": 0, "influence": 0, **scores}
    return priority_key(waiting_since, opening=opening, **scores)


def test_a_message_sent_while_closed_waits_from_the_opening():
    midnight = _local(4, 0, 10)  # Tuesday 00:10
    assert BAKERY.next_opening(midnight) == _local(4, 7)
    assert _key(midnight) == _local(4, 7).timestamp()
    # As if sent at 7:00: it ranks with a message sent at opening time...
    assert _key(midnight) == _key(_local(4, 7))
    # ...and after one sent yesterday afternoon while the shop was open.
    assert _key(_local(3, 14)) < _key(midnight)


def test_messages_from_the_same_closed_night_tie():
    assert _key(_local(3, 15, 30)) == _key(_local(3, 23)) == _key(_local(4, 6, 59)) == _local(4, 7).timestamp()


def test_a_message_sent_while_open_waits_from_when_it_was_sent():
    assert _key(_local(4, 8, 30)) == _local(4, 8, 30).timestamp()


def test_a_weekend_message_waits_from_monday_morning():
    saturday_evening = _local(8, 18)
    sunday_noon = _local(9, 12)
    monday_opening = _local(10, 7)
    assert _key(saturday_evening) == _key(sunday_noon) == monday_opening.timestamp()


def test_head_starts_apply_from_the_opening():
    midnight = _local(4, 0, 10)
    assert _key(midnight, heat=50) == (_local(4, 7) - timedelta(hours=12)).timestamp()


def test_without_business_hours_every_minute_counts():
    midnight = _local(4, 0, 10)
    assert _key(midnight, hours=None) == midnight.timestamp()
    assert priority_key(midnight, heat=0, influence=0, opening=None) == midnight.timestamp()


def test_an_opening_before_the_message_is_ignored():
    # A caller passing a stale opening cannot make a message older than it is.
    assert priority_key(_local(4, 9), heat=0, influence=0, opening=_local(4, 7)) == _local(4, 9).timestamp()


def test_a_heated_night_message_beats_calm_ones_from_the_same_night():
    night_fire = _key(_local(4, 1), heat=70)  # counts from 7:00, minus 16.8 h
    calm_night = _key(_local(3, 22), influence=40)  # also from 7:00, minus 3.2 h
    assert night_fire < calm_night


def test_closed_hours_count_for_a_message_that_came_in_while_open():
    """Waiting starts at the opening, then every hour counts, closed or not: by Tuesday's opening the customer who
    wrote on Monday at 14:00 has waited 17 hours, plus 3.2 h for their influence: only a night message hotter than
    heat 84 (a head start over 20.2 h) overtakes them."""
    calm_yesterday = _key(_local(3, 14), influence=40)  # Monday 14:00 - 3.2 h = 10:48
    night_fire = _key(_local(4, 1), heat=70)  # Tuesday 7:00 - 16.8 h = Monday 14:12
    assert calm_yesterday < night_fire
    assert _key(_local(4, 1), heat=84) > calm_yesterday  # 20.16 h: still second
    assert _key(_local(4, 1), heat=85) < calm_yesterday  # 20.4 h: first


# -- priority_key: time passing never reorders ------------------------------------------------------------------------

THREAD = st.fixed_dictionaries(
    {"waiting_since": MOMENT, "heat": IN_RANGE, "influence": IN_RANGE, "vip": st.booleans()}
)


def _urgency(thread: dict, now: datetime) -> timedelta:
    """How urgent a thread feels at ``now``: how long it has waited plus its head start."""
    return (now - thread["waiting_since"]) + head_start(thread["heat"], thread["influence"], thread["vip"])


@FAST
@given(THREAD, THREAD, st.integers(0, 10**7), st.integers(0, 10**7))
def test_the_order_of_two_threads_never_changes_as_time_passes(a, b, later_1, later_2):
    """The key does not take ``now``; ordering by it is ordering by urgency at any moment after both arrived."""
    latest = max(a["waiting_since"], b["waiting_since"])
    now_1, now_2 = latest + timedelta(seconds=later_1), latest + timedelta(seconds=later_2)
    by_key = priority_key(**a) < priority_key(**b)
    assert by_key == (_urgency(a, now_1) > _urgency(b, now_1)) == (_urgency(a, now_2) > _urgency(b, now_2))


def test_priority_key_does_not_take_the_time():
    import inspect

    assert "now" not in inspect.signature(priority_key).parameters


# -- waiting_text and PriorityReason.text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("waited", "text"),
    [
        (timedelta(seconds=-30), "waiting under a minute"),  # clock skew
        (timedelta(0), "waiting under a minute"),
        (timedelta(seconds=59), "waiting under a minute"),
        (timedelta(minutes=1), "waiting 1 min"),
        (timedelta(minutes=59, seconds=59), "waiting 59 min"),
        (timedelta(hours=1), "waiting 1 h"),
        (timedelta(hours=2, minutes=59), "waiting 2 h"),
        (timedelta(hours=47, minutes=59), "waiting 47 h"),
        (timedelta(hours=48), "waiting 2 days"),
        (timedelta(days=2, hours=23), "waiting 2 days"),
        (timedelta(days=10), "waiting 10 days"),
    ],
)
def test_waiting_text(waited, text):
    assert waiting_text(waited) == text


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        (
            PriorityReason(followers=2_300, reshares_last_hour=14, waited=timedelta(hours=2)),
            "2,300 followers · 14 reshares in the last hour · waiting 2 h",
        ),
        (PriorityReason(followers=1, reshares_last_hour=1, waited=timedelta(minutes=5)),
         "1 follower · 1 reshare in the last hour · waiting 5 min"),
        (PriorityReason(followers=0, reshares_last_hour=0, waited=timedelta(seconds=20)),
         "0 followers · waiting under a minute"),
        (PriorityReason(followers=120, reshares_last_hour=0, waited=timedelta(days=3)),
         "120 followers · waiting 3 days"),
        (PriorityReason(followers=120, reshares_last_hour=0, waited=None), "120 followers"),
        (
            PriorityReason(followers=52_000, reshares_last_hour=2_998, waited=timedelta(minutes=12), heat=91,
                           escalating=True),
            "escalating (heat 91) · 52,000 followers · 2,998 reshares in the last hour · waiting 12 min",
        ),
        (
            PriorityReason(followers=2_300, reshares_last_hour=0, waited=timedelta(hours=26), vip=True),
            "VIP · 2,300 followers · waiting 26 h",
        ),
        (
            PriorityReason(followers=1_250_000, reshares_last_hour=3, waited=timedelta(minutes=1), heat=64, vip=True,
                           escalating=True),
            "VIP · escalating (heat 64) · 1,250,000 followers · 3 reshares in the last hour · waiting 1 min",
        ),
        # Heat alone (not escalating) is not a reason shown here: the heat column shows it.
        (PriorityReason(followers=300, reshares_last_hour=2, waited=timedelta(hours=1), heat=35),
         "300 followers · 2 reshares in the last hour · waiting 1 h"),
    ],
)
def test_reason_text(reason, text):
    assert reason.text() == text


def test_reason_is_immutable():
    with pytest.raises(AttributeError):
        PriorityReason(1, 1, None).followers = 2  # type: ignore[misc]
