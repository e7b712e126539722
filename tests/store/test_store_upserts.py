"""Writing connector pages: idempotent upserts, counts that only move forward, and the count history."""

from __future__ import annotations

import sqlite3

import pytest

from console.domain import Direction, Visibility, influence_breakdown, iso_utc

TABLES = ("posts", "authors", "threads", "count_samples", "sync_cursors", "posts_fts", "authors_fts")


def _snapshot(inbox, helpers) -> dict[str, list[tuple]]:
    return {table: helpers.dump(inbox.db.conn, table) for table in TABLES}


def _counts(inbox, post_id: str) -> tuple:
    return inbox.db.execute(
        "SELECT reshare_count, quote_count, like_count, reply_count, observed_at FROM posts WHERE id = ?", (post_id,)
    ).fetchone()


def _samples(inbox, post_id: str) -> list[tuple]:
    return inbox.db.execute(
        "SELECT observed_at, reshare_count, quote_count, like_count, reply_count FROM count_samples "
        "WHERE post_id = ? ORDER BY observed_at",
        (post_id,),
    ).fetchall()


def _a_page(records):
    return records.batch(
        records.post("1", "t1", minute=0, text="my order never arrived", reshare_count=2, like_count=5),
        records.post("2", "t1", minute=5, direction=Direction.OUT, text="sorry, checking now"),
        records.post("3", "t1", minute=9, author="bob", parent_id="mastodon:2", text="same here"),
        records.post("4", "t2", minute=3, author="carol", visibility=Visibility.DIRECT, text="private question"),
        cursor="page-1",
    )


def test_first_apply_stores_every_record(inbox, records, helpers):
    changes = inbox.apply_batch(_a_page(records))

    assert changes.new_posts == 4
    assert changes.thread_ids == {"mastodon:t1", "mastodon:t2"}
    assert changes.account_id == helpers.account.id
    assert inbox.db.execute("SELECT count(*) FROM posts").fetchone()[0] == 4
    assert inbox.db.execute("SELECT count(*) FROM authors").fetchone()[0] == 4
    assert inbox.db.execute("SELECT count(*) FROM threads").fetchone()[0] == 2
    assert inbox.db.execute("SELECT count(*) FROM count_samples").fetchone()[0] == 4
    assert inbox.cursor(helpers.account.id, "mentions") == "page-1"
    row = inbox.db.execute(
        "SELECT parent_id, visibility, direction, text FROM posts WHERE id = 'mastodon:4'"
    ).fetchone()
    assert row == (None, "direct", "in", "private question")


def test_applying_the_same_batch_twice_changes_nothing(inbox, records, helpers, clock):
    batch = _a_page(records)
    inbox.apply_batch(batch)
    before = _snapshot(inbox, helpers)

    clock.advance(minutes=30)
    changes = inbox.apply_batch(batch)

    assert changes.new_posts == 0
    after = _snapshot(inbox, helpers)
    for table in ("posts", "authors", "threads", "count_samples", "posts_fts", "authors_fts"):
        assert after[table] == before[table], table
    # Only the cursor's bookkeeping time moves.
    assert [row[:3] for row in after["sync_cursors"]] == [row[:3] for row in before["sync_cursors"]]


def test_replaying_many_times_in_any_order_converges(inbox, records, helpers):
    older = records.batch(records.post("1", observed_minute=10, reshare_count=1, text="first words"))
    newer = records.batch(records.post("1", observed_minute=20, reshare_count=4, text="edited words"))
    for batch in (newer, older, newer, older, older):
        inbox.apply_batch(batch)
    forward = _snapshot(inbox, helpers)

    # Starting again and feeding the pages in their natural order ends up with the same rows.
    inbox.db.execute("DELETE FROM posts")
    inbox.db.execute("DELETE FROM threads")
    inbox.db.execute("DELETE FROM count_samples")
    inbox.db.execute("UPDATE authors SET engagement = 0")  # the posts it summed are gone (priority depends on it)
    inbox.apply_batch(older)
    inbox.apply_batch(newer)
    natural = _snapshot(inbox, helpers)
    assert natural["threads"] == forward["threads"]
    assert [r[1:] for r in natural["posts"]] == [r[1:] for r in forward["posts"]]
    assert _counts(inbox, "mastodon:1")[0] == 4


def test_counts_never_move_back_in_time(inbox, records):
    inbox.apply_batch(records.batch(records.post("1", observed_minute=20, reshare_count=10, like_count=7)))
    inbox.apply_batch(records.batch(records.post("1", observed_minute=10, reshare_count=3, like_count=1)))

    assert _counts(inbox, "mastodon:1") == (10, 0, 7, 0, records.post("1", observed_minute=20).observed_at)
    assert inbox.db.execute("SELECT reshare_total FROM threads").fetchone()[0] == 10


