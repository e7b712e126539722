"""Collecting one page of X records (posts, people, retweets, deletions) for one ``Batch``.

A later reading of the same post replaces the earlier; a post or person that cannot be read is skipped (logged), so
one odd object never blocks the inbox. A retweet is never a post of its own: it is a ``Reshare`` of the post it
retweets, by the person who retweeted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from console.connectors.errors import BadResponse
from console.connectors.payload import PageRecords
from console.connectors.x_parse import (
    Envelope, Json, Scope, moment, native, parse_dm_event, parse_tweet, parse_user, post_id, reference,
    snowflake_time,
)
from console.domain import Author, Post
from console.domain.records import Reshare

log = logging.getLogger(__name__)


class PageBuilder(PageRecords):
    """One page's posts, people, reshares and deletions."""

    scope: Scope

    def __init__(self, scope: Scope) -> None:
        super().__init__(scope)
        self.raw: dict[str, Json] = {}  # tweet id -> the payload its post came from (for walking reply chains)

    def add_user(self, user: Any) -> Author | None:
        try:
            author = parse_user(user, self.scope)
        except BadResponse as error:
            log.warning("skipping an unreadable X user: %s", error.detail)
            return None
        known = self.authors.get(author.id)
        if known is None or author.observed_at >= known.observed_at:
            self.authors[author.id] = author
        return author

    def add_users(self, users: Iterable[Any]) -> None:
        for user in users:
            self.add_user(user)

    def add_tweet(self, tweet: Json, envelope: Envelope) -> Post | None:
        """A post (never a retweet: see ``add_listed``), its author and the people its answer included."""
        try:
            post = parse_tweet(tweet, self.scope, tweets=envelope.tweets, users=envelope.users)
        except BadResponse as error:
            log.warning("skipping an unreadable X post: %s", error.detail)
            return None
        if not post.author_id:
            log.warning("skipping an X post without its author: %s", post.id)
            return None
        self.posts[post.id] = post
        self.raw[native(post.id)] = tweet
        user = envelope.users.get(native(post.author_id))
        if user is not None:
            self.add_user(user)
        self.deleted.pop(post.id, None)
        return post

    def add_listed(self, tweet: Json, envelope: Envelope) -> Post | None:
        """A post as a timeline or search lists it: a retweet becomes a reshare of the post it retweets (with that
        post, when X included it), never a post of its own; a reply brings the post it answers when included."""
        retweeted = reference(tweet, "retweeted")
        if retweeted is not None:
            original = envelope.tweets.get(retweeted)
            if original is not None:
                self.add_tweet(original, envelope)
            retweeter = envelope.users.get(str(tweet.get("author_id", "")))
            when = moment(tweet.get("created_at")) or snowflake_time(str(tweet.get("id", ""))) or \
                self.scope.observed_at
            if retweeter is not None:
                self.add_reshare(retweeted, retweeter, when)
            return None
        post = self.add_tweet(tweet, envelope)
        parent = reference(tweet, "replied_to")
        if post is not None and parent and parent in envelope.tweets and post_id(parent) not in self.posts:
            self.add_tweet(envelope.tweets[parent], envelope)
        return post

    def add_reshare(self, tweet_native: str, user: Any, reshared_at: str) -> None:
        """``user`` retweeted the post; the first sighting in a page wins (a retweet's own time beats a later
        "seen by now" reading)."""
        author = self.add_user(user)
        if author is None:
            return
        key = (post_id(tweet_native), author.id)
        self.reshares.setdefault(key, Reshare(key[0], author.id, reshared_at))

    def add_dm(self, event: Json) -> Post | None:
        try:
            post = parse_dm_event(event, self.scope)
        except BadResponse as error:
            log.warning("skipping an unreadable X direct message: %s", error.detail)
            return None
        if post is not None:
            self.posts[post.id] = post
        return post

    def add_deleted(self, tweet_native: str) -> None:
        if post_id(tweet_native) not in self.posts:
            self.deleted.setdefault(post_id(tweet_native), None)

    def has_post(self, tweet_native: str) -> bool:
        return post_id(tweet_native) in self.posts
