"""Who reshared a post on the demo networks: names for some of the reshares the counts already hold.

Drawn afterwards, from streams of their own (``Random(f"{seed}:resharers:backfill")`` once, then
``Random(f"{seed}:resharers:{n}")`` each tick), so naming resharers leaves every post, count and line of the world
exactly as it was without them.
"""

from __future__ import annotations

import random
from datetime import timedelta

from console.connectors.demo_script import NETWORKS, Tier
from console.connectors.demo_state import PostState, WorldState
from console.domain import Visibility

# Resharers come from the cast, so most reshares stay anonymous: a few named per post (the snowball may name all
# its network's customers), at most a couple more per tick so a spreading post gains names as it goes. Small
# accounts reshare most; the big ones only sometimes.
NAMED_RESHARERS = 5
NEW_NAMES_PER_TICK = 2
_RESHARER_WEIGHTS = {Tier.LOW: 6, Tier.EDGE: 3, Tier.MID: 2, Tier.BIG: 1}
RESHARE_DELAY_MEAN = 3 * 3600.0  # backfill reshares mostly come within hours of a post


class ResharersMixin(WorldState):
    """Names resharers of the backfill's posts, then of each post whose reshare count rises in a tick."""

    def _name_backfill_resharers(self, rng: random.Random) -> None:
        """Name some resharers of the week's reshared posts, each some hours after the post (never after the epoch)."""
        for post in list(self.posts.values()):
            for author_id in self._pick_resharers(rng, post, self._names_wanted(post)):
                delay = timedelta(seconds=rng.expovariate(1 / RESHARE_DELAY_MEAN))
                post.resharers[author_id] = (min(post.created_at + delay, self.epoch), 0)

    def _name_live_resharers(self, rng: random.Random) -> None:
        """Name resharers of the posts whose reshare count rose this tick (so they travel with the counts); the
        snowball's big account first, the moment its reshare went out."""
        ball = self.snowball
        if self.tick == ball.start_tick and ball.reshare_post_id is not None:
            root = self.posts[ball.post_id]
            root.resharers.setdefault(ball.resharer_id, (self.posts[ball.reshare_post_id].created_at, self.tick))
            self._touch_post(root)  # already touched by its climbing count; this only guarantees the name travels
        now = self.tick_time(self.tick)
        for network in NETWORKS:
            for post_id in self.changed_posts[network].get(self.tick, {}):
                post = self.posts[post_id]
                wanted = min(self._names_wanted(post), NEW_NAMES_PER_TICK)
                for author_id in self._pick_resharers(rng, post, wanted):
                    moment = now - timedelta(milliseconds=rng.randrange(int(self.tick_seconds * 1000) or 1))
                    post.resharers[author_id] = (max(moment, post.created_at), self.tick)

    def _names_wanted(self, post: PostState) -> int:
        cap = len(self.customers[post.network]) if post.id == self.snowball.post_id else NAMED_RESHARERS
        return max(0, min(post.reshares, cap) - len(post.resharers))

    def _pick_resharers(self, rng: random.Random, post: PostState, count: int) -> list[str]:
        """Up to ``count`` customers of the post's network who have not reshared it yet, weighted to small accounts.
        The snowball's big account is kept for its scripted moment."""
        if count <= 0 or post.visibility is Visibility.DIRECT:
            return []
        reserved = self.snowball.resharer_id if post.id == self.snowball.post_id else None
        pool = [a for a in self.customers[post.network]
                if a != post.author_id and a not in post.resharers and a != reserved]
        chosen: list[str] = []
        while pool and len(chosen) < count:
            pick = rng.choices(pool, weights=[_RESHARER_WEIGHTS[self.personas[a].tier] for a in pool])[0]
            pool.remove(pick)
            chosen.append(pick)
        return chosen
