"""Brand-watch chatter: customers talking about the bakery without tagging it (by name, a product, its street).

Kept in ``World.watch_posts``, apart from the posts that reach the business, and drawn from streams of its own
(``Random(f"{seed}:watch:backfill")`` once, then ``Random(f"{seed}:watch:{n}")`` each tick), so the mention stream
(and the snowball) are exactly as they were without it. What a brand watch finds in it is ``demo.py``'s business.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from console.connectors.demo_cast import CastMixin
from console.connectors.demo_live import pace_at
from console.connectors.demo_script import (
    NETWORKS,
    WATCH_CONVERSATIONS,
    WATCH_LINES,
    WATCH_OWN,
    WATCH_PRIVATE,
    WATCH_REPLIES,
    WATCH_UNRELATED,
)
from console.connectors.demo_state import PostState
from console.domain import Direction, Visibility
from console.domain.records import make_id

# Brand-watch chatter: a handful in the week before the epoch (half of it in the last three days), then one every
# WATCH_GAP ticks or so, further apart as the run calms down (``pace_at``).
WATCH_RECENT_DAYS = 3
WATCH_FIRST_TICKS = (3, 8)
WATCH_GAP = (12, 40)
P_WATCH_REPLY = 0.3


class ChatterMixin(CastMixin):
    """The week's chatter when the world is created, then a new post every so often (``_watch_tick``)."""

    def _watch_post(self, rng: random.Random, network: str, author_id: str, text: str, at: datetime, *,
                    parent: PostState | None = None, visibility: Visibility = Visibility.PUBLIC) -> PostState:
        native = f"w{self._next_watch_native}"
        self._next_watch_native += 1
        post_id = make_id(network, f"demo-{native}")
        author = self.authors[author_id]
        post = PostState(
            id=post_id, native=native, network=network, thread_id=parent.thread_id if parent else post_id,
            parent_id=parent.id if parent else None, author_id=author_id, text=text, created_at=at,
            url=self.post_url(network, author.handle, native), visibility=visibility,
            direction=Direction.OUT if author_id == self.business[network] else Direction.IN,
            changed_tick=self.tick,
        )
        mean_likes = 0.5 + math.sqrt(author.followers) / 6
        post.likes = int(rng.expovariate(1 / mean_likes))
        post.reshares = int(post.likes * rng.uniform(0, 0.3))
        post.quotes = int(post.reshares * rng.uniform(0, 0.2))
        if parent is not None:
            parent.replies += 1
            parent.changed_tick = self.tick
        self.watch_posts[post_id] = post
        return post

    def _next_watch_line(self, rng: random.Random) -> str:
        if not self._watch_lines:
            self._watch_lines = rng.sample(WATCH_LINES, len(WATCH_LINES))
        return self._watch_lines.pop(0)

    def _create_watch_backfill(self, rng: random.Random) -> None:
        """The week's chatter: two lines per network in the last three days and one before, a conversation in which
        a customer recommends the bakery, the street's roadworks, the bakery's own post on each network (a watch
        skips its own account) and a followers-only post."""
        day = 86_400.0
        recent, older = WATCH_RECENT_DAYS * day, 7 * day - 3600
        networks = rng.sample(NETWORKS, len(NETWORKS))
        chatter: list[tuple[float, str, str]] = []  # (seconds before the epoch, network, text)
        for network in networks:
            for _ in range(2):
                chatter.append((rng.uniform(3600, recent - 3600), network, self._next_watch_line(rng)))
            chatter.append((rng.uniform(recent + 3600, older), network, self._next_watch_line(rng)))
        for network in networks:
            chatter.append((rng.uniform(2 * 3600, 6 * 3600), network, WATCH_OWN))
        for before, network, text in sorted(chatter, key=lambda item: -item[0]):
            author = self.business[network] if text == WATCH_OWN else rng.choice(self.customers[network])
            self._watch_post(rng, network, author, text, self.epoch - timedelta(seconds=before))
        question, answer = rng.choice(WATCH_CONVERSATIONS)
        network = rng.choice(NETWORKS)
        asker, answerer = rng.sample(self.customers[network], 2)
        asked_at = self.epoch - timedelta(seconds=rng.uniform(0.5 * day, 2 * day))
        root = self._watch_post(rng, network, asker, question, asked_at)
        self._watch_post(rng, network, answerer, answer, asked_at + timedelta(seconds=rng.uniform(600, 3 * 3600)),
                         parent=root)
        network = rng.choice(NETWORKS)
        self._watch_post(rng, network, rng.choice(self.customers[network]), WATCH_UNRELATED,
                         self.epoch - timedelta(seconds=rng.uniform(3600, day)))
        network = rng.choice(NETWORKS)
        self._watch_post(rng, network, rng.choice(self.customers[network]), WATCH_PRIVATE,
                         self.epoch - timedelta(seconds=rng.uniform(3600, day)), visibility=Visibility.PRIVATE)
        self._next_watch_tick = rng.randint(*WATCH_FIRST_TICKS)

    def _watch_tick(self, rng: random.Random) -> None:
        """Now and then someone mentions the bakery in passing, or answers such a post naming it again."""
        if self.tick < self._next_watch_tick:
            return
        at = self.tick_time(self.tick) - timedelta(milliseconds=rng.randrange(int(self.tick_seconds * 1000) or 1))
        earlier = [p for p in self.watch_posts.values()
                   if p.visibility is Visibility.PUBLIC and p.direction is Direction.IN and p.text in WATCH_LINES]
        if earlier and rng.random() < P_WATCH_REPLY:
            parent = rng.choice(earlier[-6:])
            author = rng.choice([a for a in self.customers[parent.network] if a != parent.author_id])
            self._watch_post(rng, parent.network, author, rng.choice(WATCH_REPLIES), at, parent=parent)
        else:
            network = rng.choice(NETWORKS)
            self._watch_post(rng, network, rng.choice(self.customers[network]), self._next_watch_line(rng), at)
        self._next_watch_tick = self.tick + max(1, round(rng.randint(*WATCH_GAP) / pace_at(self.tick)))
