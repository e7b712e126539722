"""Reshares, amplification, heat, escalation and priority as the store keeps them, on a real inbox with a fake clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from console.domain import Reshare, iso_utc
from console.domain.influence import influence_breakdown
from console.domain.priority import priority_key
from console.domain.spread import DEFAULT_THRESHOLD, HYSTERESIS
from console.domain.timeutil import parse_iso
from console.store import Order, View, ViewKind
from console.store.reply_settings import AccountSettings, save_account_settings
from console.store.queries import get_thread, keyset_of, list_threads, view_counts
from console.store.spread import update_spread


def angry(_texts):
    return 0.9


def calm(_texts):
    return 0.0


def _observe(inbox, records, clock, reshares, *, post="1", thread="t1", author="alice"):
    """The network reports the post again at the clock's time with this many reshares."""
    minute = (clock.now - parse_iso(records.post("x").created_at)).total_seconds() / 60
    inbox.apply_batch(records.batch(records.post(post, thread, author=author, observed_minute=minute,
                                                 reshare_count=reshares), authors=()))


def _thread(inbox, thread="t1"):
    return get_thread(inbox.db, f"mastodon:{thread}")


def test_reshares_are_recorded_once_and_amplify_the_author(inbox, records, helpers):
    inbox.apply_batch(records.batch(records.post("1", author="alice")))
    big = records.author("bigvoice", followers_count=50_000, following_count=300)
    small = records.author("friend", followers_count=200)
    reshares = (Reshare("mastodon:1", big.id, helpers.at(3)), Reshare("mastodon:1", small.id, helpers.at(4)),
                Reshare("mastodon:unknown", small.id, helpers.at(4)))  # not in the inbox: not ours to keep
    changes = inbox.apply_batch(replace(records.batch(authors=(big, small)), reshares=reshares))
    inbox.apply_batch(replace(records.batch(authors=(big,)), reshares=reshares[:1]))  # seen again: nothing new

    assert changes.thread_ids == {"mastodon:t1"}
    rows = inbox.db.execute("SELECT post_id, author_id, reshared_at FROM reshares ORDER BY author_id").fetchall()
    assert rows == [("mastodon:1", big.id, helpers.at(3)), ("mastodon:1", small.id, helpers.at(4))]
    amplification, influence = inbox.db.execute(
        "SELECT amplification, influence FROM authors WHERE id = 'mastodon:alice'").fetchone()
    assert amplification == 50_200
    assert influence == influence_breakdown(0, 0, 0, 0, 50_200).score > 0


def test_a_snowball_escalates_once_and_cools_off(inbox, records, clock):
    inbox.apply_batch(records.batch(records.post("1")))
    first = update_spread(inbox, angry)
    assert first.escalations == () and _thread(inbox).heat == 0  # nothing is spreading yet

    for step in range(1, 7):  # 400 reshares over 30 minutes, from a big account's boost
        clock.advance(minutes=5)
        _observe(inbox, records, clock, step * 70)
        update = update_spread(inbox, angry)
        if update.escalations:
            break
    assert [e.thread_id for e in update.escalations] == ["mastodon:t1"]
    escalation = update.escalations[0]
    assert escalation.heat >= DEFAULT_THRESHOLD and escalation.reshares_last_hour > 0
    assert "reshares in the last hour" in escalation.summary()
    assert _thread(inbox).escalating_since == iso_utc(clock.now)
    assert [r.id for r in list_threads(inbox.db, View(ViewKind.ESCALATING), 10)] == ["mastodon:t1"]
    assert view_counts(inbox.db)[ViewKind.ESCALATING] == 1

    # Still hot on later passes: no second announcement.
    for _ in range(3):
        clock.advance(minutes=5)
        _observe(inbox, records, clock, 500)
        assert update_spread(inbox, angry).escalations == ()

    # A day later nothing moved: heat falls to 0 and the escalation ends.
    clock.advance(days=1, minutes=1)
    update = update_spread(inbox, angry)
    assert update.escalations == () and "mastodon:t1" in update.changes.thread_ids
    assert _thread(inbox).heat == 0 and _thread(inbox).escalating_since is None
    assert list_threads(inbox.db, View(ViewKind.ESCALATING), 10) == []

    # A new wave is a new escalation, announced again.
    for step in range(1, 7):
        clock.advance(minutes=5)
        _observe(inbox, records, clock, 500 + step * 80)
        update = update_spread(inbox, angry)
        if update.escalations:
            break
    assert [e.thread_id for e in update.escalations] == ["mastodon:t1"]


