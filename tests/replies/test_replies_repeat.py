"""The same canned reply to the same person or thread."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from console.replies.repeat import SentCanned, already_sent

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def test_warns_for_the_same_thread_first_then_the_same_person() -> None:
    history = [
        SentCanned("apology", "m:priya", "m:t1", T0),
        SentCanned("apology", "m:priya", "m:t2", T0 + timedelta(days=1)),
        SentCanned("thanks", "m:other", "m:t3", T0),
    ]
    in_thread = already_sent("apology", "m:priya", "m:t2", history)
    assert in_thread is not None and in_thread.same_thread and in_thread.previous.thread_id == "m:t2"
    elsewhere = already_sent("apology", "m:priya", "m:t9", history)
    assert elsewhere is not None and not elsewhere.same_thread
    assert elsewhere.previous.sent_at == T0 + timedelta(days=1)
    assert "already received" in elsewhere.message


def test_no_warning_for_new_people_or_other_replies() -> None:
    history = [SentCanned("apology", "m:priya", "m:t1", T0)]
    assert already_sent("apology", "m:sam", "m:t5", history) is None
    assert already_sent("thanks", "m:priya", "m:t1", history) is None
    assert already_sent("thanks", "m:priya", "m:t1", []) is None
