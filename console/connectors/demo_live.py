"""The live run: what happens on the demo networks each tick after the epoch.

Each tick draws from ``Random(f"{seed}:tick:{n}")`` alone: now and then a new conversation or a customer coming back
to a recent one, likes and reshares trickling in on hot posts, follower counts drifting, and the scripted snowball
(a big account reshares a complaint and its count climbs, then levels off).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from console.connectors.demo_script import NETWORKS, SNOWBALL_CHIME_INS, SNOWBALL_RESHARE
from console.connectors.demo_threads import KIND_WEIGHTS, MAX_DEPTH, ThreadsMixin
from console.domain import Visibility

# Live tick odds at the start of a run. New conversations then slow down (see ``pace_at``) so a demo left running all
# day stays a small business's inbox rather than a firehose.
P_NEW_THREAD = 0.3
P_CUSTOMER_REPLY = 0.3
P_FOLLOWER_DRIFT = 0.3
PACE_HALF_TICKS = 200  # after this many ticks (10 minutes at 3 s) new activity comes half as often
PACE_FLOOR = 0.1


class LiveMixin(ThreadsMixin):
    """``_live_tick`` plays one tick; ``World.advance_to`` calls it once per tick, in order."""

    def _live_tick(self, rng: random.Random) -> None:
        now = self.tick_time(self.tick)
        # Spread the tick's arrivals over the seconds since the previous tick, never past the tick itself.
        def moment() -> datetime:
            return now - timedelta(milliseconds=rng.randrange(int(self.tick_seconds * 1000) or 1))

        self._advance_snowball(rng, moment)
        pace = pace_at(self.tick)
        if rng.random() < P_NEW_THREAD * pace:
            network = rng.choice(NETWORKS)
            kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
            thread = self._open_thread(rng, network, rng.choice(self.customers[network]), kind, moment())
            if thread.visibility is Visibility.PUBLIC:
                self._heat(thread.root_id, 0.4 + 0.1 * math.log10(1 + self.authors[thread.customer_id].followers))
        if rng.random() < P_CUSTOMER_REPLY * pace:
            self._live_customer_reply(rng, moment())
        self._react(rng)
        if rng.random() < P_FOLLOWER_DRIFT:
            author = self.authors[rng.choice(self.customers[rng.choice(NETWORKS)])]
            author.followers += 1 + int(author.followers * rng.uniform(0, 0.004))
            self._touch_author(author)

    def _live_customer_reply(self, rng: random.Random, at: datetime) -> None:
        candidates = [
            t for t in (self.threads[i] for i in self._recent) if len(t.post_ids) < MAX_DEPTH
            and t.root_id != self.snowball.post_id and self.posts[t.post_ids[-1]].created_at < at
        ]
        if not candidates:
            return
        thread = rng.choice(candidates)
        author_id = thread.customer_id
        if thread.visibility is Visibility.PUBLIC and rng.random() < 0.25:
            author_id = rng.choice([a for a in self.customers[thread.network] if a != thread.customer_id])
        post = self._reply(thread, author_id, self._next_line(rng, thread, author_id), at)
        if post.visibility is Visibility.PUBLIC:
            self._heat(post.id, 0.3)

    def _react(self, rng: random.Random) -> None:
        """Likes and reshares trickle in on recent public posts, more for authors with bigger audiences."""
        for post_id, heat in list(self._hot.items()):
            post = self.posts[post_id]
            changed = False
            if rng.random() < heat:
                reach = math.sqrt(self.authors[post.author_id].followers)
                post.likes += 1 + int(rng.expovariate(1 / (1 + reach / 25)))
                changed = True
            if rng.random() < heat * 0.35:
                post.reshares += 1
                changed = True
            if changed:
                self._touch_post(post)
            heat *= 0.93
            if heat < 0.08:
                del self._hot[post_id]
            else:
                self._hot[post_id] = heat

    def _advance_snowball(self, rng: random.Random, moment: Callable[[], datetime]) -> None:
        ball = self.snowball
        since = self.tick - ball.start_tick
        if since < 0:
            return
        thread = self.threads[ball.post_id]
        if since == 0:
            reshare = self._add_post(
                thread, ball.resharer_id, SNOWBALL_RESHARE if ball.network == "bluesky"
                else f"@{self.authors[self.posts[ball.post_id].author_id].handle} {SNOWBALL_RESHARE}",
                moment(), network=ball.network, visibility=Visibility.PUBLIC, parent_id=ball.post_id,
            )
            ball.reshare_post_id = reshare.id
        if self.tick in ball.chime_in_ticks:
            line = SNOWBALL_CHIME_INS[sorted(ball.chime_in_ticks).index(self.tick)]
            self._reply(thread, ball.chime_in_ticks[self.tick], line, moment())
        if since > 90:
            return
        # Logistic spread: a steep climb for the first minute or so, then levelling off near the ceiling.
        level = ball.ceiling / (1 + math.exp(-0.35 * (since - 12)))
        root = self.posts[ball.post_id]
        reshares = max(root.reshares, int(level * rng.uniform(0.97, 1.03)))
        if reshares > root.reshares:
            root.reshares = reshares
            root.likes = max(root.likes, int(reshares * 2.6))
            root.quotes = max(root.quotes, int(reshares * 0.06))
            root.replies = max(root.replies, len(thread.post_ids) - 1 + int(reshares * 0.02))
            self._touch_post(root)
            assert ball.reshare_post_id is not None  # set at since == 0, always before this point
            big = self.posts[ball.reshare_post_id]
            big.reshares, big.likes = max(big.reshares, reshares // 4), max(big.likes, int(reshares * 0.8))
            self._touch_post(big)


def pace_at(tick: int) -> float:
    """How busy the networks are ``tick`` ticks into a run, from 1 down to ``PACE_FLOOR``."""
    return max(PACE_FLOOR, 1 / (1 + tick / PACE_HALF_TICKS))
