"""The demo network's world: a seeded simulation of a bakery's week on three networks.

The world is a pure function of (seed, epoch, tick): the backfill is drawn from ``Random(f"{seed}:backfill")`` and
each live tick from ``Random(f"{seed}:tick:{n}")``, with times measured from the epoch. So a restarted app rebuilds
exactly the world it had by replaying ticks, and two worlds with the same seed agree post for post. Iteration is
always over lists and insertion-ordered dicts, never sets, so string hashing cannot change the outcome.

Every post and author remembers the tick it last changed at; the connector returns what changed in a range of ticks.

Who reshared a post is drawn afterwards, from streams of its own (``Random(f"{seed}:resharers:…")``), so naming
resharers leaves every post, count and line of the world exactly as it was without them.

Customers also talk about the bakery without tagging it (by name, a product, its street): brand-watch chatter in
``watch_posts``, drawn from streams of its own too (``Random(f"{seed}:watch:…")``) and kept apart from the posts
that reach the business, so the mention stream (and the snowball) are exactly as they were without it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from console.connectors.demo_script import (
    BUSINESS_FOLLOWUPS,
    BUSINESS_HANDLE,
    BUSINESS_NAME,
    CHIME_INS,
    CLOSERS,
    NETWORKS,
    NUDGES,
    PERSONAS,
    SCENARIOS,
    SIGNATURES,
    SNOWBALL_CHIME_INS,
    SNOWBALL_OPENER,
    SNOWBALL_RESHARE,
    WATCH_CONVERSATIONS,
    WATCH_LINES,
    WATCH_OWN,
    WATCH_PRIVATE,
    WATCH_REPLIES,
    WATCH_UNRELATED,
    Kind,
    Persona,
    Scenario,
    Tier,
)
from console.domain import Direction, Visibility
from console.domain.records import make_id

WEEK = timedelta(days=7)
MAX_DEPTH = 8
HOT_LIMIT = 40  # posts whose counts are still moving; bounded so a tick costs the same after a day of running
RECENT_THREADS = 30  # threads live customers may come back to

_KIND_WEIGHTS = {Kind.COMPLAINT: 3, Kind.QUESTION: 4, Kind.PRAISE: 2, Kind.DM: 2}
_DEPTH_WEIGHTS = {1: 24, 2: 24, 3: 16, 4: 12, 5: 9, 6: 6, 7: 5, 8: 4}
_HOSTS = {"mastodon": "mastodon.demo.example", "bluesky": "bsky.demo.example", "x": "x.demo.example"}

# Live tick odds at the start of a run. New conversations then slow down (see ``pace``) so a demo left running all
# day stays a small business's inbox rather than a firehose.
P_NEW_THREAD = 0.3
P_CUSTOMER_REPLY = 0.3
P_FOLLOWER_DRIFT = 0.3
PACE_HALF_TICKS = 200  # after this many ticks (10 minutes at 3 s) new activity comes half as often
PACE_FLOOR = 0.1

# Resharers come from the cast, so most reshares stay anonymous: a few named per post (the snowball may name all
# its network's customers), at most a couple more per tick so a spreading post gains names as it goes. Small
# accounts reshare most; the big ones only sometimes.
NAMED_RESHARERS = 5
NEW_NAMES_PER_TICK = 2
_RESHARER_WEIGHTS = {Tier.LOW: 6, Tier.EDGE: 3, Tier.MID: 2, Tier.BIG: 1}
RESHARE_DELAY_MEAN = 3 * 3600.0  # backfill reshares mostly come within hours of a post

# Brand-watch chatter: a handful in the week before the epoch (half of it in the last three days), then one every
# WATCH_GAP ticks or so, further apart as the run calms down (``pace``).
WATCH_RECENT_DAYS = 3
WATCH_FIRST_TICKS = (3, 8)
WATCH_GAP = (12, 40)
P_WATCH_REPLY = 0.3


@dataclass(slots=True)
class AuthorState:
    id: str
    network: str
    handle: str
    display_name: str
    followers: int
    following: int
    posts: int
    url: str
    changed_tick: int = 0


@dataclass(slots=True)
class PostState:
    id: str
    native: str
    network: str
    thread_id: str
    parent_id: str | None
    author_id: str
    text: str
    created_at: datetime
    url: str
    visibility: Visibility
    direction: Direction
    reshares: int = 0
    quotes: int = 0
    likes: int = 0
    replies: int = 0
    changed_tick: int = 0
    # who reshared it (author id -> when, and the tick it became known), in the order they did
    resharers: dict[str, tuple[datetime, int]] = field(default_factory=dict)


@dataclass(slots=True)
class ThreadState:
    root_id: str
    network: str
    kind: Kind
    scenario: Scenario
    customer_id: str
    visibility: Visibility
    post_ids: list[str] = field(default_factory=list)
    business_posts: int = 0
    order: str = ""  # the order number the customer quotes, the same all through the thread
    used_lines: set[str] = field(default_factory=set)  # membership only, never iterated


@dataclass(slots=True)
class Snowball:
    """The scripted complaint that a big account reshares early in the live run."""

    post_id: str
    network: str
    resharer_id: str
    start_tick: int  # the tick the big account reshares it
    ceiling: int  # where its reshare count levels off
    chime_in_ticks: dict[int, str]  # tick -> author id of a customer piling on
    reshare_post_id: str | None = None


def first_name(display_name: str) -> str:
    return display_name.split()[0]


class World:
    """Everything that has happened on the three demo networks up to ``tick``."""

    def __init__(self, seed: int, epoch: datetime, tick_seconds: float) -> None:
        self.seed = seed
        self.epoch = epoch
        self.tick_seconds = tick_seconds
        self.tick = 0
        self.authors: dict[str, AuthorState] = {}
        self.posts: dict[str, PostState] = {}
        self.threads: dict[str, ThreadState] = {}
        self.business: dict[str, str] = {}  # network -> business author id
        self.customers: dict[str, list[str]] = {network: [] for network in NETWORKS}
        self.personas: dict[str, Persona] = {}
        # tick -> ids changed at that tick, per network (dicts as ordered sets)
        self.changed_posts: dict[str, dict[int, dict[str, None]]] = {n: {} for n in NETWORKS}
        self.changed_authors: dict[str, dict[int, dict[str, None]]] = {n: {} for n in NETWORKS}
        self._hot: dict[str, float] = {}  # post id -> heat (chance per tick of new reactions)
        self._recent: list[str] = []  # thread ids, oldest first
        self._next_native = 1
        self.snowball: Snowball
        # Brand-watch chatter: public posts that never reach the business (no mention), by id, oldest first.
        self.watch_posts: dict[str, PostState] = {}
        self._next_watch_native = 1
        self._watch_lines: list[str] = []  # lines still to be said, in the order they will be
        self._create_cast(random.Random(f"{seed}:cast"))
        self._create_backfill(random.Random(f"{seed}:backfill"))
        self._name_backfill_resharers(random.Random(f"{seed}:resharers:backfill"))
        self._next_watch_tick = 0
        self._create_watch_backfill(random.Random(f"{seed}:watch:backfill"))

    # -- time and bookkeeping --------------------------------------------------------------------------------------

    def tick_time(self, tick: int) -> datetime:
        return self.epoch + timedelta(seconds=tick * self.tick_seconds)

    def _touch_post(self, post: PostState) -> None:
        post.changed_tick = self.tick
        self.changed_posts[post.network].setdefault(self.tick, {})[post.id] = None

    def _touch_author(self, author: AuthorState) -> None:
        author.changed_tick = self.tick
        self.changed_authors[author.network].setdefault(self.tick, {})[author.id] = None

    def advance_to(self, tick: int) -> None:
        while self.tick < tick:
            self.tick += 1
            self._live_tick(random.Random(f"{self.seed}:tick:{self.tick}"))
            self._name_live_resharers(random.Random(f"{self.seed}:resharers:{self.tick}"))
            self._watch_tick(random.Random(f"{self.seed}:watch:{self.tick}"))

    # -- the cast --------------------------------------------------------------------------------------------------

    def _create_cast(self, rng: random.Random) -> None:
        for network in NETWORKS:
            handle = self.network_handle(network, BUSINESS_HANDLE)
            author = AuthorState(
                make_id(network, f"demo-{BUSINESS_HANDLE}"), network, handle, BUSINESS_NAME,
                followers=rng.randint(900, 2400), following=rng.randint(150, 400), posts=rng.randint(800, 2500),
                url=self.profile_url(network, handle),
            )
            self.authors[author.id] = author
            self.business[network] = author.id
            self._touch_author(author)
        for persona in PERSONAS:
            followers = _followers_for(persona.tier, rng)
            if persona.tier is Tier.BIG:
                following = rng.randint(150, 1500)
            else:
                following = max(5, int(followers * rng.uniform(0.4, 2.5)) + rng.randint(0, 60))
            handle = self.network_handle(persona.network, persona.handle)
            author = AuthorState(
                make_id(persona.network, f"demo-{persona.handle}"), persona.network, handle, persona.name,
                followers=followers, following=following,
                posts=int(math.exp(rng.uniform(math.log(40), math.log(30_000)))),
                url=self.profile_url(persona.network, handle),
            )
            self.authors[author.id] = author
            self.customers[persona.network].append(author.id)
            self.personas[author.id] = persona
            self._touch_author(author)

    @staticmethod
    def network_handle(network: str, handle: str) -> str:
        # Bluesky handles are domain names: no underscores, and a domain after them.
        if network == "bluesky":
            return f"{handle.replace('_', '-')}.bsky.demo.example"
        return handle

    @staticmethod
    def profile_url(network: str, handle: str) -> str:
        host = _HOSTS[network]
        if network == "mastodon":
            return f"https://{host}/@{handle}"
        if network == "bluesky":
            return f"https://{host}/profile/{handle}"
        return f"https://{host}/{handle}"

    def post_url(self, network: str, handle: str, native: str) -> str:
        if network == "mastodon":
            return f"{self.profile_url(network, handle)}/{native}"
        if network == "bluesky":
            return f"{self.profile_url(network, handle)}/post/{native}"
        return f"{self.profile_url(network, handle)}/status/{native}"

    # -- writing posts ---------------------------------------------------------------------------------------------

    def _add_post(
        self, thread: ThreadState | None, author_id: str, text: str, created_at: datetime, *,
        network: str, visibility: Visibility, parent_id: str | None = None,
    ) -> PostState:
        native = str(self._next_native)
        self._next_native += 1
        post_id = make_id(network, f"demo-{native}")
        author = self.authors[author_id]
        direction = Direction.OUT if author_id == self.business[network] else Direction.IN
        post = PostState(
            id=post_id, native=native, network=network, thread_id=thread.root_id if thread else post_id,
            parent_id=parent_id, author_id=author_id, text=text, created_at=created_at,
            url="" if visibility is Visibility.DIRECT else self.post_url(network, author.handle, native),
            visibility=visibility, direction=direction,
        )
        self.posts[post_id] = post
        self._touch_post(post)
        if parent_id is not None:
            parent = self.posts[parent_id]
            parent.replies += 1
            self._touch_post(parent)
        if thread is not None:
            thread.post_ids.append(post_id)
            if direction is Direction.OUT:
                thread.business_posts += 1
        return post

    def _open_thread(
        self, rng: random.Random, network: str, customer_id: str, kind: Kind, created_at: datetime,
        scenario: Scenario | None = None, text: str | None = None,
    ) -> ThreadState:
        scenario = scenario or rng.choice([s for s in SCENARIOS if s.kind is kind])
        visibility = Visibility.DIRECT if kind is Kind.DM else Visibility.PUBLIC
        order = f"#{rng.randint(1000, 9999)}"
        if text is None:
            text = self._fill(rng.choice(scenario.openers), customer_id, order)
        if visibility is Visibility.PUBLIC:
            text = f"@{self.authors[self.business[network]].handle} {text}"
        root = self._add_post(None, customer_id, text, created_at, network=network, visibility=visibility)
        thread = ThreadState(root.id, network, kind, scenario, customer_id, visibility, [root.id], order=order)
        self.threads[root.id] = thread
        self._recent.append(root.id)
        del self._recent[:-RECENT_THREADS]
        return thread

    def _reply(self, thread: ThreadState, author_id: str, line: str, at: datetime) -> PostState:
        parent = self.posts[thread.post_ids[-1]]
        text = self._fill(line, thread.customer_id, thread.order)
        # Mastodon and X put the person answered at the front of a public reply; Bluesky does not.
        if thread.visibility is Visibility.PUBLIC and thread.network != "bluesky" and parent.author_id != author_id:
            text = f"@{self.authors[parent.author_id].handle} {text}"
        thread.used_lines.add(line)
        return self._add_post(thread, author_id, text, at, network=thread.network, visibility=thread.visibility,
                              parent_id=parent.id)

    def _fill(self, line: str, customer_id: str, order: str) -> str:
        return line.format(name=first_name(self.authors[customer_id].display_name), order=order)

    def _next_line(self, rng: random.Random, thread: ThreadState, author_id: str) -> str:
        """What ``author_id`` says next in ``thread``, given who spoke last."""
        last = self.posts[thread.post_ids[-1]]
        business_id = self.business[thread.network]
        if author_id == business_id:
            if thread.business_posts == 0:
                pool = thread.scenario.replies
            else:
                pool = BUSINESS_FOLLOWUPS[thread.kind]
            signature = rng.choice(SIGNATURES)
            return self._fresh(rng, thread, pool) + signature
        if author_id != thread.customer_id:
            return self._fresh(rng, thread, CHIME_INS[thread.kind])
        if last.author_id == business_id:
            pool = thread.scenario.followups if thread.business_posts == 1 else CLOSERS
            return self._fresh(rng, thread, pool)
        return self._fresh(rng, thread, NUDGES[thread.kind])

    @staticmethod
    def _fresh(rng: random.Random, thread: ThreadState, pool: tuple[str, ...]) -> str:
        unused = [line for line in pool if line not in thread.used_lines]
        return rng.choice(unused or list(pool))

    # -- the week before the epoch ---------------------------------------------------------------------------------

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
            kind = rng.choices(list(_KIND_WEIGHTS), weights=list(_KIND_WEIGHTS.values()))[0]
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

    # -- live ticks ------------------------------------------------------------------------------------------------

    def _live_tick(self, rng: random.Random) -> None:
        now = self.tick_time(self.tick)
        # Spread the tick's arrivals over the seconds since the previous tick, never past the tick itself.
        def moment() -> datetime:
            return now - timedelta(milliseconds=rng.randrange(int(self.tick_seconds * 1000) or 1))

        self._advance_snowball(rng, moment)
        pace = pace_at(self.tick)
        if rng.random() < P_NEW_THREAD * pace:
            network = rng.choice(NETWORKS)
            kind = rng.choices(list(_KIND_WEIGHTS), weights=list(_KIND_WEIGHTS.values()))[0]
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

    # -- who reshared --------------------------------------------------------------------------------------------

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

    def _heat(self, post_id: str, heat: float) -> None:
        self._hot[post_id] = min(0.95, heat)
        while len(self._hot) > HOT_LIMIT:
            del self._hot[next(iter(self._hot))]

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

    # -- brand-watch chatter ---------------------------------------------------------------------------------------

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


def pace_at(tick: int) -> float:
    """How busy the networks are ``tick`` ticks into a run, from 1 down to ``PACE_FLOOR``."""
    return max(PACE_FLOOR, 1 / (1 + tick / PACE_HALF_TICKS))


def _followers_for(tier: Tier, rng: random.Random) -> int:
    """Follower counts within a band; bands are fixed per persona so every seed keeps the heavy tail."""
    if tier is Tier.BIG:
        return min(2_000_000, int(52_000 * rng.paretovariate(1.1)))
    if tier is Tier.MID:
        return int(math.exp(rng.uniform(math.log(1_000), math.log(20_000))))
    if tier is Tier.EDGE:
        return rng.randint(500, 999)
    return max(3, min(499, int(rng.lognormvariate(math.log(110), 0.9))))
