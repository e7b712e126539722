"""The influence score: bounded, monotone where it should be, and explainable."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain import InfluenceBreakdown, influence_breakdown
from console.domain.influence import ACTIVITY_POINTS, ENGAGEMENT_POINTS, FOLLOWERS_POINTS, RATIO_POINTS

# Up to well beyond the largest real audiences, plus the negatives a buggy API may send.
COUNT = st.integers(min_value=-1_000, max_value=10**12)
MAXIMA = {
    "followers": FOLLOWERS_POINTS,
    "ratio": RATIO_POINTS,
    "activity": ACTIVITY_POINTS,
    "engagement": ENGAGEMENT_POINTS,
}
FAST = settings(max_examples=300, deadline=None)


def _components(breakdown: InfluenceBreakdown) -> dict[str, float]:
    return {name: getattr(breakdown, name) for name in MAXIMA}


def test_the_points_add_up_to_100():
    assert sum(MAXIMA.values()) == 100


@FAST
@given(COUNT, COUNT, COUNT, COUNT)
def test_score_is_an_int_from_0_to_100(followers, following, posts, engagement):
    score = influence_breakdown(followers, following, posts, engagement).score
    assert type(score) is int
    assert 0 <= score <= 100


@FAST
@given(COUNT, COUNT, COUNT, COUNT)
def test_components_are_bounded_and_sum_to_the_score(followers, following, posts, engagement):
    breakdown = influence_breakdown(followers, following, posts, engagement)
    for name, points in _components(breakdown).items():
        assert 0.0 <= points <= MAXIMA[name], name
    assert breakdown.score == round(sum(_components(breakdown).values()))


@FAST
@given(COUNT, COUNT, COUNT, COUNT, st.integers(min_value=0, max_value=10**12))
def test_more_followers_never_lowers_the_score(followers, following, posts, engagement, extra):
    before = influence_breakdown(followers, following, posts, engagement)
    after = influence_breakdown(followers + extra, following, posts, engagement)
    assert after.score >= before.score
    assert after.followers >= before.followers
    assert after.ratio >= before.ratio


@FAST
@given(COUNT, COUNT, COUNT, COUNT, st.integers(min_value=0, max_value=10**12))
def test_more_engagement_never_lowers_the_score(followers, following, posts, engagement, extra):
    before = influence_breakdown(followers, following, posts, engagement)
    after = influence_breakdown(followers, following, posts, engagement + extra)
    assert after.score >= before.score
    assert after.engagement >= before.engagement


@FAST
@given(COUNT, COUNT, COUNT, COUNT, st.integers(min_value=0, max_value=10**12))
def test_more_posts_never_lowers_the_score(followers, following, posts, engagement, extra):
    before = influence_breakdown(followers, following, posts, engagement)
    assert influence_breakdown(followers, following, posts + extra, engagement).score >= before.score


@FAST
@given(COUNT, COUNT, COUNT, COUNT, st.integers(min_value=0, max_value=10**12))
def test_following_more_never_raises_the_score(followers, following, posts, engagement, extra):
    before = influence_breakdown(followers, following, posts, engagement)
    assert influence_breakdown(followers, following + extra, posts, engagement).score <= before.score


def test_nobody_scores_zero():
    breakdown = influence_breakdown(0, 0, 0, 0)
    assert breakdown.score == 0
    assert set(_components(breakdown).values()) == {0.0}


def test_negative_counts_count_as_zero():
    assert influence_breakdown(-5, -5, -5, -5) == influence_breakdown(0, 0, 0, 0)


def test_saturates_at_100():
    assert influence_breakdown(10**9, 0, 10**6, 10**6).score == 100
    assert influence_breakdown(1_000_000, 0, 10_000, 1_000).score == 100


def test_an_author_following_many_with_few_followers_scores_low():
    follow_back = influence_breakdown(followers=80, following=4_000, posts=300, engagement=2)
    assert follow_back.ratio == 0.0
    assert follow_back.score < 30
    # Following thousands buys nothing over following nobody...
    assert follow_back.score <= influence_breakdown(80, 0, 300, 2).score
    # ...and leaves them far below an account people actually listen to.
    broadcaster = influence_breakdown(followers=80_000, following=200, posts=3_000, engagement=150)
    assert broadcaster.score > 70
    assert follow_back.score < broadcaster.score / 2


def test_a_following_ratio_near_one_earns_no_ratio_points():
    assert influence_breakdown(500, 499, 0, 0).ratio == 0.0
    assert influence_breakdown(500, 600, 0, 0).ratio == 0.0


def test_logarithmic_audience():
    """Each tenfold audience adds the same points: 100 -> 1,000 matters like 10,000 -> 100,000."""
    def followers_points(n: int) -> float:
        return influence_breakdown(n, n, 0, 0).followers  # following == followers: no ratio points

    step_small = followers_points(999) - followers_points(99)
    step_large = followers_points(99_999) - followers_points(9_999)
    assert step_small == pytest.approx(step_large, rel=1e-9)


@FAST
@given(COUNT, COUNT, COUNT, COUNT)
def test_explain_mentions_the_score_and_every_signal(followers, following, posts, engagement):
    breakdown = influence_breakdown(followers, following, posts, engagement)
    text = breakdown.explain()
    lines = text.splitlines()
    assert lines[0] == f"Influence {breakdown.score} of 100"
    assert len(lines) == 5
    for label in ("audience size", "followers versus follows", "how much they post", "reactions"):
        assert label in text
    shown = [float(line.split()[0]) for line in lines[1:]]
    assert shown == sorted(shown, reverse=True), "largest contribution first"


def test_explain_example():
    text = influence_breakdown(12_000, 300, 900, 40).explain()
    assert text.startswith(f"Influence {influence_breakdown(12_000, 300, 900, 40).score} of 100\n")
    assert text.splitlines()[1].endswith("audience size")


def test_breakdown_is_immutable():
    breakdown = influence_breakdown(1, 2, 3, 4)
    with pytest.raises(AttributeError):
        breakdown.followers = 99  # type: ignore[misc]
