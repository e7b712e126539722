"""The records every layer exchanges.

Identifiers are ``"<network>:<native id>"`` so that posts and authors from different networks never collide and an
owner reading the database can tell at a glance where a row came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Direction(StrEnum):
    """Who wrote a post: a customer (``in``) or the business itself (``out``)."""

    IN = "in"
    OUT = "out"


class Visibility(StrEnum):
    """How public a post is; ``direct`` means a private message."""

    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"
    DIRECT = "direct"


class ThreadStatus(StrEnum):
    OPEN = "open"
    SNOOZED = "snoozed"
    DONE = "done"


def make_id(network: str, native_id: str) -> str:
    """Build the inbox-wide identifier of a network object."""
    return f"{network}:{native_id}"


@dataclass(frozen=True, slots=True)
class Account:
    """One of the business's own accounts on a network. Never holds a secret: tokens live in the OS keyring.

    ``remote_id`` is the account's own id on its network (to recognise the business's posts); ``char_limit`` is
    the server's post length limit where the network reports one.
    """

    id: str
    network: str
    handle: str
    server_url: str
    display_name: str = ""
    remote_id: str = ""
    char_limit: int | None = None
    needs_reconnect: bool = False


@dataclass(frozen=True, slots=True)
class Attachment:
    """A picture, video or file on a post; ``description`` is the alt text, shown in its place."""

    kind: str
    url: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Author:
    """A person (or the business) who wrote a post, with the audience figures influence is built from."""

    id: str
    network: str
    handle: str
    display_name: str
    followers_count: int = 0
    following_count: int = 0
    posts_count: int = 0
    url: str = ""
    observed_at: str = ""


@dataclass(frozen=True, slots=True)
class Post:
    """One post, reply or direct message as the network last reported it.

    ``observed_at`` is when the counts were read from the network: the store keeps the newest observation, so a
    stale copy (an older page fetched late) never moves counts back in time.
    """

    id: str
    network: str
    account_id: str
    thread_id: str
    author_id: str
    text: str
    created_at: str
    observed_at: str
    parent_id: str | None = None
    url: str = ""
    reshare_count: int = 0
    quote_count: int = 0
    like_count: int = 0
    reply_count: int = 0
    visibility: Visibility = Visibility.PUBLIC
    direction: Direction = Direction.IN
    attachments: tuple[Attachment, ...] = ()
    edited_at: str | None = None


@dataclass(frozen=True, slots=True)
class Reshare:
    """Someone reshared (boosted, reposted, retweeted) a post, where the network says who.

    Counts alone say how fast a post spreads; the resharers say how far: their followers are the audience it reached.
    ``reshared_at`` is the network's time of the reshare, or when Tend first saw it if the network does not say.
    The resharer's profile travels in the same ``Batch.authors``.
    """

    post_id: str
    author_id: str
    reshared_at: str


@dataclass(frozen=True, slots=True)
class Batch:
    """What one connector page delivers: stored in one transaction together with the cursor it ends at.

    ``cursor`` is ``None`` when this page must not move the stream's cursor (for example the middle pages of a
    newest-first walk, where only the last page knows where the next sync should start). ``deleted_post_ids`` are
    posts the network reports as deleted: they stay in the inbox, marked, so the owner keeps the history.
    ``reshares`` name who reshared stored posts (their profiles are in ``authors``). ``source`` is ``"mention"``
    for everything that reached the business (mentions, replies, DMs, threads around them) and ``"watch"`` for
    brand-watch matches (``console.domain.watches``): a thread whose posts all came from watches is "unmentioned".
    """

    account_id: str
    stream: str
    posts: tuple[Post, ...] = ()
    authors: tuple[Author, ...] = ()
    cursor: str | None = None
    more: bool = field(default=False)
    deleted_post_ids: tuple[str, ...] = ()
    reshares: tuple[Reshare, ...] = ()
    source: str = "mention"
