"""Cool-off: a heated public reply waits a few minutes before it can be sent, and heated threads get advice.

The hold is about the *draft*, not the keystroke: it starts the first time the draft turns heated and keeps running
while the owner edits (editing is exactly what we hope they do), so tweaking a word never restarts the clock. A calmer
rewrite clears it at once. Public replies wait longer than DMs because a public reply is read by everyone and is
screenshotted; a DM is a conversation the owner can still repair.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console.domain.timeutil import parse_iso, utc_now
from console.replies.tone import ToneReport, assess_tone, compound_score

Clock = Callable[[], datetime]

DIRECT = "direct"


def is_direct(visibility: Any) -> bool:
    """``direct`` (a DM) is the only private kind; followers-only posts are still read by many and count as public."""
    return str(getattr(visibility, "value", visibility)).lower() == DIRECT


@dataclass(frozen=True, slots=True)
class CoolOffPolicy:
    """How long a heated draft waits; set per account."""

    public_delay: timedelta = timedelta(minutes=5)
    direct_delay: timedelta = timedelta(minutes=2)

    def __post_init__(self) -> None:
        if self.public_delay < timedelta(0) or self.direct_delay < timedelta(0):
            raise ValueError("a cool-off delay cannot be negative")

    def delay_for(self, visibility: Any) -> timedelta:
        return self.direct_delay if is_direct(visibility) else self.public_delay


@dataclass(frozen=True, slots=True)
class CoolOffState:
    """What the Send button shows: held with a countdown, and why."""

    held: bool
    remaining: timedelta
    reasons: tuple[str, ...] = ()
    heated: bool = False  # the draft still reads heated (after the hold ends the composer may keep a gentle note)


@dataclass(frozen=True, slots=True)
class Override:
    """A deliberate "send anyway": the caller records it on the thread, so the owner can see it later.

    Only a digest of the text is kept: the reply itself is in the thread once sent.
    """

    at: datetime
    text_digest: str
    reasons: tuple[str, ...]
    owner_reason: str = ""


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class DraftCoolOff:
    """The cool-off of one draft (one per composer/thread). Call ``update`` as the owner types, ``state`` on a tick."""

    def __init__(self, policy: CoolOffPolicy | None = None, clock: Clock = utc_now) -> None:
        self.policy = policy or CoolOffPolicy()
        self._clock = clock
        self._held_since: datetime | None = None
        self._text = ""
        self._visibility: Any = "public"
        self._report = ToneReport(compound=0.0, heated=False)
        self._override_digest: str | None = None

    @property
    def held_since(self) -> datetime | None:
        """When the current hold began (``None`` when the draft is calm); the composer may persist it with the draft."""
        return self._held_since

    def restore(self, held_since: datetime | None) -> None:
        """Resume a hold after a restart, so quitting and reopening is no shortcut around the cool-off."""
        self._held_since = held_since

    @property
    def report(self) -> ToneReport:
        return self._report

    def update(self, text: str, visibility: Any = "public") -> CoolOffState:
        """Re-judge the draft after an edit or a switch between public and DM."""
        if text != self._text:
            self._report = assess_tone(text)
            self._text = text
        self._visibility = visibility
        if not self._report.heated:
            self._held_since = None
        elif self._held_since is None:
            self._held_since = self._clock()
        return self.state()

    def state(self) -> CoolOffState:
        """The state now, for the countdown tick; does not re-judge the text."""
        report = self._report
        if not report.heated or self._held_since is None:
            return CoolOffState(held=False, remaining=timedelta(0), reasons=report.reasons, heated=False)
        if self._override_digest == text_digest(self._text):
            return CoolOffState(held=False, remaining=timedelta(0), reasons=report.reasons, heated=True)
        elapsed = self._clock() - self._held_since
        remaining = max(timedelta(0), self.policy.delay_for(self._visibility) - max(elapsed, timedelta(0)))
        return CoolOffState(held=remaining > timedelta(0), remaining=remaining, reasons=report.reasons, heated=True)

    def override(self, reason: str = "") -> Override:
        """The owner confirmed they want to send this exact text now; a further edit is judged afresh."""
        self._override_digest = text_digest(self._text)
        return Override(at=self._clock(), text_digest=self._override_digest, reasons=self._report.reasons,
                        owner_reason=reason)


# ----------------------------------------------------------------------------------------------- thread advice

STRONGLY_NEGATIVE = -0.6
BACK_AND_FORTH_REPLIES = 3
BACK_AND_FORTH_WINDOW = timedelta(hours=1)

MOVE_TO_DM = "move_to_dm"
MOVE_TO_PHONE = "move_to_phone"


@dataclass(frozen=True, slots=True)
class Advice:
    """A suggestion the composer shows above the draft, with the canned reply that acts on it."""

    kind: str
    message: str
    suggested_shortcut: str


def _is_business(post: Any, business_author_ids: Iterable[str]) -> bool:
    return str(getattr(post, "direction", "in")) == "out" or getattr(post, "author_id", None) in business_author_ids


def _moment(post: Any) -> datetime | None:
    try:
        return parse_iso(str(post.created_at))
    except (ValueError, AttributeError, TypeError):
        return None


def thread_advice(posts: Sequence[Any], business_author_ids: Iterable[str] = (),
                  clock: Clock = utc_now) -> Advice | None:
    """Suggest taking a heated public thread private, or ``None``.

    ``posts`` are any objects with ``text``, ``direction`` ('in'/'out'), ``visibility`` and ``created_at`` (ISO),
    for example ``console.store.PostRow``. Deleted posts are ignored. A thread already in DMs gets no advice.
    """
    business = frozenset(business_author_ids)
    live = [p for p in posts if not getattr(p, "deleted_at", None) and _moment(p) is not None]
    live.sort(key=lambda p: _moment(p))  # type: ignore[arg-type, return-value]
    if not live or is_direct(getattr(live[-1], "visibility", "public")):
        return None

    customer = [p for p in live if not _is_business(p, business)]
    if customer and compound_score(str(customer[-1].text)) <= STRONGLY_NEGATIVE:
        return Advice(MOVE_TO_DM,
                      "The customer sounds very upset. A short apology and an offer to sort it out in a direct "
                      "message usually calms things faster than a public exchange.",
                      "apology-dm")

    since = clock() - BACK_AND_FORTH_WINDOW
    recent_public = [p for p in live if not is_direct(getattr(p, "visibility", "public"))
                     and _moment(p) >= since]  # type: ignore[operator]
    ours = sum(1 for p in recent_public if _is_business(p, business))
    theirs = len(recent_public) - ours
    if ours >= BACK_AND_FORTH_REPLIES and theirs >= BACK_AND_FORTH_REPLIES:
        return Advice(MOVE_TO_PHONE,
                      f"This has gone back and forth {ours + theirs} times in public within the hour. "
                      "A quick phone call (or a DM) will settle it sooner.",
                      "call-us")
    return None