def test_a_stale_copy_does_not_revert_edited_text(inbox, records, helpers):
    inbox.apply_batch(records.batch(records.post("1", observed_minute=20, text="edited text")))
    inbox.apply_batch(records.batch(records.post("1", observed_minute=10, text="original text")))
    assert inbox.db.execute("SELECT text FROM posts").fetchone()[0] == "edited text"


def test_a_newer_observation_updates_counts_and_text(inbox, records):
    inbox.apply_batch(records.batch(records.post("1", observed_minute=10, reshare_count=3, text="v1")))
    inbox.apply_batch(
        records.batch(records.post("1", observed_minute=20, reshare_count=10, quote_count=2, reply_count=4,
                                   text="v2", visibility=Visibility.UNLISTED))
    )
    row = inbox.db.execute(
        "SELECT reshare_count, quote_count, reply_count, text, visibility FROM posts WHERE id = 'mastodon:1'"
    ).fetchone()
    assert row == (10, 2, 4, "v2", "unlisted")
    assert inbox.db.execute("SELECT reshare_total FROM threads").fetchone()[0] == 12


def test_an_observation_at_the_same_moment_is_not_newer(inbox, records):
    inbox.apply_batch(records.batch(records.post("1", observed_minute=10, reshare_count=3)))
    inbox.apply_batch(records.batch(records.post("1", observed_minute=10, reshare_count=99)))
    assert _counts(inbox, "mastodon:1")[0] == 3


def test_count_samples_record_each_change_once(inbox, records):
    def observe(minute: int, reshares: int, likes: int = 0) -> None:
        inbox.apply_batch(
            records.batch(records.post("1", observed_minute=minute, reshare_count=reshares, like_count=likes))
        )

    observe(0, 1)
    observe(10, 1)  # unchanged counts, newer observation: no sample
    observe(20, 5)
    observe(15, 2)  # stale: ignored
    observe(30, 5)  # unchanged
    observe(40, 5, likes=3)  # a like is a change too
    observe(40, 5, likes=3)  # exact replay

    samples = _samples(inbox, "mastodon:1")
    assert [(s[1], s[3]) for s in samples] == [(1, 0), (5, 0), (5, 3)]
    assert [s[0] for s in samples] == [
        records.post("1", observed_minute=m).observed_at for m in (0, 20, 40)
    ]


def test_observed_at_defaults_to_the_clock(inbox, records, clock):
    inbox.apply_batch(records.batch(records.post("1", observed_at="", reshare_count=1)))
    assert _counts(inbox, "mastodon:1")[4] == iso_utc(clock())


def test_authors_keep_the_newest_figures(inbox, records, helpers):
    newer = records.author("alice", followers_count=900, display_name="Alice New", observed_at=helpers.at(60))
    older = records.author("alice", followers_count=12, display_name="Alice Old", observed_at=helpers.at(-60))
    post = records.post("1")
    inbox.apply_batch(records.batch(post, authors=(newer,)))
    inbox.apply_batch(records.batch(post, authors=(older,)))
    assert inbox.db.execute("SELECT followers_count, display_name FROM authors").fetchone() == (900, "Alice New")


def test_engagement_and_influence_follow_the_posts(inbox, records):
    alice = records.author("alice", followers_count=5000, following_count=100, posts_count=800)
    inbox.apply_batch(
        records.batch(
            records.post("1", "t1", reshare_count=3, quote_count=2, like_count=10),
            records.post("2", "t2", minute=1, reshare_count=1, like_count=4),
            authors=(alice,),
        )
    )
    engagement, influence = inbox.db.execute(
        "SELECT engagement, influence FROM authors WHERE id = 'mastodon:alice'"
    ).fetchone()
    assert engagement == 3 + 2 + 10 + 1 + 4
    assert influence == influence_breakdown(5000, 100, 800, engagement).score
    assert influence > 0


def test_an_authors_only_batch_refreshes_influence(inbox, records):
    inbox.apply_batch(records.batch(records.post("1")))
    assert inbox.db.execute("SELECT influence FROM authors WHERE id = 'mastodon:alice'").fetchone()[0] == 0
    famous = records.author("alice", followers_count=250_000, observed_at="2026-11-26T00:00:00.000Z")
    changes = inbox.apply_batch(records.batch(authors=(famous,)))
    assert changes.new_posts == 0
    assert inbox.db.execute("SELECT influence FROM authors WHERE id = 'mastodon:alice'").fetchone()[0] == (
        influence_breakdown(250_000, 0, 0, 0).score
    )


