"""Cool-off timers and heated-thread advice, driven by a fake clock: nothing here waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from console.domain.timeutil import iso_utc
from console.replies.cooloff import (
    MOVE_TO_DM,
    MOVE_TO_PHONE,
    CoolOffPolicy,
    DraftCoolOff,
    text_digest,
    thread_advice,
)
from console.store.queries import PostRow

HEATED = "This is ridiculous. You clearly didn't read our policy."
HEATED_EDIT = "This is ridiculous. You clearly didn't read our policy at all."
CALM = "I'm sorry about the confusion. Our policy is on the website; happy to explain by DM."


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_policy_defaults_hold_public_longer_than_dm() -> None:
    policy = CoolOffPolicy()
    assert policy.delay_for("public") == timedelta(minutes=5)
    assert policy.delay_for("direct") == timedelta(minutes=2)
    assert policy.delay_for("unlisted") == policy.public_delay
    with pytest.raises(ValueError):
        CoolOffPolicy(public_delay=timedelta(seconds=-1))


def test_calm_draft_is_never_held(clock: FakeClock) -> None:
    state = DraftCoolOff(clock=clock).update(CALM, "public")
    assert not state.held and state.remaining == timedelta(0)


def test_heated_draft_counts_down_while_owner_keeps_editing(clock: FakeClock) -> None:
    cooloff = DraftCoolOff(CoolOffPolicy(), clock)
    state = cooloff.update(HEATED, "public")
    assert state.held and state.remaining == timedelta(minutes=5)
    assert state.reasons
    clock.advance(minutes=2)
    state = cooloff.update(HEATED_EDIT, "public")  # editing, still heated: the clock does not restart
    assert state.held and state.remaining == timedelta(minutes=3)
    clock.advance(minutes=2, seconds=59)
    assert cooloff.state().remaining == timedelta(seconds=1)
    clock.advance(seconds=1)
    state = cooloff.state()
    assert not state.held and state.remaining == timedelta(0)
    assert state.heated  # the composer may still show a gentle note


def test_calmer_rewrite_clears_the_hold_and_a_new_heated_draft_starts_over(clock: FakeClock) -> None:
    cooloff = DraftCoolOff(clock=clock)
    cooloff.update(HEATED, "public")
    clock.advance(minutes=4)
    assert not cooloff.update(CALM, "public").held
    assert cooloff.held_since is None
    clock.advance(minutes=1)
    assert cooloff.update(HEATED, "public").remaining == timedelta(minutes=5)


def test_direct_messages_wait_less_and_switching_keeps_the_start(clock: FakeClock) -> None:
    cooloff = DraftCoolOff(clock=clock)
    assert cooloff.update(HEATED, "direct").remaining == timedelta(minutes=2)
    clock.advance(minutes=1)
    assert cooloff.update(HEATED, "public").remaining == timedelta(minutes=4)
    clock.advance(minutes=2)
    assert not cooloff.update(HEATED, "direct").held


def test_override_is_recorded_and_applies_to_that_exact_text(clock: FakeClock) -> None:
    cooloff = DraftCoolOff(clock=clock)
    cooloff.update(HEATED, "public")
    clock.advance(seconds=30)
    record = cooloff.override("customer is a known troll")
    assert record.at == clock.now
    assert record.text_digest == text_digest(HEATED)
    assert record.reasons and record.owner_reason == "customer is a known troll"
    assert not cooloff.state().held
    assert cooloff.update(HEATED_EDIT, "public").held  # a new text is judged afresh


def test_hold_survives_a_restart(clock: FakeClock) -> None:
    first = DraftCoolOff(clock=clock)
    first.update(HEATED, "public")
    clock.advance(minutes=3)
    second = DraftCoolOff(clock=clock)
    second.restore(first.held_since)
    assert second.update(HEATED, "public").remaining == timedelta(minutes=2)


# ------------------------------------------------------------------------------------------- thread advice


@dataclass
class P:
    text: str
    direction: str
    created_at: str
    visibility: str = "public"


def _row(text: str, direction: str, at: datetime, visibility: str = "public") -> PostRow:
    return PostRow(id=f"m:{at.timestamp()}", thread_id="m:t", parent_id=None, network="mastodon", url="",
                   text=text, created_at=iso_utc(at), reshare_count=0, quote_count=0, like_count=0,
                   reply_count=0, visibility=visibility, direction=direction,
                   author_id="m:me" if direction == "out" else "m:cust", author_handle="", author_name="",
                   author_influence=0, author_followers=0, author_following=0, author_posts=0,
                   author_engagement=0)


def test_strongly_negative_customer_post_suggests_dm_with_apology(clock: FakeClock) -> None:
    posts = [_row("Your bread was stale, the worst bakery ever, absolutely disgusting and awful.", "in",
                  clock.now - timedelta(minutes=5))]
    advice = thread_advice(posts, {"m:me"}, clock)
    assert advice is not None and advice.kind == MOVE_TO_DM and advice.suggested_shortcut == "apology-dm"


def test_mild_thread_gets_no_advice(clock: FakeClock) -> None:
    posts = [P("Hi, is the shop open on Sunday?", "in", iso_utc(clock.now - timedelta(minutes=3))),
             P("Yes, 9 to 1!", "out", iso_utc(clock.now - timedelta(minutes=2)))]
    assert thread_advice(posts, (), clock) is None
    assert thread_advice([], (), clock) is None


def test_only_the_latest_customer_post_counts(clock: FakeClock) -> None:
    posts = [P("This is terrible, awful, the worst service I've ever had!", "in",
               iso_utc(clock.now - timedelta(hours=2))),
             P("Thanks, that's sorted now, great service.", "in", iso_utc(clock.now - timedelta(minutes=1)))]
    assert thread_advice(posts, (), clock) is None


def _back_and_forth(clock: FakeClock, each: int, spacing: timedelta) -> list[P]:
    posts = []
    moment = clock.now - spacing * (2 * each)
    for index in range(each):
        posts.append(P(f"But when will it arrive? ({index})", "in", iso_utc(moment)))
        moment += spacing
        posts.append(P(f"It should be with you soon. ({index})", "out", iso_utc(moment)))
        moment += spacing
    return posts


def test_three_public_exchanges_within_an_hour_suggest_a_call(clock: FakeClock) -> None:
    advice = thread_advice(_back_and_forth(clock, 3, timedelta(minutes=5)), (), clock)
    assert advice is not None and advice.kind == MOVE_TO_PHONE and advice.suggested_shortcut == "call-us"


def test_two_exchanges_or_a_slow_thread_do_not(clock: FakeClock) -> None:
    assert thread_advice(_back_and_forth(clock, 2, timedelta(minutes=5)), (), clock) is None
    assert thread_advice(_back_and_forth(clock, 3, timedelta(minutes=20)), (), clock) is None


def test_thread_already_in_dm_gets_no_advice(clock: FakeClock) -> None:
    posts = _back_and_forth(clock, 3, timedelta(minutes=5))
    posts.append(P("This is terrible, awful, the worst service ever!", "in", iso_utc(clock.now), "direct"))
    assert thread_advice(posts, (), clock) is None


def test_business_author_ids_identify_our_posts_even_if_direction_is_missing(clock: FakeClock) -> None:
    rows = [_row(f"msg {i}", "out" if i % 2 else "in", clock.now - timedelta(minutes=30 - i)) for i in range(6)]
    assert thread_advice(rows, {"m:me"}, clock) is not None


def test_unparseable_dates_are_ignored(clock: FakeClock) -> None:
    assert thread_advice([P("awful, terrible, worst ever!", "in", "not a date")], (), clock) is None
