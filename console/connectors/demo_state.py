"""The demo world's records, and the bookkeeping of which tick changed what.

Every part of ``World`` (``demo_cast``, ``demo_threads``, ``demo_backfill``, ``demo_live``, ``demo_resharers``,
``demo_chatter``) reads and writes the same state; ``WorldState`` declares it once, so each part type-checks on its
own, and keeps the methods they share: the time of a tick, marking a post or author as changed at the current one
(which is how the connector finds what changed in a range of ticks), and marking a post as hot (still drawing likes and
reshares; the backfill leaves the day's last threads hot, the live ticks heat new posts and cool them down).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from console.connectors.demo_script import Kind, Persona, Scenario
from console.domain import Direction, Visibility

HOT_LIMIT = 40  # posts whose counts are still moving; bounded so a tick costs the same after a day of running


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


class WorldState:
    """The state ``World.__init__`` sets up; the parts mixed into ``World`` read and write it directly."""

    seed: int
    epoch: datetime
    tick_seconds: float
    tick: int
    authors: dict[str, AuthorState]
    posts: dict[str, PostState]
    threads: dict[str, ThreadState]
    business: dict[str, str]  # network -> business author id
    customers: dict[str, list[str]]  # network -> customer author ids, in cast order
    personas: dict[str, Persona]
    # tick -> ids changed at that tick, per network (dicts as ordered sets)
    changed_posts: dict[str, dict[int, dict[str, None]]]
    changed_authors: dict[str, dict[int, dict[str, None]]]
    _hot: dict[str, float]  # post id -> heat (chance per tick of new reactions)
    _recent: list[str]  # thread ids, oldest first
    _next_native: int
    snowball: Snowball
    # Brand-watch chatter: public posts that never reach the business (no mention), by id, oldest first.
    watch_posts: dict[str, PostState]
    _next_watch_native: int
    _watch_lines: list[str]  # lines still to be said, in the order they will be
    _next_watch_tick: int

    def tick_time(self, tick: int) -> datetime:
        return self.epoch + timedelta(seconds=tick * self.tick_seconds)

    def _touch_post(self, post: PostState) -> None:
        post.changed_tick = self.tick
        self.changed_posts[post.network].setdefault(self.tick, {})[post.id] = None

    def _touch_author(self, author: AuthorState) -> None:
        author.changed_tick = self.tick
        self.changed_authors[author.network].setdefault(self.tick, {})[author.id] = None

    def _heat(self, post_id: str, heat: float) -> None:
        self._hot[post_id] = min(0.95, heat)
        while len(self._hot) > HOT_LIMIT:
            del self._hot[next(iter(self._hot))]
