"""The outbox, drafts, thread events and account settings against a real inbox file, with a hand-moved clock."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest

from console.domain import Direction, Visibility, iso_utc
from console.store import Inbox, queries, schema
from console.store import outbox as store
from console.store import reply_settings
from console.store.outbox import EventKind, NewReply, OutboxError, OutboxState
from console.store.reply_settings import AccountSettings

UNDO = timedelta(seconds=20)


@pytest.fixture
def complaint(inbox, records):
    """One customer complaint, waiting for a reply."""
    inbox.apply_batch(records.batch(records.post("1", minute=-5, text="the bread was stale")))
    return "mastodon:1"


def enqueue(inbox, clock, text="So sorry, we will make it right.", post_id="mastodon:1", **kwargs):
    item, changes = store.enqueue(inbox, NewReply(post_id, text, **kwargs), now=clock(), send_after=clock() + UNDO)
    return item, changes


def thread(inbox, thread_id="mastodon:t1"):
    return queries.get_thread(inbox.db, thread_id)


def posts(inbox, thread_id="mastodon:t1"):
    return [(p.id, p.direction, p.text) for p in queries.thread_posts(inbox.db, thread_id)]


def test_enqueue_shows_a_pending_reply_and_the_thread_leaves_needs_reply(inbox, clock, complaint, helpers):
    assert thread(inbox).needs_reply
    item, changes = enqueue(inbox, clock)

    assert item.state is OutboxState.WAITING and item.attempts == 0
    assert (item.account_id, item.thread_id, item.in_reply_to_id) == (helpers.account.id, "mastodon:t1", complaint)
    assert item.send_after == helpers.at(20 / 60) and item.idempotency_key.startswith("tend-")
    assert changes.thread_ids == {"mastodon:t1"}
    assert posts(inbox)[-1] == (f"pending:{item.id}", "out", "So sorry, we will make it right.")
    pending = queries.thread_posts(inbox.db, "mastodon:t1")[-1]
    assert pending.parent_id == complaint and pending.created_at == helpers.at(0)
    # No reply of the business was stored yet: the pending post is by a stand-in for the account.
    assert pending.author_id == f"mastodon:self:{helpers.account.id}" and pending.author_handle == helpers.account.handle
    row = thread(inbox)
    assert not row.needs_reply and row.waiting_since is None
    assert store.first_response_at(inbox, "mastodon:t1") == helpers.at(0)
    assert [t.id for t in queries.list_threads(inbox.db, queries.View(), 10)] == []


def test_the_pending_reply_is_by_the_business_author_already_known(inbox, clock, records, helpers):
    inbox.apply_batch(records.batch(
        records.post("1", thread="t9", minute=-9),
        records.post("2", thread="t9", minute=-8, direction=Direction.OUT, parent_id="mastodon:1"),
        records.post("3", minute=-5),
    ))
    item, _ = enqueue(inbox, clock, post_id="mastodon:3")
    pending = queries.thread_posts(inbox.db, "mastodon:t1")[-1]
    assert pending.id == item.pending_post_id and pending.author_id == helpers.business_author


def test_undo_takes_the_reply_back_and_the_thread_needs_a_reply_again(inbox, clock, complaint):
    store.save_draft(inbox, "mastodon:t1", "mastodon:biz", "So sorry", Visibility.PUBLIC, now=clock())
    item, _ = enqueue(inbox, clock)
    assert store.load_draft(inbox, "mastodon:t1") is None  # sending clears the draft
    clock.advance(seconds=10)

    undone, changes = store.undo(inbox, item.id, now=clock())

    assert undone.state is OutboxState.CANCELLED and changes.thread_ids == {"mastodon:t1"}
    assert posts(inbox) == [("mastodon:1", "in", "the bread was stale")]
    assert thread(inbox).needs_reply
    assert store.first_response_at(inbox, "mastodon:t1") is None
    assert store.load_draft(inbox, "mastodon:t1").text == "So sorry, we will make it right."
    assert [e.kind for e in store.thread_events(inbox, "mastodon:t1")] == [EventKind.UNDONE]
    assert inbox.db.execute("SELECT count(*) FROM count_samples WHERE post_id LIKE 'pending:%'").fetchone()[0] == 0
    assert inbox.db.execute("SELECT count(*) FROM posts_fts WHERE posts_fts MATCH 'sorry'").fetchone()[0] == 0
    with pytest.raises(OutboxError):
        store.undo(inbox, item.id, now=clock())


def test_undo_keeps_a_draft_the_owner_started_since(inbox, clock, complaint):
    item, _ = enqueue(inbox, clock)
    store.save_draft(inbox, "mastodon:t1", "mastodon:biz", "a new idea", Visibility.DIRECT, now=clock())
    store.undo(inbox, item.id, now=clock())
    assert store.load_draft(inbox, "mastodon:t1").text == "a new idea"


def test_claim_due_takes_only_due_waiting_items_once(inbox, clock, complaint, records):
    first, _ = enqueue(inbox, clock)
    clock.advance(seconds=5)
    inbox.apply_batch(records.batch(records.post("5", thread="t2", minute=-1)))
    second, _ = enqueue(inbox, clock, post_id="mastodon:5")

    assert store.claim_due(inbox, now=clock()) == []
    clock.advance(seconds=16)
    claimed = store.claim_due(inbox, now=clock())
    assert [(i.id, i.state, i.attempts) for i in claimed] == [(first.id, OutboxState.SENDING, 1)]
    assert store.claim_due(inbox, now=clock()) == []
    clock.advance(seconds=5)
    assert [i.id for i in store.claim_due(inbox, now=clock())] == [second.id]


def test_mark_sent_replaces_the_pending_post_with_the_network_post(inbox, clock, complaint, records, helpers):
    item, _ = enqueue(inbox, clock)
    clock.advance(seconds=21)
    (claimed,) = store.claim_due(inbox, now=clock())
    real = records.post("900", minute=0.4, direction=Direction.OUT, parent_id=complaint, text=item.text,
                        author="biz-remote")

    sent, changes = store.mark_sent(inbox, claimed.id, real, now=clock())

    assert sent.state is OutboxState.SENT and sent.sent_post_id == "mastodon:900"
    assert changes.thread_ids == {"mastodon:t1"}
    assert posts(inbox) == [("mastodon:1", "in", "the bread was stale"), ("mastodon:900", "out", item.text)]
    # An author the inbox had not seen (the business's own profile) is added, to be filled in by a later sync.
    assert inbox.db.execute("SELECT handle FROM authors WHERE id = 'mastodon:biz-remote'").fetchone() == (
        helpers.account.handle,)
    assert not thread(inbox).needs_reply
    assert store.first_response_at(inbox, "mastodon:t1") == helpers.at(0)  # when the owner pressed Send
    assert [(e.kind, e.detail) for e in store.thread_events(inbox, "mastodon:t1")] == [
        (EventKind.SENT, {"outbox_id": item.id, "post_id": "mastodon:900"})]
    assert store.items_for_thread(inbox, "mastodon:t1") == []
    assert store.items_for_thread(inbox, "mastodon:t1", include_done=True) == [sent]


def test_mark_failed_keeps_the_reply_and_retry_uses_the_same_key(inbox, clock, complaint):
    item, _ = enqueue(inbox, clock)
    clock.advance(seconds=21)
    store.claim_due(inbox, now=clock())

    failed, _ = store.mark_failed(inbox, item.id, "The network is down.", now=clock())

    assert failed.state is OutboxState.FAILED and failed.last_error == "The network is down."
    assert posts(inbox)[-1] == (item.pending_post_id, "out", item.text)  # still shown, marked by its state
    assert store.items_in_states(inbox, OutboxState.FAILED) == [failed]
    (event,) = store.thread_events(inbox, "mastodon:t1")
    assert event.kind is EventKind.SEND_FAILED and event.detail["reason"] == "The network is down."

    clock.advance(minutes=3)
    retried, _ = store.retry(inbox, item.id, now=clock())
    assert retried.state is OutboxState.WAITING and retried.idempotency_key == item.idempotency_key
    (again,) = store.claim_due(inbox, now=clock())
    assert again.attempts == 2 and again.idempotency_key == item.idempotency_key


def test_a_failed_reply_can_be_undone(inbox, clock, complaint):
    item, _ = enqueue(inbox, clock)
    clock.advance(seconds=21)
    store.claim_due(inbox, now=clock())
    store.mark_failed(inbox, item.id, "no", now=clock())
    store.undo(inbox, item.id, now=clock())
    assert thread(inbox).needs_reply and len(posts(inbox)) == 1


def test_actions_that_do_not_fit_the_state_are_refused(inbox, clock, complaint):
    item, _ = enqueue(inbox, clock)
    with pytest.raises(OutboxError):
        store.retry(inbox, item.id, now=clock())
    with pytest.raises(OutboxError):
        store.mark_sent(inbox, item.id, store.load_post(inbox, complaint), now=clock())
    clock.advance(seconds=21)
    store.claim_due(inbox, now=clock())
    with pytest.raises(OutboxError):
        store.undo(inbox, item.id, now=clock())  # already handed to the network
    with pytest.raises(OutboxError):
        enqueue(inbox, clock, text="   ")
    with pytest.raises(OutboxError):
        enqueue(inbox, clock, post_id="mastodon:nope")


def test_recover_holds_replies_in_their_undo_window_and_resumes_interrupted_sends(inbox, clock, complaint, records):
    inbox.apply_batch(records.batch(records.post("5", thread="t2", minute=-1)))
    sending, _ = enqueue(inbox, clock)
    clock.advance(seconds=21)
    store.claim_due(inbox, now=clock())
    waiting, _ = enqueue(inbox, clock, post_id="mastodon:5")
    clock.advance(hours=2)

    held, changes = store.recover(inbox, now=clock())

    assert [(i.id, i.state) for i in held] == [(waiting.id, OutboxState.HELD)]
    assert changes.thread_ids == {"mastodon:t1", "mastodon:t2"}
    resumed = store.get_item(inbox, sending.id)
    assert resumed.state is OutboxState.WAITING and resumed.send_after == iso_utc(clock())
    assert [i.id for i in store.claim_due(inbox, now=clock())] == [sending.id]  # held ones are not sent
    released, _ = store.release(inbox, waiting.id, now=clock())
    assert released.state is OutboxState.WAITING
    assert [i.id for i in store.claim_due(inbox, now=clock())] == [waiting.id]


def test_load_post_rebuilds_the_record_a_connector_takes(inbox, records, complaint):
    stored = records.post("1", minute=-5, text="the bread was stale")
    assert store.load_post(inbox, complaint) == stored


def test_drafts_survive_reopening(inbox_path, inbox, clock):
    store.save_draft(inbox, "mastodon:t1", "mastodon:biz", "Hello Ana, ", Visibility.PUBLIC, now=clock())
    store.save_draft(inbox, "mastodon:t1", "mastodon:biz", "Hello Ana, so sorry", Visibility.DIRECT, now=clock())
    inbox.close()
    reopened = Inbox.open(inbox_path, clock)
    try:
        draft = store.load_draft(reopened, "mastodon:t1")
        assert (draft.text, draft.visibility) == ("Hello Ana, so sorry", Visibility.DIRECT)
        store.save_draft(reopened, "mastodon:t1", "mastodon:biz", "  ", Visibility.PUBLIC, now=clock())
        assert store.load_draft(reopened, "mastodon:t1") is None
    finally:
        reopened.close()


def test_a_draft_keeps_when_its_cooloff_hold_began(inbox_path, inbox, clock):
    store.save_draft(inbox, "mastodon:t1", "mastodon:biz", "calm", Visibility.PUBLIC, now=clock())
    assert store.load_draft(inbox, "mastodon:t1").held_since is None
    store.save_draft(inbox, "mastodon:t1", "mastodon:biz", "HOT!!", Visibility.PUBLIC, now=clock(), held_since=clock())
    inbox.close()
    reopened = Inbox.open(inbox_path, clock)
    try:
        assert store.load_draft(reopened, "mastodon:t1").held_since == iso_utc(clock())
    finally:
        reopened.close()


def test_migrating_a_v4_inbox_adds_drafts_held_since(inbox_path, helpers, monkeypatch):
    from console.store import database

    monkeypatch.setattr(database, "MIGRATIONS", schema.MIGRATIONS[:4])
    monkeypatch.setattr(database, "LATEST_VERSION", 4)
    old = database.open_database(inbox_path)
    old.execute("INSERT INTO accounts (id, network, handle, server_url, created_at) VALUES (?, 'mastodon', ?, '', ?)",
                (helpers.account.id, helpers.account.handle, helpers.at(0)))
    old.execute("INSERT INTO drafts (thread_id, account_id, text, visibility, updated_at) VALUES (?, ?, ?, ?, ?)",
                ("mastodon:t1", helpers.account.id, "kept", "public", helpers.at(0)))
    old.close()
    monkeypatch.undo()
    upgraded = Inbox.open(inbox_path)
    try:
        assert upgraded.db.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST_VERSION
        draft = store.load_draft(upgraded, "mastodon:t1")
        assert (draft.text, draft.held_since) == ("kept", None)
    finally:
        upgraded.close()


def test_account_settings_round_trip_with_defaults(inbox, helpers):
    assert reply_settings.account_settings(inbox, helpers.account.id) == AccountSettings(helpers.account.id)
    settings = AccountSettings(helpers.account.id, "Sam", 600, 120, 30, {"mon": [["09:00", "17:00"]]})
    reply_settings.save_account_settings(inbox, settings)
    assert reply_settings.account_settings(inbox, helpers.account.id) == settings
    reply_settings.save_account_settings(inbox, replace(settings, undo_s=None))
    assert reply_settings.account_settings(inbox, helpers.account.id).undo_s is None


def test_cooloff_overrides_are_recorded_on_the_thread(inbox, clock, complaint):
    store.record_event(inbox, "mastodon:t1", EventKind.COOLOFF_OVERRIDE, {"score": -0.8}, now=clock())
    (event,) = store.thread_events(inbox, "mastodon:t1")
    assert (event.kind, event.detail, event.at) == (EventKind.COOLOFF_OVERRIDE, {"score": -0.8}, iso_utc(clock()))
    with pytest.raises(ValueError):
        store.record_event(inbox, "mastodon:t1", "shouted", now=clock())


def test_a_reply_seen_on_the_network_records_the_first_response(inbox, records, helpers):
    inbox.apply_batch(records.batch(records.post("1", minute=0)))
    assert store.first_response_at(inbox, "mastodon:t1") is None
    inbox.apply_batch(records.batch(records.post("2", minute=7, direction=Direction.OUT)))
    inbox.apply_batch(records.batch(records.post("3", minute=9, direction=Direction.OUT)))
    assert store.first_response_at(inbox, "mastodon:t1") == helpers.at(7)


def test_removing_an_account_takes_its_outbox_drafts_and_events(inbox, clock, complaint, helpers):
    item, _ = enqueue(inbox, clock)
    store.save_draft(inbox, "mastodon:t1", helpers.account.id, "x", Visibility.PUBLIC, now=clock())
    store.record_event(inbox, "mastodon:t1", EventKind.COOLOFF_OVERRIDE, now=clock())
    reply_settings.save_account_settings(inbox, AccountSettings(helpers.account.id, "Sam"))
    inbox.remove_account(helpers.account.id, keep_history=False)
    for table in ("outbox", "drafts", "thread_events", "account_settings"):
        assert inbox.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    assert inbox.db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_migrating_a_v3_inbox_to_v4_keeps_its_data_and_fills_first_response(inbox_path, records, helpers,
                                                                             monkeypatch):
    from console.store import database

    monkeypatch.setattr(database, "MIGRATIONS", schema.MIGRATIONS[:3])
    monkeypatch.setattr(database, "LATEST_VERSION", 3)
    old = database.open_database(inbox_path)
    # Rows as a v3 Tend wrote them (today's Inbox writes v4 columns, so plain SQL here).
    old.execute("INSERT INTO accounts (id, network, handle, server_url, created_at) VALUES (?, 'mastodon', ?, '', ?)",
                (helpers.account.id, helpers.account.handle, helpers.at(0)))
    old.execute("INSERT INTO authors (id, network, handle) VALUES ('mastodon:alice', 'mastodon', 'alice')")
    for native, minute, direction in (("1", 0, "in"), ("2", 4, "out")):
        old.execute(
            """INSERT INTO posts (id, network, account_id, thread_id, author_id, created_at, observed_at, direction)
               VALUES (?, 'mastodon', ?, 'mastodon:t1', 'mastodon:alice', ?, ?, ?)""",
            (f"mastodon:{native}", helpers.account.id, helpers.at(minute), helpers.at(minute), direction))
    old.execute("""INSERT INTO threads (id, account_id, network, root_post_id, status_changed_at, last_activity_at)
                   VALUES ('mastodon:t1', ?, 'mastodon', 'mastodon:1', ?, ?)""",
                (helpers.account.id, helpers.at(0), helpers.at(4)))
    old.close()
    assert helpers.pragma(inbox_path, "user_version") == 3
    monkeypatch.undo()

    upgraded = Inbox.open(inbox_path)
    try:
        assert upgraded.db.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST_VERSION >= 4
        assert {"outbox", "drafts", "thread_events", "account_settings"} <= set(upgraded.db.table_names())
        assert store.first_response_at(upgraded, "mastodon:t1") == helpers.at(4)
        assert [p.id for p in queries.thread_posts(upgraded.db, "mastodon:t1")] == ["mastodon:1", "mastodon:2"]
        assert upgraded.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        upgraded.close()
    assert [n for n in helpers.sidecars(inbox_path) if ".before-v4-" in n]


def test_the_outbox_refuses_unknown_states(inbox, clock, complaint):
    item, _ = enqueue(inbox, clock)
    with pytest.raises(sqlite3.IntegrityError):
        with inbox.transaction() as db:
            db.execute("UPDATE outbox SET state = 'lost' WHERE id = ?", (item.id,))
