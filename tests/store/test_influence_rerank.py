"""A page that moves a customer's influence re-ranks every thread waiting on them, not only the ones it is about.

A thread's priority uses the influence of the author of its latest customer post. A page about thread A can move
that influence three ways: a newer profile (followers), reactions to their posts (engagement), or someone with an
audience resharing them (amplification). Their thread B, waiting for a reply too, must then rank as a fresh
``refresh_priority`` ranks it, and be reported so the views refresh it. A page that leaves the influence where it
was re-ranks nothing more than the threads it touched.
"""

from __future__ import annotations

import pytest

from console.domain import Author, Batch, Direction, Reshare
from console.store import Inbox
from console.store.ingest import _INFLUENCE_OF, _REFRESH_INFLUENCE_MOVED, _WAITING_ON_MOVED
from console.store.thread_rows import refresh_priority

A, B, C, D, E = (f"mastodon:t{name}" for name in "ABCDE")
ALICE = "mastodon:alice"


def _priority(inbox: Inbox, thread_id: str) -> float | None:
    return inbox.db.execute("SELECT priority_key FROM threads WHERE id = ?", (thread_id,)).fetchone()[0]


def _influence(inbox: Inbox, author_id: str) -> int:
    return inbox.db.execute("SELECT influence FROM authors WHERE id = ?", (author_id,)).fetchone()[0]


def _fresh_priority(inbox: Inbox, thread_id: str) -> float | None:
    """The priority ``refresh_priority`` gives the thread now (computed, read, then rolled back)."""
    conn = inbox.db.conn
    conn.execute("BEGIN")
    try:
        refresh_priority(conn, [thread_id])
        return _priority(inbox, thread_id)
    finally:
        conn.execute("ROLLBACK")


@pytest.fixture
def waiting(inbox, records):
    """Alice waits in A and B; she wrote in C too, but we answered; in D, Bob spoke after her.
    E is Bob's own thread, for pages that say nothing about Alice."""
    inbox.apply_batch(records.batch(
        records.post("a1", "tA", minute=0),
        records.post("b1", "tB", minute=1),
        records.post("c1", "tC", minute=2),
        records.post("c2", "tC", minute=3, direction=Direction.OUT),
        records.post("d1", "tD", minute=4),
        records.post("d2", "tD", minute=5, author="bob"),
        records.post("e1", "tE", minute=6, author="bob"),
    ))
    return {thread: _priority(inbox, thread) for thread in (A, B, C, D, E)}


def _assert_b_reranked(inbox: Inbox, before: dict[str, float | None], changes_ids: frozenset[str]) -> None:
    assert _priority(inbox, B) == _fresh_priority(inbox, B)
    assert _priority(inbox, B) != before[B]
    assert _priority(inbox, B) < before[B]  # more influence: a head start
    assert B in changes_ids
    # Alice is not who C or D wait on (C waits on nobody, D on Bob): neither is re-ranked or reported.
    assert C not in changes_ids and D not in changes_ids
    assert _priority(inbox, C) is None
    assert _priority(inbox, D) == before[D]


def test_a_newer_profile_in_a_page_about_a_re_ranks_b(inbox, records, helpers, waiting):
    influence = _influence(inbox, ALICE)
    profile = records.author("alice", followers_count=50_000, following_count=100, observed_at=helpers.at(10))

    changes = inbox.apply_batch(records.batch(records.post("a2", "tA", minute=10), authors=(profile,)))

    assert _influence(inbox, ALICE) > influence
    assert changes.thread_ids == {A, B}
    _assert_b_reranked(inbox, waiting, changes.thread_ids)


@pytest.mark.parametrize("page", ["re-observed post", "new post"])
def test_reactions_in_a_page_about_a_re_rank_b(inbox, records, waiting, page):
    influence = _influence(inbox, ALICE)
    if page == "re-observed post":
        post = records.post("a1", "tA", minute=0, observed_minute=10, like_count=500, reshare_count=40)
    else:
        post = records.post("a2", "tA", minute=10, like_count=500, reshare_count=40)

    changes = inbox.apply_batch(records.batch(post))

    assert _influence(inbox, ALICE) > influence
    assert changes.thread_ids == {A, B}
    _assert_b_reranked(inbox, waiting, changes.thread_ids)


