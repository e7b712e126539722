"""The week before the epoch: every customer's conversation with the bakery, and the complaint that will snowball.

Drawn in one go from ``Random(f"{seed}:backfill")`` when the world is created, so the inbox a demo opens on already
holds a week of threads of every kind and depth, with likes and reshares in proportion to each author's audience.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from console.connectors.demo_script import NETWORKS, SCENARIOS, SNOWBALL_CHIME_INS, SNOWBALL_OPENER, Kind, Tier
from console.connectors.demo_state import PostState, Snowball
from console.connectors.demo_threads import KIND_WEIGHTS, MAX_DEPTH, ThreadsMixin
from console.domain import Direction, Visibility

WEEK = timedelta(days=7)
_DEPTH_WEIGHTS = {1: 24, 2: 24, 3: 16, 4: 12, 5: 9, 6: 6, 7: 5, 8: 4}


class BackfillMixin(ThreadsMixin):
    """Creates the week's threads and sets up the snowball the live ticks will play out."""

    def _create_backfill(self, rng: random.Random) -> None:
        snowball_network = rng.choice(NETWORKS)
        low = [a for a in self.customers[snowball_network] if self.personas[a].tier is Tier.LOW]
        complainer = rng.choice(low)
        openers = []
        for network in NETWORKS:
            for customer_id in self.customers[network]:
                if customer_id == complainer:
                    continue
                start = self.epoch - timedelta(seconds=rng.uniform(3600, WEEK.total_seconds() - 60))
                openers.append((start, network, customer_id))
        # Two threads aim for full depth so the thread view always has a long back-and-forth: the week's earliest
        # (time enough to reach all eight posts) and one at random (which the epoch may cut short).
        long_index = rng.randrange(len(openers))
        openers.sort(key=lambda item: item[0])
        for index, (start, network, customer_id) in enumerate(openers):
            if index == 0 or index == long_index:
                depth = MAX_DEPTH
            else:
                depth = rng.choices(list(_DEPTH_WEIGHTS), weights=list(_DEPTH_WEIGHTS.values()))[0]
            kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
            self._backfill_thread(rng, network, customer_id, kind, start, depth)
        self._create_snowball(rng, snowball_network, complainer)

    def _backfill_thread(
        self, rng: random.Random, network: str, customer_id: str, kind: Kind, start: datetime, depth: int
    ) -> None:
        thread = self._open_thread(rng, network, customer_id, kind, start)
        self._seed_counts(rng, self.posts[thread.root_id], kind)
        business_id = self.business[network]
        at = start
        while len(thread.post_ids) < depth:
            last_author = self.posts[thread.post_ids[-1]].author_id
            if last_author != business_id and rng.random() < 0.8:
                author_id, gap = business_id, rng.uniform(600, 9 * 3600)
            elif thread.visibility is Visibility.PUBLIC and rng.random() < 0.15:
                others = [a for a in self.customers[network] if a != customer_id]
                author_id, gap = rng.choice(others), rng.uniform(300, 12 * 3600)
            else:
                author_id, gap = customer_id, rng.uniform(180, 4 * 3600)
            at += timedelta(seconds=gap)
            if at >= self.epoch - timedelta(minutes=1):
                break
            post = self._reply(thread, author_id, self._next_line(rng, thread, author_id), at)
            self._seed_counts(rng, post, kind)
        age = (self.epoch - self.posts[thread.post_ids[-1]].created_at).total_seconds()
        if age < 86_400 and thread.visibility is Visibility.PUBLIC:
            self._heat(thread.root_id, 0.5 * (1 - age / 86_400))

    def _seed_counts(self, rng: random.Random, post: PostState, kind: Kind) -> None:
        if post.visibility is Visibility.DIRECT:
            return
        followers = self.authors[post.author_id].followers
        appeal = {Kind.PRAISE: 1.5, Kind.COMPLAINT: 1.0, Kind.QUESTION: 0.3, Kind.DM: 0.0}[kind]
        if post.direction is Direction.OUT:
            appeal = 0.4
        mean_likes = 0.5 + appeal * math.sqrt(followers) / 5
        post.likes = int(rng.expovariate(1 / mean_likes))
        post.reshares = int(post.likes * rng.uniform(0, 0.35 if kind is Kind.COMPLAINT else 0.2))
        post.quotes = int(post.reshares * rng.uniform(0, 0.15))

    def _create_snowball(self, rng: random.Random, network: str, complainer: str) -> None:
        created = self.epoch - timedelta(minutes=rng.uniform(35, 90))
        scenario = next(s for s in SCENARIOS if s.kind is Kind.COMPLAINT)
        thread = self._open_thread(rng, network, complainer, Kind.COMPLAINT, created, scenario, SNOWBALL_OPENER)
        root = self.posts[thread.root_id]
        root.reshares, root.likes = rng.randint(1, 3), rng.randint(3, 8)
        big = [a for a in self.customers[network] if self.personas[a].tier is Tier.BIG]
        start = rng.randint(2, 4)
        others = [a for a in self.customers[network] if a != complainer and self.personas[a].tier is not Tier.BIG]
        chime_ticks = sorted(rng.sample(range(start + 2, start + 25), len(SNOWBALL_CHIME_INS)))
        self.snowball = Snowball(
            post_id=root.id, network=network, resharer_id=rng.choice(big), start_tick=start,
            ceiling=rng.randint(1800, 3500),
            chime_in_ticks={tick: rng.choice(others) for tick in chime_ticks},
        )
