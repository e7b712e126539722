"""Influence: how far an author's words about the business can travel, as an explainable 0-100 score.

Every component is logarithmic because audiences are heavy-tailed: going from 100 to 1,000 followers matters as
much as going from 10,000 to 100,000. See docs/influence.md for the formula and the reasons behind each weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FOLLOWERS_POINTS = 50.0
RATIO_POINTS = 12.0
ACTIVITY_POINTS = 8.0
ENGAGEMENT_POINTS = 15.0
AMPLIFICATION_POINTS = 15.0

# Where each component saturates (the value that earns full points).
FOLLOWERS_FULL = 1_000_000
RATIO_FULL = 1_000
RATIO_AUDIENCE_FULL = 10_000  # the ratio counts fully only for audiences this large
ACTIVITY_FULL = 10_000
ENGAGEMENT_FULL = 1_000
AMPLIFICATION_FULL = 1_000_000


def _log_share(value: float, full: float) -> float:
    """``log10(value+1) / log10(full+1)``, clamped to 0..1."""
    if value <= 0:
        return 0.0
    return min(1.0, math.log10(value + 1) / math.log10(full + 1))


@dataclass(frozen=True, slots=True)
class InfluenceBreakdown:
    """The score and the points each signal contributed, so a tooltip can explain it."""

    followers: float
    ratio: float
    activity: float
    engagement: float
    amplification: float = 0.0

    @property
    def score(self) -> int:
        total = self.followers + self.ratio + self.activity + self.engagement + self.amplification
        return max(0, min(100, round(total)))

    def explain(self) -> str:
        """Owner-readable lines, largest contribution first."""
        parts = [
            (self.followers, "audience size"),
            (self.ratio, "followers versus follows"),
            (self.activity, "how much they post"),
            (self.engagement, "reactions to their posts about you"),
            (self.amplification, "audiences of those who reshared them"),
        ]
        parts.sort(key=lambda item: item[0], reverse=True)
        lines = [f"Influence {self.score} of 100"]
        lines += [f"  {points:4.1f} pts  {label}" for points, label in parts]
        return "\n".join(lines)


def influence_breakdown(
    followers: int, following: int, posts: int, engagement: int, amplification: int = 0
) -> InfluenceBreakdown:
    """Score an author from what the network reports and what the inbox has seen their posts receive.

    ``engagement`` is the sum of reshares, quotes and likes on the author's posts stored in this inbox, that is,
    their posts about the business. ``amplification`` is the de-duplicated follower count of the people who
    reshared those posts: a customer with 300 followers whose complaint a 50,000-follower account reshared has, for
    this business, a far bigger voice than their own audience says.
    """
    followers = max(0, followers)
    following = max(0, following)
    ratio = followers / (following + 1)
    return InfluenceBreakdown(
        followers=FOLLOWERS_POINTS * _log_share(followers, FOLLOWERS_FULL),
        # An account that follows everyone back (ratio near 1) gets almost nothing here; a broadcaster gets a lot.
        # Scaled by audience size, so a new account that follows nobody does not look like a broadcaster.
        ratio=RATIO_POINTS * _log_share(max(0.0, ratio - 1.0), RATIO_FULL) * _log_share(followers, RATIO_AUDIENCE_FULL),
        activity=ACTIVITY_POINTS * _log_share(max(0, posts), ACTIVITY_FULL),
        engagement=ENGAGEMENT_POINTS * _log_share(max(0, engagement), ENGAGEMENT_FULL),
        amplification=AMPLIFICATION_POINTS * _log_share(max(0, amplification), AMPLIFICATION_FULL),
    )
