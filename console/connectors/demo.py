"""The embedded demo network: three accounts of a bakery on a simulated Mastodon, Bluesky and X.

It goes through the same ``Connector`` interface and sync engine as the real networks, so the demo exercises the
whole app. The world lives in ``demo_world`` (a seeded, replayable simulation) and its words in ``demo_script``.

Cursor: ``{"epoch": "<iso>", "tick": n}``. The epoch is the world's "now" at the first sync and anchors everything:
the backfill is the week before it, and live tick ``k`` happens at ``epoch + k * tick_seconds``. A fetch returns
what changed in ticks ``(cursor.tick, current tick]``; a fresh process given a cursor replays the world up to it.
Like a network that names resharers, each post comes with the ``Reshare`` records that became known in that range,
and the resharers' profiles travel in the same page.

Brand watches (``fetch_watch``): customers also talk about the bakery without tagging it, by name, product or street
(``World.watch_posts``). The watch cursor has the same shape; a first run looks back ``WATCH_WINDOW`` (three days)
from the world's now, later runs return what was posted in ticks ``(cursor.tick, current tick]``. Only true matches
come back: public posts by customers whose text matches the watch, each with its author and in its conversation.
``DEMO_WATCH_TERMS`` and ``DEMO_WATCH_EXCLUDE`` are the demo inbox's own watch words.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta

from console.connectors.base import OutgoingReply
from console.connectors.demo_script import BUSINESS_HANDLE, BUSINESS_NAME, NETWORKS
from console.connectors.demo_world import AuthorState, PostState, World
from console.connectors.errors import BadResponse, ConnectorError
from console.domain import Account, Author, Batch, Direction, Post, Reshare, Visibility, iso_utc, parse_iso, utc_now
from console.domain.records import make_id
from console.domain.watches import WATCH_STREAM, BrandWatch

STREAM = "activity"
PAGE_SIZE = 100
WATCH_WINDOW = timedelta(days=3)
# The demo bakery's brand watch: its name (two spellings), its hashtag, its street and its best-known product; and a
# word that marks posts about the street that are not about the bakery.
DEMO_WATCH_TERMS: tuple[str, ...] = ("Crumb & Co", "Crumb and Co", "#crumbandco", "Mill Lane", "pistachio croissant")
DEMO_WATCH_EXCLUDE: tuple[str, ...] = ("roadworks",)
_WATCHABLE = (Visibility.PUBLIC, Visibility.UNLISTED)
_LABELS = {"mastodon": "Mastodon", "bluesky": "Bluesky", "x": "X"}


def _account(network: str) -> Account:
    return Account(
        id=f"demo-{network}",
        network=network,
        handle=World.network_handle(network, BUSINESS_HANDLE),
        server_url=f"demo://{network}",
        display_name=f"{BUSINESS_NAME} (demo {_LABELS[network]})",
    )


def encode_cursor(epoch: str, tick: int) -> str:
    return json.dumps({"epoch": epoch, "tick": tick}, separators=(",", ":"))


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        data = json.loads(cursor)
        epoch, tick = data["epoch"], data["tick"]
        parse_iso(epoch)
        if not isinstance(tick, int) or tick < 0:
            raise ValueError(tick)
    except (ValueError, TypeError, KeyError) as error:
        raise BadResponse("The demo network could not read where the last sync stopped.",
                          detail=f"bad demo cursor {cursor!r}: {error!r}") from error
    return epoch, tick


class DemoNetwork:
    """One simulated world shared by the three demo accounts; it advances once per tick whoever asks first."""

    def __init__(self, seed: int = 7, clock: Callable[[], datetime] = utc_now, tick_seconds: float = 3.0) -> None:
        if tick_seconds <= 0:
            raise ValueError("tick_seconds must be positive")
        self.seed = seed
        self.tick_seconds = tick_seconds
        self._clock = clock
        # Worlds by epoch: normally one, but cursors saved by an earlier run bring back the world they came from.
        self._worlds: dict[str, World] = {}
        self._current: World | None = None
        self._sent: dict[str, Post] = {}  # idempotency key -> the reply as sent

    def accounts(self) -> list[Account]:
        return [_account(network) for network in NETWORKS]

    def connectors(self) -> list[DemoConnector]:
        return [DemoConnector(self, account) for account in self.accounts()]

    # -- the world -------------------------------------------------------------------------------------------------

    def world(self, epoch: str | None = None) -> World:
        """The world a cursor belongs to, or (no cursor) the one this run is showing, created now if needed."""
        if epoch is None:
            if self._current is None:
                # Millisecond precision, as in cursors, so a restarted run rebuilds the identical world.
                epoch = iso_utc(self._clock())
            else:
                return self._current
        world = self._worlds.get(epoch)
        if world is None:
            world = World(self.seed, parse_iso(epoch), self.tick_seconds)
            self._worlds[epoch] = world
        if self._current is None:
            self._current = world
        return world

    def current_tick(self, world: World) -> int:
        elapsed = (self._clock() - world.epoch).total_seconds()
        return max(0, math.floor(elapsed / self.tick_seconds))

    def caught_up(self, epoch: str | None = None) -> World:
        world = self.world(epoch)
        world.advance_to(self.current_tick(world))
        return world

    # -- records ---------------------------------------------------------------------------------------------------

    @staticmethod
    def post_record(world: World, post: PostState) -> Post:
        return Post(
            id=post.id, network=post.network, account_id=f"demo-{post.network}", thread_id=post.thread_id,
            author_id=post.author_id, text=post.text, created_at=iso_utc(post.created_at),
            observed_at=iso_utc(world.tick_time(post.changed_tick)), parent_id=post.parent_id, url=post.url,
            reshare_count=post.reshares, quote_count=post.quotes, like_count=post.likes,
            reply_count=post.replies, visibility=post.visibility, direction=post.direction,
        )

    @staticmethod
    def reshare_records(post: PostState, after: int) -> list[Reshare]:
        """Who reshared ``post``, as far as became known after tick ``after``."""
        return [Reshare(post.id, author_id, iso_utc(when))
                for author_id, (when, tick) in post.resharers.items() if tick > after]

    @staticmethod
    def author_record(world: World, author: AuthorState) -> Author:
        return Author(
            id=author.id, network=author.network, handle=author.handle, display_name=author.display_name,
            followers_count=author.followers, following_count=author.following, posts_count=author.posts,
            url=author.url, observed_at=iso_utc(world.tick_time(author.changed_tick)),
        )

    def sent_replies(self) -> list[Post]:
        return list(self._sent.values())

    def record_sent(self, reply: OutgoingReply, account: Account) -> Post:
        existing = self._sent.get(reply.idempotency_key)
        if existing is not None:
            return existing
        network = account.network
        parent = reply.in_reply_to
        world = self.caught_up()
        business = world.authors[world.business[network]]
        # The id comes from the idempotency key, so a send retried after a restart still names the same post, and
        # it can never collide with the world's own numbered posts.
        native = "sent-" + hashlib.sha256(reply.idempotency_key.encode()).hexdigest()[:12]
        now = iso_utc(self._clock())
        post = Post(
            id=make_id(network, f"demo-{native}"), network=network, account_id=account.id,
            thread_id=parent.thread_id, author_id=business.id, text=reply.text, created_at=now, observed_at=now,
            parent_id=parent.id,
            url="" if reply.visibility is Visibility.DIRECT else world.post_url(network, business.handle, native),
            visibility=reply.visibility, direction=Direction.OUT,
        )
        self._sent[reply.idempotency_key] = post
        return post


class DemoConnector:
    """One demo account; satisfies ``console.connectors.base.Connector``."""

    def __init__(self, network: DemoNetwork, account: Account) -> None:
        self.network = network
        self.account = account
        self._closed = False

    @property
    def streams(self) -> Sequence[str]:
        return (STREAM,)

    async def fetch_since(self, stream: str, cursor: str | None) -> AsyncIterator[Batch]:
        if stream != STREAM:
            raise ValueError(f"the demo network has no stream {stream!r}")
        self._check_open()
        await asyncio.sleep(0)  # a real network would yield to the loop here
        if cursor is None:
            world, after = self.network.caught_up(), -1
        else:
            epoch, after = decode_cursor(cursor)
            world = self.network.world(epoch)
            world.advance_to(max(after, self.network.current_tick(world)))
        upto = world.tick
        new_cursor = encode_cursor(iso_utc(world.epoch), upto)
        posts, authors = self._changes(world, after)
        pages = [posts[i:i + PAGE_SIZE] for i in range(0, len(posts), PAGE_SIZE)] or [[]]
        for number, page in enumerate(pages):
            last = number == len(pages) - 1
            reshares = [r for p in page for r in DemoNetwork.reshare_records(p, after)]
            page_authors = dict.fromkeys([*(p.author_id for p in page), *(r.author_id for r in reshares)])
            if last:
                page_authors.update(dict.fromkeys(authors))
            yield Batch(
                account_id=self.account.id,
                stream=stream,
                posts=tuple(DemoNetwork.post_record(world, p) for p in page),
                authors=tuple(DemoNetwork.author_record(world, world.authors[a]) for a in page_authors),
                cursor=new_cursor if last else None,
                more=not last,
                reshares=tuple(reshares),
            )

    async def fetch_watch(self, watch: BrandWatch, cursor: str | None) -> AsyncIterator[Batch]:
        """Brand-watch matches posted after ``cursor`` (a first run: in the last ``WATCH_WINDOW``)."""
        self._check_open()
        await asyncio.sleep(0)
        if cursor is None:
            world = self.network.caught_up()
            since = world.tick_time(world.tick) - WATCH_WINDOW
        else:
            epoch, after = decode_cursor(cursor)
            world = self.network.world(epoch)
            world.advance_to(max(after, self.network.current_tick(world)))
            since = world.tick_time(after)
        until = world.tick_time(world.tick)
        network = self.account.network
        business = world.business[network]
        found = sorted(
            (p for p in world.watch_posts.values()
             if p.network == network and since < p.created_at <= until and p.visibility in _WATCHABLE
             and p.author_id != business and watch.matches(p.text, p.author_id)),
            key=lambda p: (p.created_at, p.id),
        )
        new_cursor = encode_cursor(iso_utc(world.epoch), world.tick)
        pages = [found[i:i + PAGE_SIZE] for i in range(0, len(found), PAGE_SIZE)] or [[]]
        for number, page in enumerate(pages):
            last = number == len(pages) - 1
            yield Batch(
                account_id=self.account.id,
                stream=WATCH_STREAM,
                posts=tuple(DemoNetwork.post_record(world, p) for p in page),
                authors=tuple(DemoNetwork.author_record(world, world.authors[a])
                              for a in dict.fromkeys(p.author_id for p in page)),
                cursor=new_cursor if last else None,
                more=not last,
                source="watch",
            )

    def _changes(self, world: World, after: int) -> tuple[list[PostState], list[str]]:
        """Posts (oldest first, so parents come before replies) and author ids changed after tick ``after``."""
        name = self.account.network
        post_ids: dict[str, None] = {}
        author_ids: dict[str, None] = {}
        for tick in range(after + 1, world.tick + 1):
            post_ids.update(world.changed_posts[name].get(tick, {}))
            author_ids.update(world.changed_authors[name].get(tick, {}))
        posts = sorted((world.posts[i] for i in post_ids), key=lambda p: (p.created_at, int(p.native)))
        return posts, list(author_ids)

    async def fetch_thread(self, root_id: str) -> list[Post]:
        self._check_open()
        world = self.network.caught_up()
        thread = world.threads.get(root_id)
        if thread is None:  # a conversation brand watches found: customers talking among themselves
            posts = [DemoNetwork.post_record(world, p) for p in world.watch_posts.values()
                     if p.thread_id == root_id and p.network == self.account.network and p.visibility in _WATCHABLE]
            return sorted(posts, key=lambda p: p.created_at)
        if thread.network != self.account.network:
            return []
        posts = [DemoNetwork.post_record(world, world.posts[i]) for i in thread.post_ids]
        posts += [p for p in self.network.sent_replies() if p.thread_id == root_id]
        return sorted(posts, key=lambda p: p.created_at)

    async def fetch_authors(self, author_ids: Sequence[str]) -> list[Author]:
        self._check_open()
        world = self.network.caught_up()
        return [
            DemoNetwork.author_record(world, world.authors[a])
            for a in author_ids
            if a in world.authors and world.authors[a].network == self.account.network
        ]

    async def send_reply(self, reply: OutgoingReply) -> Post:
        self._check_open()
        if reply.in_reply_to.network != self.account.network:
            raise ValueError(f"{self.account.id} cannot reply to a {reply.in_reply_to.network} post")
        if not reply.text.strip():
            raise ConnectorError("The network refused an empty reply.", detail="demo: empty reply text")
        await asyncio.sleep(0)
        return self.network.record_sent(reply, self.account)

    async def aclose(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise ConnectorError("The demo account was closed.", detail=f"{self.account.id} used after aclose()")
