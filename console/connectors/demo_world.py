"""The demo network's world: a seeded simulation of a bakery's week on three networks.

The world is a pure function of (seed, epoch, tick): the backfill is drawn from ``Random(f"{seed}:backfill")`` and
each live tick from ``Random(f"{seed}:tick:{n}")``, with times measured from the epoch. So a restarted app rebuilds
exactly the world it had by replaying ticks, and two worlds with the same seed agree post for post. Iteration is
always over lists and insertion-ordered dicts, never sets, so string hashing cannot change the outcome.

Every post and author remembers the tick it last changed at; the connector returns what changed in a range of ticks.

Who reshared a post (``demo_resharers``) and the brand-watch chatter that never reaches the business
(``demo_chatter``) are drawn from streams of their own, so the posts, counts and lines of the world are exactly as
they were without them.

This module holds the order in which the seeded streams are drawn, which is what makes a world replayable; the rest
of ``World`` is mixed in from its neighbours, one concern each: ``demo_state`` (the records and the bookkeeping of what
changed when), ``demo_cast`` (the accounts and their addresses), ``demo_threads`` (writing posts and picking lines),
``demo_backfill`` (the week before the epoch), ``demo_live`` (each tick after it), ``demo_resharers`` and
``demo_chatter``. ``demo.py`` turns the world into the connector's records.
"""

from __future__ import annotations

import random
from datetime import datetime

from console.connectors.demo_backfill import BackfillMixin
from console.connectors.demo_chatter import ChatterMixin
from console.connectors.demo_live import LiveMixin
from console.connectors.demo_resharers import NAMED_RESHARERS, ResharersMixin
from console.connectors.demo_script import NETWORKS
from console.connectors.demo_state import AuthorState, PostState

# AuthorState and PostState: what demo.py reads from the world; NAMED_RESHARERS: the demo tests count names with it.
__all__ = ["AuthorState", "NAMED_RESHARERS", "PostState", "World"]


class World(BackfillMixin, LiveMixin, ResharersMixin, ChatterMixin):
    """Everything that has happened on the three demo networks up to ``tick``.

    ``CastMixin`` and ``ThreadsMixin`` come in through the parts that build on them.
    """

    def __init__(self, seed: int, epoch: datetime, tick_seconds: float) -> None:
        self.seed = seed
        self.epoch = epoch
        self.tick_seconds = tick_seconds
        self.tick = 0
        self.authors = {}
        self.posts = {}
        self.threads = {}
        self.business = {}
        self.customers = {network: [] for network in NETWORKS}
        self.personas = {}
        self.changed_posts = {n: {} for n in NETWORKS}
        self.changed_authors = {n: {} for n in NETWORKS}
        self._hot = {}
        self._recent = []
        self._next_native = 1
        self.watch_posts = {}
        self._next_watch_native = 1
        self._watch_lines = []
        self._create_cast(random.Random(f"{seed}:cast"))
        self._create_backfill(random.Random(f"{seed}:backfill"))
        self._name_backfill_resharers(random.Random(f"{seed}:resharers:backfill"))
        self._next_watch_tick = 0
        self._create_watch_backfill(random.Random(f"{seed}:watch:backfill"))

    def advance_to(self, tick: int) -> None:
        while self.tick < tick:
            self.tick += 1
            self._live_tick(random.Random(f"{self.seed}:tick:{self.tick}"))
            self._name_live_resharers(random.Random(f"{self.seed}:resharers:{self.tick}"))
            self._watch_tick(random.Random(f"{self.seed}:watch:{self.tick}"))