def test_hovering_near_the_threshold_does_not_flap(inbox, records, clock):
    inbox.apply_batch(records.batch(records.post("1")))
    clock.advance(minutes=10)
    _observe(inbox, records, clock, 300)
    assert len(update_spread(inbox, angry, threshold=50).escalations) == 1
    heat = _thread(inbox).heat
    # Raising the threshold a little above the current heat does not end it (hysteresis) ...
    assert update_spread(inbox, angry, threshold=heat + HYSTERESIS - 1).changes.thread_ids == frozenset()
    assert _thread(inbox).escalating_since is not None
    # ... and lowering it again does not start a second one.
    assert update_spread(inbox, angry, threshold=50).escalations == ()


def test_calm_words_and_small_audiences_stay_below_the_threshold(inbox, records, clock):
    inbox.apply_batch(records.batch(records.post("1")))
    clock.advance(minutes=30)
    _observe(inbox, records, clock, 3)
    assert update_spread(inbox, calm).escalations == ()
    row = _thread(inbox)
    assert 0 < row.heat < DEFAULT_THRESHOLD and row.reshares_last_hour == 3


def test_reach_counts_each_person_once(inbox, records, clock, helpers):
    alice = records.author("alice", followers_count=1_000)
    inbox.apply_batch(records.batch(records.post("1"), records.post("2", minute=1), authors=(alice,)))
    big = records.author("big", followers_count=20_000)
    inbox.apply_batch(replace(records.batch(authors=(big, alice)), reshares=(
        Reshare("mastodon:1", big.id, helpers.at(1)), Reshare("mastodon:2", big.id, helpers.at(2)),
        Reshare("mastodon:2", alice.id, helpers.at(2)))))
    clock.advance(minutes=5)
    _observe(inbox, records, clock, 2)
    update_spread(inbox, calm)
    assert _thread(inbox).reach == 21_000


def test_needs_reply_by_priority_puts_fires_first_but_nobody_waits_forever(inbox, records, clock):
    inbox.apply_batch(records.batch(records.post("old", "ancient", minute=-60 * 48, author="carol")))
    inbox.apply_batch(records.batch(records.post("q", "quiet", minute=-180, author="bob")))
    inbox.apply_batch(records.batch(records.post("1", "fire", minute=0)))
    clock.advance(minutes=10)
    _observe(inbox, records, clock, 400, thread="fire")
    update_spread(inbox, angry, threshold=101)  # hot, but (with this threshold) not escalating

    latest = [r.id for r in list_threads(inbox.db, View(ViewKind.NEEDS_REPLY), 10)]
    by_priority = list_threads(inbox.db, View(ViewKind.NEEDS_REPLY), 10, order=Order.PRIORITY)
    assert latest == ["mastodon:fire", "mastodon:quiet", "mastodon:ancient"]
    # Two days of waiting outrank a hot thread; a hot thread outranks three hours of waiting.
    assert [r.id for r in by_priority] == ["mastodon:ancient", "mastodon:fire", "mastodon:quiet"]
    assert by_priority[1].heat >= DEFAULT_THRESHOLD and by_priority[1].reshares_last_hour == 400

    # Once it escalates it goes before any backlog.
    update_spread(inbox, angry)
    by_priority = list_threads(inbox.db, View(ViewKind.NEEDS_REPLY), 10, order=Order.PRIORITY)
    assert [r.id for r in by_priority] == ["mastodon:fire", "mastodon:ancient", "mastodon:quiet"]


