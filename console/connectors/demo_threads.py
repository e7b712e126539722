"""Conversations on the demo networks: opening a thread, adding posts to it, and what each person says next.

The words come from ``demo_script``; this part picks them (a line not yet used in the thread where it can), fills in
the customer's name and order number, and writes the mentions each network puts in front of a public post.
"""

from __future__ import annotations

import random
from datetime import datetime

from console.connectors.demo_cast import CastMixin
from console.connectors.demo_script import (
    BUSINESS_FOLLOWUPS,
    CHIME_INS,
    CLOSERS,
    NUDGES,
    SCENARIOS,
    SIGNATURES,
    Kind,
    Scenario,
)
from console.connectors.demo_state import PostState, ThreadState
from console.domain import Direction, Visibility
from console.domain.records import make_id

MAX_DEPTH = 8
RECENT_THREADS = 30  # threads live customers may come back to
KIND_WEIGHTS = {Kind.COMPLAINT: 3, Kind.QUESTION: 4, Kind.PRAISE: 2, Kind.DM: 2}  # how often each kind of thread opens


def first_name(display_name: str) -> str:
    return display_name.split()[0]


class ThreadsMixin(CastMixin):
    """Writes the cast's posts into threads; the backfill and the live ticks decide when, and who speaks."""

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
