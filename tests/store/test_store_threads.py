"""Thread state derived from posts: who spoke last, since when a customer waits, done/snoozed and reopening."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console.domain import Direction, ThreadStatus, iso_utc
from console.store.queries import get_thread, thread_posts

T1 = "mastodon:t1"


def _thread(inbox, thread_id: str = T1):
    row = get_thread(inbox.db, thread_id)
    assert row is not None
    return row


def _apply(inbox, records, *posts):
    return inbox.apply_batch(records.batch(*posts))


def test_a_customer_post_needs_a_reply(inbox, records, helpers):
    _apply(inbox, records, records.post("1", minute=0, text="where is my order?", reshare_count=2, quote_count=1))
    row = _thread(inbox)
    assert row.needs_reply is True
    assert row.status == "open"
    assert row.waiting_since == helpers.at(0)
    assert row.last_activity_at == helpers.at(0)
    assert row.post_count == 1
    assert row.reshare_total == 3
    assert row.latest_text == "where is my order?"
    assert row.author_handle == "alice@example.social"
    assert row.account_id == helpers.account.id
    assert row.network == "mastodon"


def test_a_later_business_reply_answers_it(inbox, records, helpers):
    _apply(inbox, records, records.post("1", minute=0))
    _apply(inbox, records, records.post("2", minute=5, direction=Direction.OUT, text="on its way"))
    row = _thread(inbox)
    assert row.needs_reply is False
    assert row.waiting_since is None
    assert row.last_activity_at == helpers.at(5)
    assert row.post_count == 2
    # The list shows what the customer said last, not our own reply.
    assert row.latest_text == "post 1"


def test_a_business_reply_older_than_the_question_does_not_answer_it(inbox, records, helpers):
    _apply(
        inbox, records,
        records.post("1", minute=0, direction=Direction.OUT),
        records.post("2", minute=5),
    )
    row = _thread(inbox)
    assert row.needs_reply is True
    assert row.waiting_since == helpers.at(5)


def test_waiting_since_is_the_first_unanswered_customer_post(inbox, records, helpers):
    _apply(
        inbox, records,
        records.post("1", minute=0),
        records.post("2", minute=2, direction=Direction.OUT),
        records.post("3", minute=4, author="bob"),
        records.post("4", minute=6),
        records.post("5", minute=8, author="carol", reshare_count=4, quote_count=1),
    )
    row = _thread(inbox)
    assert row.needs_reply is True
    assert row.waiting_since == helpers.at(4)
    assert row.last_activity_at == helpers.at(8)
    assert row.post_count == 5
    assert row.reshare_total == 5
    assert row.author_handle == "carol@example.social"


def test_posts_in_one_batch_arrive_in_any_order(inbox, records, helpers):
    _apply(
        inbox, records,
        records.post("3", minute=9, direction=Direction.OUT),
        records.post("1", minute=0),
        records.post("2", minute=4),
    )
    row = _thread(inbox)
    assert row.needs_reply is False
    assert row.last_activity_at == helpers.at(9)
    assert [p.id for p in thread_posts(inbox.db, T1)] == ["mastodon:1", "mastodon:2", "mastodon:3"]


def test_reshare_total_follows_count_updates(inbox, records):
    _apply(inbox, records, records.post("1", reshare_count=1), records.post("2", minute=1, quote_count=2))
    assert _thread(inbox).reshare_total == 3
    _apply(inbox, records, records.post("1", observed_minute=30, reshare_count=10, like_count=100))
    assert _thread(inbox).reshare_total == 12


def test_done_thread_reopens_on_a_newer_customer_post(inbox, records, clock, helpers):
    _apply(inbox, records, records.post("1", minute=0))
    clock.advance(hours=1)
    inbox.set_thread_status(T1, ThreadStatus.DONE)
    assert _thread(inbox).status == "done"
    done_at = inbox.db.execute("SELECT status_changed_at FROM threads").fetchone()[0]
    assert done_at == iso_utc(clock())

    clock.advance(hours=1)
    _apply(inbox, records, records.post("2", minute=90, text="hello? anyone?"))
    row = _thread(inbox)
    assert row.status == "open"
    assert row.needs_reply is True
    assert inbox.db.execute("SELECT status_changed_at FROM threads").fetchone()[0] == iso_utc(clock())


def test_an_older_late_post_does_not_reopen_a_done_thread(inbox, records):
    _apply(inbox, records, records.post("1", minute=10))
    inbox.set_thread_status(T1, ThreadStatus.DONE)
    _apply(inbox, records, records.post("0", minute=5, author="bob"))
    row = _thread(inbox)
    assert row.status == "done"
    assert row.post_count == 2


def test_a_replayed_post_does_not_reopen_a_done_thread(inbox, records):
    post = records.post("1", minute=10)
    _apply(inbox, records, post)
    inbox.set_thread_status(T1, ThreadStatus.DONE)
    _apply(inbox, records, post)
    _apply(inbox, records, records.post("1", minute=10, observed_minute=60, reshare_count=30))
    assert _thread(inbox).status == "done"
    assert _thread(inbox).reshare_total == 30


def test_our_own_reply_does_not_reopen_a_done_thread(inbox, records):
    _apply(inbox, records, records.post("1", minute=0))
    inbox.set_thread_status(T1, ThreadStatus.DONE)
    _apply(inbox, records, records.post("2", minute=20, direction=Direction.OUT))
    assert _thread(inbox).status == "done"


def test_snoozed_thread_reopens_on_new_customer_activity(inbox, records, clock):
    _apply(inbox, records, records.post("1", minute=0))
    inbox.set_thread_status(T1, ThreadStatus.SNOOZED, clock() + timedelta(days=2))
    assert _thread(inbox).status == "snoozed"
    assert _thread(inbox).snooze_until == iso_utc(clock() + timedelta(days=2))

    _apply(inbox, records, records.post("2", minute=30))
    row = _thread(inbox)
    assert row.status == "open"
    assert row.snooze_until is None


def test_snoozed_thread_stays_snoozed_on_older_or_outgoing_posts(inbox, records, clock):
    _apply(inbox, records, records.post("1", minute=10))
    inbox.set_thread_status(T1, ThreadStatus.SNOOZED, clock() + timedelta(hours=3))
    _apply(inbox, records, records.post("0", minute=1), records.post("2", minute=40, direction=Direction.OUT))
    row = _thread(inbox)
    assert row.status == "snoozed"
    assert row.snooze_until is not None


def test_snoozing_needs_a_time(inbox, records):
    _apply(inbox, records, records.post("1"))
    with pytest.raises(ValueError):
        inbox.set_thread_status(T1, ThreadStatus.SNOOZED)
    assert _thread(inbox).status == "open"


def test_reopening_by_hand_clears_the_snooze(inbox, records, clock):
    _apply(inbox, records, records.post("1"))
    inbox.set_thread_status(T1, ThreadStatus.SNOOZED, clock() + timedelta(hours=1))
    inbox.set_thread_status(T1, ThreadStatus.OPEN)
    row = _thread(inbox)
    assert (row.status, row.snooze_until) == ("open", None)


def test_wake_snoozed_uses_the_injected_clock(inbox, records, clock):
    _apply(
        inbox, records,
        records.post("1", "t1"), records.post("2", "t2"), records.post("3", "t3"),
    )
    start = clock()
    inbox.set_thread_status("mastodon:t1", ThreadStatus.SNOOZED, start + timedelta(hours=1))
    inbox.set_thread_status("mastodon:t2", ThreadStatus.SNOOZED, start + timedelta(hours=3))
    inbox.set_thread_status("mastodon:t3", ThreadStatus.DONE)

    clock.advance(minutes=59)
    assert inbox.wake_snoozed().thread_ids == frozenset()

    clock.advance(minutes=1)  # exactly the snooze time
    assert inbox.wake_snoozed().thread_ids == {"mastodon:t1"}
    assert _thread(inbox, "mastodon:t1").status == "open"
    assert _thread(inbox, "mastodon:t1").snooze_until is None
    assert _thread(inbox, "mastodon:t2").status == "snoozed"

    clock.advance(days=1)
    assert inbox.wake_snoozed().thread_ids == {"mastodon:t2"}
    assert _thread(inbox, "mastodon:t3").status == "done"
    assert inbox.wake_snoozed().thread_ids == frozenset()


def test_threads_of_different_accounts_stay_apart(inbox, records, helpers):
    _apply(inbox, records, records.post("1", "t1"))
    inbox.apply_batch(
        records.batch(records.post("2", "t9", account=helpers.other_account), account=helpers.other_account)
    )
    assert _thread(inbox, "mastodon:t1").account_id == helpers.account.id
    assert _thread(inbox, "mastodon:t9").account_id == helpers.other_account.id


def test_unknown_thread_is_none(inbox):
    assert get_thread(inbox.db, "mastodon:nope") is None
    assert thread_posts(inbox.db, "mastodon:nope") == []


def test_thread_posts_carry_author_figures(inbox, records):
    alice = records.author("alice", followers_count=1200, following_count=30, posts_count=400)
    inbox.apply_batch(records.batch(records.post("1", like_count=3), authors=(alice,)))
    (post,) = thread_posts(inbox.db, T1)
    assert (post.author_followers, post.author_following, post.author_posts, post.author_engagement) == (
        1200, 30, 400, 3
    )
    assert post.author_influence > 0
    assert post.direction == "in"
