"""Brand watches in the store: schema v7, where posts came from, unmentioned threads, noise control, the watch."""

from __future__ import annotations

from dataclasses import replace

import pytest

from console.domain import Batch, Direction, ThreadStatus
from console.domain.watches import WATCH_STREAM, BrandWatch
from console.store import Inbox, View, ViewKind, schema
from console.store.people import UnknownAuthor, author_profile, set_author_note, set_author_vip
from console.store.queries import get_thread, list_threads, view_counts
from console.store.watches import (
    MutedAuthor,
    author_muted,
    brand_watch,
    muted_authors,
    save_brand_watch,
    set_author_muted,
)


def watch_batch(records, *posts, cursor=None, **kwargs) -> Batch:
    return replace(records.batch(*posts, cursor=cursor, stream=WATCH_STREAM, **kwargs), source="watch")


def source_of(inbox: Inbox, native: str) -> str:
    return inbox.db.execute("SELECT source FROM posts WHERE id = ?", (f"mastodon:{native}",)).fetchone()[0]


def unmentioned(inbox: Inbox, thread: str) -> int:
    return inbox.db.execute("SELECT unmentioned FROM threads WHERE id = ?", (f"mastodon:{thread}",)).fetchone()[0]


def listed(inbox: Inbox, kind: ViewKind = ViewKind.UNMENTIONED, **view) -> list[str]:
    return [row.id.split(":", 1)[1] for row in list_threads(inbox.db, View(kind, **view), 50)]


# -- schema v7 -------------------------------------------------------------------------------------------------------


