"""People: one author's profile and history across the business's accounts, resharers, notes and the VIP flag.

Built on a real inbox file: Alice complains on two of the business's Mastodon accounts; Bob (a big account) and
Carol reshare her; Bob also posts once himself.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from console.domain import Reshare, ThreadStatus, influence_breakdown
from console.store import Inbox
from console.store.people import (
    UnknownAuthor,
    author_profile,
    author_threads,
    people_resharing,
    set_author_note,
    set_author_vip,
)

ALICE, BOB, CAROL = "mastodon:alice", "mastodon:bob", "mastodon:carol"
T1, T2, T3, T4 = "mastodon:t1", "mastodon:t2", "mastodon:t3", "mastodon:t4"


@pytest.fixture
def people(inbox: Inbox, records, helpers, clock) -> Inbox:
    """Alice: t1 (first account, open, two posts), t2 (second account, answered then snoozed), t3 (done).
    Bob and Carol reshare Alice's first post; Bob posts in t4 and also reshares there."""
    alice = records.author("alice", followers_count=300, following_count=100, posts_count=50)
    bob = records.author("bob", followers_count=50_000, following_count=10, posts_count=9_000,
                         url="https://example.social/@bob")
    carol = records.author("carol", followers_count=1_000, following_count=900)
    inbox.apply_batch(records.batch(
        records.post("a1", "t1", minute=0, author="alice", text="Where is my cake?", like_count=4, reshare_count=2),
        records.post("a2", "t1", minute=5, author="alice", text="Still waiting.\nHello?"),
        records.post("a3", "t3", minute=20, author="alice", text="Thanks, all good", quote_count=1),
        records.post("b1", "t4", minute=30, author="bob", text="Lovely bread"),
        authors=(alice, bob),
    ))
    other = helpers.other_account
    inbox.apply_batch(records.batch(
        records.post("a4", "t2", minute=10, author="alice", text="Wrong order", account=other),
        records.post("r1", "t2", minute=12, direction="out", text="Sorry, fixing it", account=other),
        authors=(alice, records.author("biz-author")), account=other,
    ))
    reshares = (
        Reshare("mastodon:a1", BOB, helpers.at(3)),
        Reshare("mastodon:a1", CAROL, helpers.at(4)),
        Reshare("mastodon:a1", ALICE, helpers.at(4)),  # resharing yourself adds no audience
        Reshare("mastodon:b1", BOB, helpers.at(31)),
    )
    inbox.apply_batch(replace(records.batch(authors=(bob, carol)), reshares=reshares))
    inbox.set_thread_status(T3, ThreadStatus.DONE)
    inbox.set_thread_status(T2, ThreadStatus.SNOOZED, clock() + timedelta(hours=2))
    return inbox


def test_profile_figures(people: Inbox, helpers) -> None:
    profile = author_profile(people.db, ALICE)

    assert profile is not None
    assert (profile.id, profile.network, profile.handle, profile.display_name) == (
        ALICE, "mastodon", "alice@example.social", "Alice")
    assert (profile.followers, profile.following, profile.posts) == (300, 100, 50)
    assert profile.engagement == 4 + 2 + 1  # likes, reshares and quotes on her posts about the business
    assert profile.amplification == 50_000 + 1_000  # Bob's and Carol's audiences; her own reshare adds nothing
    expected = influence_breakdown(300, 100, 50, 7, 51_000)
    assert profile.influence == expected.score
    assert profile.influence_breakdown() == expected
    assert "audiences of those who reshared them" in profile.influence_breakdown().explain()
    assert (profile.first_seen, profile.last_seen, profile.post_count) == (helpers.at(0), helpers.at(20), 4)
    assert profile.resharer_count == 2
    assert (profile.note, profile.vip, profile.note_updated_at) == ("", False, None)

    assert author_profile(people.db, "mastodon:bob").url == "https://example.social/@bob"
    assert author_profile(people.db, "mastodon:nobody") is None