def test_priority_pages_by_keyset(inbox, records):
    posts = [records.post(str(n), f"t{n}", minute=n % 7, author=f"user{n % 5}") for n in range(30)]
    inbox.apply_batch(records.batch(*posts))
    view = View(ViewKind.NEEDS_REPLY)
    whole = [r.id for r in list_threads(inbox.db, view, 100, order=Order.PRIORITY)]
    pages, after = [], None
    while True:
        page = list_threads(inbox.db, view, 7, after, order=Order.PRIORITY)
        if not page:
            break
        pages += [r.id for r in page]
        after = keyset_of(page[-1], view, Order.PRIORITY)
    assert pages == whole and len(whole) == 30
    keys = [r.priority_key for r in list_threads(inbox.db, view, 100, order=Order.PRIORITY)]
    assert keys == sorted(keys)


def test_waiting_counts_from_the_opening_when_a_message_came_in_while_closed(inbox, records, helpers):
    # EPOCH is 09:00 UTC on a Wednesday; the shop opens at 10:00.
    save_account_settings(inbox, AccountSettings(helpers.account.id, business_hours={
        "tz": "UTC", "weekly": {day: [["10:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}}))
    inbox.apply_batch(records.batch(records.post("1", "early", minute=0)))
    row = get_thread(inbox.db, "mastodon:early")
    opening = parse_iso(helpers.at(60))
    assert row.priority_key == priority_key(parse_iso(helpers.at(0)), heat=0, influence=row.author_influence,
                                            opening=opening)
    # Without hours the same thread ranks from when it arrived.
    save_account_settings(inbox, AccountSettings(helpers.account.id))
    assert get_thread(inbox.db, "mastodon:early").priority_key == (
        parse_iso(helpers.at(0)) - timedelta(hours=8) * (row.author_influence / 100)).timestamp()


def test_the_announcement_names_who_started_it_and_who_carries_it(inbox, records, clock, helpers):
    lou = records.author("lou", display_name="Lou Rossi", followers_count=110)
    inbox.apply_batch(records.batch(records.post("1", author="lou"), authors=(lou,)))
    ana = records.author("ana", display_name="Ana Ruiz", followers_count=54_000)
    zoe = records.author("zoe", display_name="", followers_count=300)
    inbox.apply_batch(replace(records.batch(records.post("2", minute=1, author="zoe", parent_id="mastodon:1"),
                                            authors=(ana, zoe)),
                              reshares=(Reshare("mastodon:1", ana.id, helpers.at(1)),)))
    clock.advance(minutes=10)
    _observe(inbox, records, clock, 400, author="lou")
    [escalation] = update_spread(inbox, angry).escalations
    assert (escalation.author_name, escalation.carrier_name, escalation.carrier_followers) == ("Lou Rossi", "Ana Ruiz",
                                                                                               54_000)
    assert escalation.summary().startswith("Lou Rossi's post is spreading: 400 reshares in the last hour, "
                                           "reshared by Ana Ruiz (54,000 followers), up to ")


def test_a_pass_scores_only_threads_whose_reshares_moved(inbox, records, clock):
    """New posts and likes are sampled too; a radar pass must not re-score every thread they touched that day."""
    inbox.apply_batch(records.batch(*[records.post(str(n), f"t{n}", like_count=n) for n in range(50)]))
    scored: list[list[str]] = []

    def spying(texts):
        scored.append(list(texts))
        return 0.9

    clock.advance(minutes=1)
    assert update_spread(inbox, spying).changes.thread_ids == frozenset()
    assert scored == []  # nothing was reshared: nothing to score
    _observe(inbox, records, clock, 40, post="7", thread="t7")
    clock.advance(minutes=1)
    update = update_spread(inbox, spying)
    assert update.changes.thread_ids == {"mastodon:t7"}
    assert len(scored) == 1 and _thread(inbox, "t7").heat > 0
