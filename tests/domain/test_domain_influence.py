"""The influence score: bounded, monotone where it should be, and explainable."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain import InfluenceBreakdown, influence_breakdown
from console.domain.influence import (
    ACTIVITY_POINTS,
    AMPLIFICATION_FULL,
    AMPLIFICATION_POINTS,
    ENGAGEMENT_POINTS,
    FOLLOWERS_POINTS,
    RATIO_POINTS,
)

# Up to well beyond the largest real audiences, plus the negatives a buggy API may send.
COUNT = st.integers(min_value=-1_000, max_value=10**12)
MAXIMA = {
    "followers": FOLLOWERS_POINTS,
    "ratio": RATIO_POINTS,
    "activity": ACTIVITY_POINTS,
    "engagement": ENGAGEMENT_POINTS,
    "amplification": AMPLIFICATION_POINTS,
}
FAST = settings(max_examples=300, deadline=None)


def _components(breakdown: InfluenceBreakdown) -> dict[str, float]:
    return {name: getattr(breakdown, name) for name in MAXIMA}


def test_the_points_add_up_to_100():
    assert sum(MAXIMA.values()) == 100
    assert MAXIMA == {"followers": 50, "ratio": 12, "activity": 8, "engagement": 15, "amplification": 15}


@FAST
@given(COUNT, COUNT, COUNT, COUNT, COUNT)
def test_score_is_an_int_from_0_to_100(followers, following, posts, engagement, amplification):
    score = influence_breakdown(followers, following, posts, engagement, amplification).score
    assert type(score) is int
    assert 0 <= score <= 100


@FAST
@given(COUNT, COUNT, COUNT, COUNT, COUNT)
def test_components_are_bounded_and_sum_to_the_score(followers, following, posts, engagement, amplification):
    breakdown = influence_breakdown(followers, following, posts, engagement, amplification)
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
@given(COUNT, COUNT, COUNT, COUNT, COUNT, st.integers(min_value=0, max_value=10**12))
def test_more_amplification_never_lowers_the_score(followers, following, posts, engagement, amplification, extra):
    before = influence_breakdown(followers, following, posts, engagement, amplification)
    after = influence_breakdown(followers, following, posts, engagement, amplification + extra)
    assert after.score >= before.score
    assert after.amplification >= before.amplification
    # Amplification moves only its own component.
    assert (after.followers, after.ratio, after.activity, after.engagement) == (
        before.followers, before.ratio, before.activity, before.engagement
    )


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


def test_amplification_defaults_to_none():
    assert influence_breakdown(2_300, 265, 1_200, 40) == influence_breakdown(2_300, 265, 1_200, 40, 0)
    assert influence_breakdown(2_300, 265, 1_200, 40).amplification == 0.0


def test_amplification_by_hand():
    """A 50,000-follower account reshared them: 15 x log10(50,001) / log10(1,000,001) = 11.7 points."""
    assert influence_breakdown(0, 0, 0, 0, 50_000).amplification == pytest.approx(11.75, abs=0.01)
    assert influence_breakdown(0, 0, 0, 0, AMPLIFICATION_FULL).amplification == AMPLIFICATION_POINTS
    assert influence_breakdown(0, 0, 0, 0, 10**12).amplification == AMPLIFICATION_POINTS


def test_a_small_customer_amplified_by_a_big_account_outranks_their_own_audience():
    """300 followers alone is an ordinary voice; a 50,000-follower reshare makes it a loud one for this business."""
    alone = influence_breakdown(300, 280, 900, 2)
    amplified = influence_breakdown(300, 280, 900, 2, 50_000)
    assert (alone.score, amplified.score) == (29, 41)
    # Ten times the audience of their own, with the same habits, is quieter than that one reshare.
    assert influence_breakdown(3_000, 2_800, 900, 2).score < amplified.score


def test_nobody_scores_zero():
    breakdown = influence_breakdown(0, 0, 0, 0, 0)
    assert breakdown.score == 0
    assert set(_components(breakdown).values()) == {0.0}


def test_negative_counts_count_as_zero():
    assert influence_breakdown(-5, -5, -5, -5, -5) == influence_breakdown(0, 0, 0, 0, 0)


def test_saturates_at_100():
    assert influence_breakdown(10**9, 0, 10**6, 10**6, 10**9).score == 100
    assert influence_breakdown(1_000_000, 0, 10_000, 1_000, 1_000_000).score == 100


def test_full_points_only_with_all_five_saturated():
    full = (1_000_000, 0, 10_000, 1_000, 1_000_000)
    assert _components(influence_breakdown(*full)) == pytest.approx(MAXIMA)
    # Without amplification the other four give 85.
    assert influence_breakdown(1_000_000, 0, 10_000, 1_000).score == 85
    # Each component short of saturation costs points.
    for position, name in ((0, "followers"), (2, "activity"), (3, "engagement"), (4, "amplification")):
        short = list(full)
        short[position] //= 10
        assert influence_breakdown(*short).score < 100, name
    # Following people (ratio 1 follower per follow) costs the ratio points.
    assert influence_breakdown(1_000_000, 1_000_000, 10_000, 1_000, 1_000_000).score == 100 - RATIO_POINTS


def test_an_author_following_many_with_few_followers_scores_low():
    follow_back = influence_breakdown(followers=80, following=4_000, posts=300, engagement=2)
    assert follow_back.ratio == 0.0
    assert follow_back.score < 30
    # Following thousands buys nothing over following nobody...
    assert follow_back.score <= influence_breakdown(80, 0, 300, 2).score
    # ...and leaves them far below an account people actually listen to.
    broadcaster = influence_breakdown(followers=80_000, following=200, posts=3_000, engagement=150)
    assert broadcaster.score > 65
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
@given(COUNT, COUNT, COUNT, COUNT, COUNT)
def test_explain_mentions_the_score_and_every_signal(followers, following, posts, engagement, amplification):
    breakdown = influence_breakdown(followers, following, posts, engagement, amplification)
    text = breakdown.explain()
    lines = text.splitlines()
    assert lines[0] == f"Influence {breakdown.score} of 100"
    assert len(lines) == 6  # the score and five components
    for label in (
        "audience size",
        "followers versus follows",
        "how much they post",
        "reactions",
        "audiences of those who reshared",
    ):
        assert label in text
    shown = [float(line.split()[0]) for line in lines[1:]]
    assert shown == sorted(shown, reverse=True), "largest contribution first"


def test_explain_example():
    text = influence_breakdown(12_000, 300, 900, 40).explain()
    assert text.startswith(f"Influence {influence_breakdown(12_000, 300, 900, 40).score} of 100\n")
    assert text.splitlines()[1].endswith("audience size")


@pytest.mark.parametrize(
    ("figures", "points", "score"),
    [
        ((120, 300, 800, 0, 0), (17.4, 0.0, 5.8, 0.0, 0.0), 23),
        ((2_300, 265, 1_200, 40, 900), (28.0, 3.1, 6.2, 8.1, 7.4), 53),
        ((10_099, 24_837, 199, 51, 0), (33.4, 0.0, 4.6, 8.6, 0.0), 47),
        ((300, 280, 900, 8_400, 52_000), (20.7, 0.1, 5.9, 15.0, 11.8), 53),
        ((54_000, 900, 28_000, 2_300, 180_000), (39.4, 7.1, 8.0, 15.0, 13.1), 83),
        ((1_000_000, 500, 10_000, 1_000, 1_000_000), (50.0, 12.0, 8.0, 15.0, 15.0), 100),
        ((1_000_000, 500, 10_000, 1_000, 0), (50.0, 12.0, 8.0, 15.0, 0.0), 85),
    ],
)
def test_the_worked_examples_in_the_docs(figures, points, score):
    """docs/influence.md, "Worked examples": the table is what the code computes."""
    breakdown = influence_breakdown(*figures)
    assert tuple(round(p, 1) for p in _components(breakdown).values()) == points
    assert breakdown.score == score


def test_the_tooltip_example_in_the_docs():
    assert influence_breakdown(54_000, 900, 28_000, 2_300, 180_000).explain() == (
        "Influence 83 of 100\n"
        "  39.4 pts  audience size\n"
        "  15.0 pts  reactions to their posts about you\n"
        "  13.1 pts  audiences of those who reshared them\n"
        "   8.0 pts  how much they post\n"
        "   7.1 pts  followers versus follows"
    )


def test_explain_example_with_amplification():
    """A 300-follower customer a 52,000-follower account reshared: the reshare is their second-largest signal."""
    assert influence_breakdown(300, 280, 900, 2, 52_000).explain() == (
        "Influence 41 of 100\n"
        "  20.7 pts  audience size\n"
        "  11.8 pts  audiences of those who reshared them\n"
        "   5.9 pts  how much they post\n"
        "   2.4 pts  reactions to their posts about you\n"
        "   0.1 pts  followers versus follows"
    )


def test_breakdown_is_immutable():
    breakdown = influence_breakdown(1, 2, 3, 4)
    with pytest.raises(AttributeError):
        breakdown.followers = 99  # type: ignore[misc]