def test_migrating_a_v6_inbox_to_v7_keeps_its_data(inbox_path, helpers, monkeypatch):
    from console.store import database

    monkeypatch.setattr(database, "MIGRATIONS", schema.MIGRATIONS[:6])
    monkeypatch.setattr(database, "LATEST_VERSION", 6)
    old = database.open_database(inbox_path)
    # Rows as a v6 Tend wrote them (today's Inbox writes v7 columns, so plain SQL here).
    old.execute("INSERT INTO accounts (id, network, handle, server_url, created_at) VALUES (?, 'mastodon', ?, '', ?)",
                (helpers.account.id, helpers.account.handle, helpers.at(0)))
    old.execute("INSERT INTO authors (id, network, handle) VALUES ('mastodon:alice', 'mastodon', 'alice')")
    old.execute("""INSERT INTO posts (id, network, account_id, thread_id, author_id, text, created_at, observed_at,
                                      direction)
                   VALUES ('mastodon:1', 'mastodon', ?, 'mastodon:t1', 'mastodon:alice', 'my cake', ?, ?, 'in')""",
                (helpers.account.id, helpers.at(0), helpers.at(0)))
    old.execute("""INSERT INTO threads (id, account_id, network, root_post_id, status_changed_at, last_activity_at,
                                        needs_reply, post_count)
                   VALUES ('mastodon:t1', ?, 'mastodon', 'mastodon:1', ?, ?, 1, 1)""",
                (helpers.account.id, helpers.at(0), helpers.at(0)))
    old.execute("INSERT INTO author_notes (author_id, note, vip, updated_at) VALUES ('mastodon:alice', 'kind', 1, ?)",
                (helpers.at(0),))
    old.close()
    assert helpers.pragma(inbox_path, "user_version") == 6
    monkeypatch.undo()

    upgraded = Inbox.open(inbox_path)
    try:
        db = upgraded.db
        assert db.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST_VERSION >= 7
        assert db.execute("SELECT id, source, text FROM posts").fetchall() == [("mastodon:1", "mention", "my cake")]
        assert db.execute("SELECT id, unmentioned, needs_reply FROM threads").fetchall() == [("mastodon:t1", 0, 1)]
        assert db.execute("SELECT note, vip, muted FROM author_notes").fetchall() == [("kind", 1, 0)]
        assert db.execute("SELECT count(*) FROM brand_watch").fetchone()[0] == 0
        assert "threads_unmentioned" in {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert brand_watch(upgraded) == BrandWatch()
        assert listed(upgraded, ViewKind.OPEN) == ["t1"]
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        upgraded.close()
    assert [n for n in helpers.sidecars(inbox_path) if ".before-v7-" in n]


def test_the_source_column_only_takes_known_values(inbox, records):
    inbox.apply_batch(records.batch(records.post("1")))
    with pytest.raises(Exception, match="CHECK"):
        inbox.db.execute("UPDATE posts SET source = 'rumour'")
    with pytest.raises(ValueError, match="source"):
        inbox.apply_batch(replace(records.batch(records.post("2")), source="rumour"))


def test_the_unmentioned_view_reads_its_partial_index(inbox):
    plan = " ".join(row[3] for row in inbox.db.execute(
        "EXPLAIN QUERY PLAN SELECT t.id FROM threads t WHERE t.status = 'open' AND t.unmentioned = 1 "
        "ORDER BY t.last_activity_at DESC, t.id DESC LIMIT 50").fetchall())
    assert "threads_unmentioned" in plan and "TEMP B-TREE" not in plan
    count_plan = " ".join(row[3] for row in inbox.db.execute(
        "EXPLAIN QUERY PLAN SELECT count(*) FROM threads t WHERE t.status = 'open' AND t.unmentioned = 1").fetchall())
    assert "threads_unmentioned" in count_plan


# -- where posts came from --------------------------------------------------------------------------------------------


def test_mentions_are_mentions_and_watch_matches_make_unmentioned_threads(inbox, records):
    inbox.apply_batch(records.batch(records.post("1", "t1", author="alice")))
    changes = inbox.apply_batch(watch_batch(records, records.post("2", "t2", minute=1, author="bob",
                                                                  text="lunch at crumbandco"), cursor="c1"))
    assert (source_of(inbox, "1"), unmentioned(inbox, "t1")) == ("mention", 0)
    assert (source_of(inbox, "2"), unmentioned(inbox, "t2")) == ("watch", 1)
    assert changes.new_posts == 1 and changes.thread_ids == {"mastodon:t2"}
    assert inbox.cursor(records.batch().account_id, WATCH_STREAM) == "c1"
    # Matches land in the inbox like mentions (needs reply, counts), marked, and in a view of their own.
    assert listed(inbox) == ["t2"]
    assert sorted(listed(inbox, ViewKind.NEEDS_REPLY)) == ["t1", "t2"]
    assert get_thread(inbox.db, "mastodon:t2").unmentioned is True
    assert get_thread(inbox.db, "mastodon:t1").unmentioned is False
    assert view_counts(inbox.db)[ViewKind.UNMENTIONED] == 1
    inbox.set_thread_status("mastodon:t2", ThreadStatus.DONE)
    assert listed(inbox) == [] and view_counts(inbox.db)[ViewKind.UNMENTIONED] == 0


def test_watch_matches_get_counts_influence_and_history_like_mentions(inbox, records):
    inbox.apply_batch(watch_batch(records, records.post("1", "t1", reshare_count=4, like_count=10)))
    inbox.apply_batch(watch_batch(records, records.post("1", "t1", observed_minute=5, reshare_count=9,
                                                        like_count=12)))
    row = get_thread(inbox.db, "mastodon:t1")
    assert row.reshare_total == 9 and row.author_influence > 0
    samples = inbox.db.execute("SELECT count(*) FROM count_samples WHERE post_id = 'mastodon:1'").fetchone()[0]
    assert samples == 2
    assert inbox.db.execute("SELECT engagement FROM authors WHERE id = 'mastodon:alice'").fetchone()[0] == 21


def test_watch_then_mention_makes_a_mention_thread(inbox, records):
    inbox.apply_batch(watch_batch(records, records.post("1", "t1", observed_minute=10)))
    assert unmentioned(inbox, "t1") == 1
    # The mention's copy is older than the watch's: the post still becomes a mention (counts stay the newer ones).
    changes = inbox.apply_batch(records.batch(records.post("1", "t1", observed_minute=2)))
    assert (source_of(inbox, "1"), unmentioned(inbox, "t1")) == ("mention", 0)
    assert changes.new_posts == 0 and "mastodon:t1" in changes.thread_ids
    assert listed(inbox) == []


def test_mention_then_watch_stays_a_mention(inbox, records):
    inbox.apply_batch(records.batch(records.post("1", "t1")))
    inbox.apply_batch(watch_batch(records, records.post("1", "t1", observed_minute=10, like_count=3)))
    assert (source_of(inbox, "1"), unmentioned(inbox, "t1")) == ("mention", 0)
    assert inbox.db.execute("SELECT like_count FROM posts WHERE id = 'mastodon:1'").fetchone()[0] == 3


def test_a_watch_match_in_a_mention_thread_leaves_it_a_mention_thread(inbox, records):
    inbox.apply_batch(records.batch(records.post("1", "t1")))
    inbox.apply_batch(watch_batch(records, records.post("2", "t1", minute=3, author="bob", parent_id="mastodon:1")))
    assert (source_of(inbox, "2"), unmentioned(inbox, "t1")) == ("watch", 0)


def test_a_customer_tagging_the_business_in_an_unmentioned_thread_makes_it_a_mention_thread(inbox, records):
    inbox.apply_batch(watch_batch(records, records.post("1", "t1")))
    inbox.apply_batch(records.batch(records.post("2", "t1", minute=4, author="bob", parent_id="mastodon:1")))
    assert unmentioned(inbox, "t1") == 0


def test_the_business_replying_leaves_a_thread_unmentioned(inbox, records):
    """Only customers' posts say whether anyone tagged the business; its own reply (sent from Tend or seen on the
    network) does not make the customer's post a mention."""
    inbox.apply_batch(watch_batch(records, records.post("1", "t1")))
    inbox.apply_batch(records.batch(records.post("2", "t1", minute=2, direction=Direction.OUT)))
    assert unmentioned(inbox, "t1") == 1
    row = get_thread(inbox.db, "mastodon:t1")
    assert row.needs_reply is False and row.unmentioned is True


def test_a_reread_neither_promotes_nor_demotes(inbox, records):
    inbox.apply_batch(watch_batch(records, records.post("1", "t1")))
    inbox.apply_batch(records.batch(records.post("5", "t5")))
    # The engine re-reading open threads: connectors build such batches like any other ("mention" by default).
    reread = records.batch(
        records.post("1", "t1", observed_minute=9, like_count=5),
        records.post("2", "t1", minute=3, author="bob", parent_id="mastodon:1"),  # new, found by the re-read
        records.post("3", "t1", minute=4, direction=Direction.OUT, parent_id="mastodon:2"),
        records.post("6", "t5", minute=3, author="bob"),
        stream="threads",
    )
    inbox.apply_batch(reread, reread=True)
    assert [source_of(inbox, n) for n in ("1", "2", "3")] == ["watch", "watch", "watch"]
    assert unmentioned(inbox, "t1") == 1
    assert (source_of(inbox, "6"), unmentioned(inbox, "t5")) == ("mention", 0)
    assert inbox.db.execute("SELECT like_count FROM posts WHERE id = 'mastodon:1'").fetchone()[0] == 5


# -- noise control ---------------------------------------------------------------------------------------------------


def test_watches_skip_the_business_s_own_posts_and_muted_people(inbox, records, helpers):
    inbox.apply_batch(records.batch(records.post("0", "t0", author="neighbour")))  # the inbox knows them
    set_author_muted(inbox, "mastodon:neighbour", True)
    batch = watch_batch(
        records,
        records.post("1", "t1", author="neighbour", text="crumbandco again"),
        records.post("2", "t2", direction=Direction.OUT, text="crumbandco: new buns today"),
        records.post("3", "t3", author="carol", text="crumbandco is great"),
        cursor="c2",
    )
    changes = inbox.apply_batch(batch)
    assert changes.new_posts == 1 and changes.thread_ids == {"mastodon:t3"}
    ids = {row[0] for row in inbox.db.execute("SELECT id FROM posts").fetchall()}
    assert ids == {"mastodon:0", "mastodon:3"}
    assert inbox.cursor(helpers.account.id, WATCH_STREAM) == "c2"  # the page was read, only its noise left out
    assert listed(inbox) == ["t3"]


def test_muting_never_touches_mentions(inbox, records):
    inbox.apply_batch(records.batch(records.post("0", "t0", author="neighbour")))
    set_author_muted(inbox, "mastodon:neighbour", True)
    changes = inbox.apply_batch(records.batch(records.post("1", "t1", author="neighbour")))
    assert changes.new_posts == 1 and unmentioned(inbox, "t1") == 0


def test_a_watch_page_of_only_noise_still_moves_its_cursor(inbox, records, helpers):
    changes = inbox.apply_batch(watch_batch(records, records.post("1", direction=Direction.OUT), cursor="c3"))
    assert changes.new_posts == 0 and not changes.thread_ids
    assert inbox.cursor(helpers.account.id, WATCH_STREAM) == "c3"
    assert inbox.db.execute("SELECT count(*) FROM threads").fetchone()[0] == 0


# -- the watch --------------------------------------------------------------------------------------------------------


def test_brand_watch_round_trip(inbox, records):
    assert brand_watch(inbox) == BrandWatch() and not brand_watch(inbox.db).active
    save_brand_watch(inbox, ["Crumb & Co", " crumbandco ", "", "#crumbandco", "crumbandco", "Mill Lane"],
                     ["crumb rubber", "crumb rubber"])
    watch = brand_watch(inbox)
    assert watch.terms == ("Crumb & Co", "crumbandco", "#crumbandco", "Mill Lane")  # the owner's order
    assert watch.exclude == ("crumb rubber",)
    assert watch.muted_author_ids == frozenset()
    inbox.apply_batch(records.batch(records.post("0", "t0", author="neighbour")))
    set_author_muted(inbox, "mastodon:neighbour", True)
    assert brand_watch(inbox).muted_author_ids == {"mastodon:neighbour"}
    assert brand_watch(inbox.db) == brand_watch(inbox)
    save_brand_watch(inbox, ["Mill Lane", "crumbandco"], [])
    assert brand_watch(inbox).terms == ("Mill Lane", "crumbandco") and brand_watch(inbox).exclude == ()
    save_brand_watch(inbox, [], [])
    assert not brand_watch(inbox).active


def test_new_terms_forget_the_watch_cursors_but_new_excludes_do_not(inbox, records, helpers):
    save_brand_watch(inbox, ["crumbandco"], [])
    inbox.apply_batch(watch_batch(records, cursor="w1"))
    inbox.apply_batch(watch_batch(records, cursor="w2", account=helpers.other_account))
    inbox.apply_batch(records.batch(cursor="m1"))
    save_brand_watch(inbox, ["crumbandco"], ["rubber"])
    assert inbox.cursor(helpers.account.id, WATCH_STREAM) == "w1"
    save_brand_watch(inbox, ["crumbandco", "Mill Lane"], ["rubber"])
    assert inbox.cursor(helpers.account.id, WATCH_STREAM) is None
    assert inbox.cursor(helpers.other_account.id, WATCH_STREAM) is None
    assert inbox.cursor(helpers.account.id, "mentions") == "m1"


def test_muting_keeps_the_note_and_vip_flag(inbox, records):
    inbox.apply_batch(records.batch(records.post("1", "t1", author="bob")))
    set_author_note(inbox, "mastodon:bob", "regular")
    set_author_vip(inbox, "mastodon:bob", True)
    changes = set_author_muted(inbox, "mastodon:bob", True)
    assert changes.thread_ids == {"mastodon:t1"}
    assert author_muted(inbox, "mastodon:bob") and author_muted(inbox.db, "mastodon:bob")
    profile = author_profile(inbox.db, "mastodon:bob")
    assert (profile.note, profile.vip) == ("regular", True)
    assert muted_authors(inbox) == [MutedAuthor("mastodon:bob", "mastodon", "bob@example.social", "Bob")]
    set_author_muted(inbox, "mastodon:bob", False)
    assert not author_muted(inbox, "mastodon:bob") and muted_authors(inbox) == []
    assert not author_muted(inbox, "mastodon:nobody")


def test_muting_someone_unknown_is_refused(inbox):
    with pytest.raises(UnknownAuthor):
        set_author_muted(inbox, "mastodon:nobody", True)
    assert inbox.db.execute("SELECT count(*) FROM author_notes").fetchone()[0] == 0


def test_removing_an_account_takes_its_watch_threads_but_keeps_the_watch(inbox, records, helpers):
    save_brand_watch(inbox, ["crumbandco"], [])
    inbox.apply_batch(watch_batch(records, records.post("1", "t1"), cursor="w1"))
    inbox.remove_account(helpers.account.id, keep_history=False)
    assert view_counts(inbox.db)[ViewKind.UNMENTIONED] == 0
    assert brand_watch(inbox).terms == ("crumbandco",)