@pytest.mark.parametrize("with_posts", [True, False], ids=["page with posts", "page of profiles"])
def test_a_reshare_of_a_post_in_a_re_ranks_b(inbox, records, helpers, waiting, with_posts):
    """Carol's audience amplifies Alice; the page itself says nothing else about Alice (its post is Bob's)."""
    influence = _influence(inbox, ALICE)
    carol = records.author("carol", followers_count=800_000)
    posts = (records.post("e2", "tE", minute=10, author="bob"),) if with_posts else ()
    authors = (carol, records.author("bob")) if with_posts else (carol,)
    batch = Batch(helpers.account.id, "mentions", posts, authors,
                  reshares=(Reshare("mastodon:a1", carol.id, helpers.at(10)),))

    changes = inbox.apply_batch(batch)

    assert _influence(inbox, ALICE) > influence
    assert changes.thread_ids == ({A, B, E} if with_posts else {A, B})
    _assert_b_reranked(inbox, waiting, changes.thread_ids)


@pytest.mark.parametrize("page", ["same profile", "no reactions", "reshare by nobody's audience"])
def test_a_page_that_leaves_influence_where_it_was_re_ranks_nothing_more(inbox, records, helpers, waiting, page):
    influence = _influence(inbox, ALICE)
    reshares: tuple[Reshare, ...] = ()
    authors: tuple[Author, ...] | None = None
    if page == "reshare by nobody's audience":
        reshares = (Reshare("mastodon:a1", "mastodon:dan", helpers.at(10)),)
        authors = (records.author("alice"), records.author("dan", followers_count=0))
    elif page == "same profile":
        authors = (records.author("alice", observed_at=helpers.at(10)),)
    batch = records.batch(records.post("a2", "tA", minute=10), authors=authors)
    batch = Batch(batch.account_id, batch.stream, batch.posts, batch.authors, reshares=reshares)

    changes = inbox.apply_batch(batch)

    assert _influence(inbox, ALICE) == influence
    assert changes.thread_ids == {A}
    assert _priority(inbox, B) == waiting[B] == _fresh_priority(inbox, B)


def test_a_thread_already_in_the_page_is_ranked_once_with_the_new_influence(inbox, records, helpers, waiting):
    """B is in the page too: it is reported once and ranked with the influence the page leaves."""
    profile = records.author("alice", followers_count=50_000, observed_at=helpers.at(10))

    changes = inbox.apply_batch(records.batch(
        records.post("a2", "tA", minute=10), records.post("b2", "tB", minute=11), authors=(profile,)))

    assert changes.thread_ids == {A, B}
    assert _priority(inbox, A) == _fresh_priority(inbox, A)
    assert _priority(inbox, B) == _fresh_priority(inbox, B)


@pytest.mark.parametrize(
    ("sql", "argument"),
    [(_INFLUENCE_OF, '["mastodon:alice"]'), (_REFRESH_INFLUENCE_MOVED, '["mastodon:alice"]'),
     (_WAITING_ON_MOVED, '{"mastodon:alice": 3}')],
)
def test_what_ingest_adds_reads_through_indexes(inbox, sql, argument):
    """Ingest speed depends on these: seeks by author, then by that author's customer posts, then by thread."""
    plan = " | ".join(row[3] for row in inbox.db.execute(f"EXPLAIN QUERY PLAN {sql}", (argument,)))
    assert "SCAN authors" not in plan and "SCAN a " not in plan + " "
    assert "SCAN posts" not in plan and "SCAN p " not in plan + " "
    assert "SCAN threads" not in plan and "SCAN t " not in plan + " "
    if sql is _WAITING_ON_MOVED:
        assert "posts_by_author (author_id=? AND direction=?)" in plan
        assert plan.index("SEARCH a ") < plan.index("SEARCH p ") < plan.index("SEARCH t ")


def test_removing_an_account_re_ranks_its_customers_threads_with_the_other_accounts(inbox, records, helpers):
    """Alice's reactions were on posts with the removed account; her thread with the other account waits on her."""
    other = helpers.other_account
    inbox.ensure_account(other)
    inbox.apply_batch(records.batch(records.post("x1", "tX", minute=0, like_count=500, reshare_count=40)))
    inbox.apply_batch(records.batch(records.post("y1", "tY", minute=1, account=other), account=other))
    kept = "mastodon:tY"
    influence, before = _influence(inbox, ALICE), _priority(inbox, kept)

    inbox.remove_account(helpers.account.id, keep_history=False)

    assert _influence(inbox, ALICE) < influence
    assert _priority(inbox, kept) != before
    assert _priority(inbox, kept) == _fresh_priority(inbox, kept)
