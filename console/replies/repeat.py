"""Has this canned reply already gone to this person or thread? Sending the same words twice reads as a brush-off."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SentCanned:
    """One use of a canned reply, as the outbox records it when a reply built from it is sent."""

    canned_id: str
    recipient_author_id: str
    thread_id: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class RepeatWarning:
    same_thread: bool
    previous: SentCanned
    message: str


def already_sent(canned_id: str, recipient_author_id: str, thread_id: str,
                 history: Iterable[SentCanned]) -> RepeatWarning | None:
    """The most relevant earlier use: in this thread first, else to this person anywhere; latest of each."""
    in_thread: SentCanned | None = None
    to_person: SentCanned | None = None
    for record in history:
        if record.canned_id != canned_id:
            continue
        if record.thread_id == thread_id:
            if in_thread is None or record.sent_at > in_thread.sent_at:
                in_thread = record
        elif record.recipient_author_id == recipient_author_id:
            if to_person is None or record.sent_at > to_person.sent_at:
                to_person = record
    if in_thread is not None:
        return RepeatWarning(True, in_thread, "You already sent this canned reply in this conversation "
                                              f"({in_thread.sent_at:%d %b %H:%M}). Maybe add a personal line?")
    if to_person is not None:
        return RepeatWarning(False, to_person, "This person already received this canned reply "
                                               f"({to_person.sent_at:%d %b %H:%M}). Maybe add a personal line?")
    return None