def test_business_replies_do_not_count_as_engagement(inbox, records):
    inbox.apply_batch(
        records.batch(records.post("1", direction=Direction.OUT, reshare_count=50, like_count=50))
    )
    business = records.post("1", direction="out").author_id
    assert inbox.db.execute("SELECT engagement FROM authors WHERE id = ?", (business,)).fetchone()[0] == 0


def test_a_cursorless_batch_keeps_the_cursor(inbox, records, helpers):
    inbox.apply_batch(records.batch(records.post("1"), cursor="c1"))
    inbox.apply_batch(records.batch(records.post("2", minute=1), cursor=None))
    assert inbox.cursor(helpers.account.id, "mentions") == "c1"
    inbox.apply_batch(records.batch(records.post("3", minute=2), cursor="c3"))
    assert inbox.cursor(helpers.account.id, "mentions") == "c3"
    assert inbox.cursor(helpers.account.id, "direct") is None


def test_cursors_are_per_account_and_stream(inbox, records, helpers):
    inbox.apply_batch(records.batch(records.post("1"), cursor="m1"))
    inbox.apply_batch(records.batch(records.post("2"), cursor="d1", stream="direct"))
    inbox.apply_batch(
        records.batch(records.post("3", account=helpers.other_account), cursor="o1", account=helpers.other_account)
    )
    assert inbox.cursor(helpers.account.id, "mentions") == "m1"
    assert inbox.cursor(helpers.account.id, "direct") == "d1"
    assert inbox.cursor(helpers.other_account.id, "mentions") == "o1"


# -- all or nothing ----------------------------------------------------------------------------------------------


def _state(inbox, helpers):
    snap = _snapshot(inbox, helpers)
    snap["cursor"] = [(inbox.cursor(helpers.account.id, "mentions"),)]
    return snap


def test_a_bad_post_rolls_back_the_whole_batch_and_its_cursor(inbox, records, helpers):
    inbox.apply_batch(records.batch(records.post("1"), cursor="c1"))
    before = _state(inbox, helpers)

    bad = records.batch(
        records.post("2", minute=1, reshare_count=1),
        records.post("3", minute=2, direction="sideways", author="bob"),
        cursor="c2",
    )
    with pytest.raises(sqlite3.IntegrityError):
        inbox.apply_batch(bad)

    assert _state(inbox, helpers) == before
    assert not inbox.db.conn.in_transaction


def test_a_post_by_an_unknown_author_rolls_back(inbox, records, helpers):
    inbox.apply_batch(records.batch(records.post("1"), cursor="c1"))
    before = _state(inbox, helpers)

    orphan = records.batch(records.post("2", minute=1), records.post("3", minute=2, author="ghost"), cursor="c2")
    orphan = type(orphan)(orphan.account_id, orphan.stream, orphan.posts,
                          tuple(a for a in orphan.authors if a.id != "mastodon:ghost"), orphan.cursor)
    with pytest.raises(sqlite3.IntegrityError):
        inbox.apply_batch(orphan)

    assert _state(inbox, helpers) == before


def test_a_cursor_that_cannot_be_saved_rolls_back_the_posts(inbox, records, helpers):
    """The cursor is written last: if it fails, the posts it covers must not stay behind either."""
    before = _state(inbox, helpers)
    good_posts = records.batch(records.post("1"), cursor="c1")
    unknown_account = type(good_posts)("mastodon:nobody", "mentions", good_posts.posts, good_posts.authors, "c1")
    with pytest.raises(sqlite3.IntegrityError):
        inbox.apply_batch(unknown_account)
    assert _state(inbox, helpers) == before
    assert inbox.cursor("mastodon:nobody", "mentions") is None


def test_the_inbox_keeps_working_after_a_failed_batch(inbox, records, helpers):
    with pytest.raises(sqlite3.IntegrityError):
        inbox.apply_batch(records.batch(records.post("1", direction="sideways"), cursor="bad"))
    inbox.apply_batch(records.batch(records.post("1"), cursor="good"))
    assert inbox.cursor(helpers.account.id, "mentions") == "good"
    assert inbox.db.execute("SELECT count(*) FROM posts").fetchone()[0] == 1


def test_writes_are_visible_to_a_second_connection(inbox, inbox_path, records):
    """Each batch is committed when apply_batch returns (the UI reads through its own connection)."""
    inbox.apply_batch(records.batch(records.post("1")))
    reader = sqlite3.connect(inbox_path)
    try:
        assert reader.execute("SELECT count(*) FROM posts").fetchone()[0] == 1
    finally:
        reader.close()