def test_history_spans_both_accounts_and_every_status(people: Inbox, helpers) -> None:
    threads = author_threads(people.db, ALICE)

    assert [t.thread_id for t in threads] == [T3, T2, T1]  # newest activity first (t2's reply was at minute 12)
    by_id = {t.thread_id: t for t in threads}
    assert {t.account_id for t in threads} == {helpers.account.id, helpers.other_account.id}
    assert by_id[T2].account_handle == "shop@example.social"
    assert by_id[T1].account_handle == "biz@example.social"
    assert [by_id[t].status for t in (T1, T2, T3)] == ["open", "snoozed", "done"]
    assert by_id[T1].text == "Still waiting.\nHello?"  # her latest words there, not the first
    assert by_id[T2].text == "Wrong order"  # the business's reply is not hers
    assert by_id[T1].reshare_total == 2 and by_id[T3].reshare_total == 1
    assert all(t.posted and not t.reshared and t.participation == "posted" for t in (by_id[T2], by_id[T3]))
    # She reshared her own post in t1: both kinds of taking part are reported.
    assert by_id[T1].participation == "posted, reshared"
    assert by_id[T1].their_last_at == helpers.at(5)
    assert by_id[T1].heat == 0

    assert [t.thread_id for t in author_threads(people.db, ALICE, limit=2)] == [T3, T2]


def test_resharing_alone_counts_as_taking_part(people: Inbox, helpers) -> None:
    carol = author_threads(people.db, CAROL)
    assert len(carol) == 1
    only = carol[0]
    assert (only.thread_id, only.posted, only.reshared, only.participation) == (T1, False, True, "reshared")
    assert only.text == "" and only.reshared_text == "Where is my cake?"
    assert only.their_last_at == helpers.at(4)

    bob = {t.thread_id: t.participation for t in author_threads(people.db, BOB)}
    assert bob == {T4: "posted, reshared", T1: "reshared"}


def test_people_resharing_a_thread_biggest_audience_first(people: Inbox, helpers) -> None:
    resharers = people_resharing(people.db, T1)

    assert [(r.author_id, r.followers) for r in resharers] == [(BOB, 50_000), (CAROL, 1_000), (ALICE, 300)]
    assert resharers[0].handle == "bob@example.social" and resharers[0].first_reshared_at == helpers.at(3)
    assert resharers[0].posts_reshared == 1 and not resharers[0].vip
    assert people_resharing(people.db, T2) == []


def test_notes_and_vip_are_upserted_and_survive_reopening(people: Inbox, inbox_path: Path, clock) -> None:
    assert set_author_note(people, ALICE, "Prefers DMs.").thread_ids == {T1, T2, T3}
    clock.advance(minutes=5)
    vip = set_author_vip(people, ALICE, True)
    set_author_note(people, ALICE, "Prefers DMs. Birthday cake every March.")

    assert vip.thread_ids == {T1, T2, T3}
    assert people.db.execute("SELECT count(*) FROM author_notes").fetchone()[0] == 1
    people.close()

    reopened = Inbox.open(inbox_path)
    try:
        profile = author_profile(reopened.db, ALICE)
        assert profile.note == "Prefers DMs. Birthday cake every March."
        assert profile.vip is True  # the later note did not reset the flag
        set_author_vip(reopened, ALICE, False)
        assert author_profile(reopened.db, ALICE).note.startswith("Prefers DMs.")  # nor the flag the note
        assert author_profile(reopened.db, ALICE).vip is False
    finally:
        reopened.close()
    conn = sqlite3.connect(inbox_path)
    try:
        assert conn.execute("SELECT vip FROM author_notes WHERE author_id = ?", (ALICE,)).fetchone() == (0,)
    finally:
        conn.close()


def test_vip_moves_their_waiting_threads_up_and_lists_reshared_threads(people: Inbox) -> None:
    before = people.db.execute("SELECT priority_key FROM threads WHERE id = ?", (T1,)).fetchone()[0]

    changes = set_author_vip(people, ALICE, True)

    after = people.db.execute("SELECT priority_key FROM threads WHERE id = ?", (T1,)).fetchone()[0]
    assert T1 in changes.thread_ids and after < before  # earlier key = more urgent
    assert set_author_vip(people, CAROL, True).thread_ids == {T1}  # she only reshared there
    assert people_resharing(people.db, T1)[1].vip is True


def test_notes_for_someone_unknown_are_refused(people: Inbox) -> None:
    with pytest.raises(UnknownAuthor):
        set_author_note(people, "mastodon:nobody", "hello")
    with pytest.raises(UnknownAuthor):
        set_author_vip(people, "mastodon:nobody", True)
    assert people.db.execute("SELECT count(*) FROM author_notes").fetchone()[0] == 0
