"""Whether the composer's Send may go now, and if not, why: the rules' verdicts on the draft, read on every change.

Length, unfilled slots, the sensitive-data guard, the cool-off and business hours all live in ``console.replies``;
this part asks each of them about the current draft and turns the first "no" into the reason on Send's tooltip (and
``block_reason``, which tests and the owner read). The cool-off clocks are kept per thread, so switching threads is no
way around a wait.

``VerdictMixin`` is a part of ``Composer`` (it reads the composer's thread, settings and widgets directly).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from console.domain import Visibility
from console.replies import canned as canned_rules
from console.replies.cooloff import CoolOffPolicy, CoolOffState, DraftCoolOff
from console.replies.guard import describe, scan
from console.ui.composer_notices import READ_ONLY_REASON
from console.ui.composer_outbox import countdown
from console.ui.reply_settings_dialog import hours_of


class VerdictMixin:
    """``_evaluate`` re-reads every rule and updates Send, the counter and the notices to match."""

    def _cooloff(self) -> DraftCoolOff | None:
        if self._thread is None:
            return None
        # The policy is read from the account's settings every time, so a change in Reply settings applies at once.
        policy = CoolOffPolicy()
        if self._settings.cooloff_public_s is not None or self._settings.cooloff_direct_s is not None:
            policy = CoolOffPolicy(
                timedelta(seconds=self._settings.cooloff_public_s) if self._settings.cooloff_public_s is not None
                else policy.public_delay,
                timedelta(seconds=self._settings.cooloff_direct_s) if self._settings.cooloff_direct_s is not None
                else policy.direct_delay)
        cool = self._cooloffs.get(self._thread.id)
        if cool is None:
            cool = self._cooloffs[self._thread.id] = DraftCoolOff(policy, self._clock)
        cool.policy = policy
        return cool

    def _next_opening(self) -> datetime | None:
        """When the account's business opens next, if it is closed now; ``None`` when open or without hours."""
        hours = hours_of(self._settings) if self._thread is not None else None
        if hours is None:
            return None
        now = self._clock()
        opening = hours.next_opening(now)
        return opening if opening is not None and opening > now else None

    def _opening_text(self) -> str:
        opening = self._opening
        hours = hours_of(self._settings)
        if opening is None or hours is None:
            return ""
        local = opening.astimezone(hours.tz)
        return f"{local:%a} {local.hour}:{local.minute:02d}"

    def _evaluate(self, rejudge: bool = True) -> None:
        text = self.text()
        final = self.final_text()
        public = self.visibility is not Visibility.DIRECT
        remaining = self._rule.remaining(final)
        self.counter.setText(f"{remaining} left")
        self.counter.setToolTip(f"{self._rule.count(final)} of {self._rule.max_length} characters, "
                                f"counted the way {self._thread.network if self._thread else 'the network'} counts")
        self.counter.setStyleSheet("color: #c00; font-weight: bold;" if remaining < 0 else "color: #666;")
        slots = canned_rules.unfilled_slots(text)
        self._findings = scan(text) if public else []
        self.editor.set_marks(slots, [(f.start, f.end) for f in self._findings])
        cool = self._cooloff()
        if cool is not None:
            self._cool_state = cool.update(text, self.visibility) if rejudge else cool.state()
        else:
            self._cool_state = CoolOffState(held=False, remaining=timedelta(0))

        self._show_findings()
        self._show_heat(text)

        reason = ""
        label = "Send" if public else "Send DM"
        if self._thread is None or self._target is None:
            reason = "Choose a conversation to reply to."
        elif self.read_only:
            reason = READ_ONLY_REASON
        elif self._busy:
            reason = "Sending…"
        elif not text.strip():
            reason = "Write a reply first."
        elif remaining < 0:
            reason = f"The reply is {-remaining} characters too long for {self._thread.network}."
        elif slots:
            names = ", ".join(dict.fromkeys(f"{{{s.name}}}" for s in slots))
            reason = f"Fill in {names} before sending (Tab jumps to the next one)."
        elif self._findings:
            reason = f"A public reply must not contain {describe(self._findings)}; send it as a DM instead."
        elif self._cool_state.held:
            reason = (f"This reply reads as heated; it can be sent in {countdown(self._cool_state.remaining.total_seconds())}"
                      " unless you rewrite it more calmly.")
            label = f"Send in {countdown(self._cool_state.remaining.total_seconds())}"
        self._opening = self._next_opening()
        if self._opening is not None and not self._cool_state.held:
            label = f"Send at opening ({self._opening_text()})"
        self._block_reason = reason
        self.send_button.setText(label)
        self.send_button.setEnabled(not reason)
        self.send_button.setToolTip(reason or (
            f"You are closed now: the reply waits until opening time ({self._opening_text()}), and you can undo it "
            "until then" if self._opening is not None else "Send (you can undo it for a few seconds)"))
        self.send_anyway_button.setVisible(self._cool_state.held and not self._busy and bool(text.strip()))
        self.send_now_button.setVisible(self._opening is not None and not reason)

    @property
    def block_reason(self) -> str:
        return self._block_reason
