"""The records every layer exchanges: identifiers, defaults and immutability."""

from __future__ import annotations

import dataclasses

import pytest

from console.domain import Author, Batch, Direction, Post, ThreadStatus, Visibility
from console.domain.records import make_id


def test_ids_carry_their_network():
    uri = "at://did:plc:abc/app.bsky.feed.post/3k"
    assert make_id("bluesky", uri) == f"bluesky:{uri}"
    assert make_id("mastodon", "1") != make_id("x", "1")


def test_post_defaults_describe_a_public_customer_post():
    post = Post("x:1", "x", "x:me", "x:1", "x:9", "hi", "2026-11-25T09:00:00.000Z", "2026-11-25T09:00:00.000Z")
    assert post.direction is Direction.IN
    assert post.visibility is Visibility.PUBLIC
    assert (post.reshare_count, post.quote_count, post.like_count, post.reply_count) == (0, 0, 0, 0)
    assert post.parent_id is None


def test_records_are_frozen_and_slotted():
    author = Author("x:9", "x", "nine", "Nine")
    with pytest.raises(dataclasses.FrozenInstanceError):
        author.handle = "changed"  # type: ignore[misc]
    assert not hasattr(author, "__dict__")


def test_an_empty_batch_does_not_move_the_cursor():
    batch = Batch("x:me", "mentions")
    assert (batch.posts, batch.authors, batch.cursor, batch.more) == ((), (), None, False)


def test_enums_store_as_their_plain_values():
    assert str(Direction.OUT) == "out"
    assert str(Visibility.DIRECT) == "direct"
    assert {str(s) for s in ThreadStatus} == {"open", "snoozed", "done"}
