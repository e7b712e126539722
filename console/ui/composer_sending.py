"""Sending from the composer, and taking it back: Send, Send anyway, Send now, Undo and the thread's outbox.

A reply is never sent from here: it is queued through ``OutboxService`` with an undo window (or until opening time),
and the outbox sends it later. So everything the owner can do after pressing Send (undo, retry, release a held
reply) is an outbox action too, and the last reply stays undoable from the undo bar even after its thread leaves the
list.

``SendingMixin`` is a part of ``Composer`` (it reads the composer's thread, draft and verdict directly).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from console.domain import Visibility, iso_utc, parse_iso
from console.store import outbox as outbox_store
from console.store.outbox import OutboxItem
from console.ui.composer_outbox import OutboxPanel, countdown
from console.ui.tasks import run_task


class SendingMixin:
    """Send and its variants, the undo bar for the last reply, and Undo/Retry/Send now on the thread's outbox."""

    def _build_send_controls(self) -> None:
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.send_anyway_button = QPushButton("Send anyway…")
        self.send_anyway_button.setObjectName("sendAnyway")
        self.send_anyway_button.setVisible(False)
        self.send_anyway_button.clicked.connect(self.send_anyway)
        self.send_now_button = QPushButton("Send now anyway")
        self.send_now_button.setObjectName("sendNowAnyway")
        self.send_now_button.setToolTip("Send after the undo window, without waiting for opening time")
        self.send_now_button.setVisible(False)
        self.send_now_button.clicked.connect(self.send_now)
        # The last reply sent stays undoable here even when its conversation leaves the list (it no longer
        # needs a reply, so the list moves on): Undo must not depend on finding the thread again.
        self.undo_bar = QWidget()
        self.undo_bar.setObjectName("undoBar")
        self.undo_label = QLabel()
        self.undo_label.setObjectName("undoLabel")
        self.undo_send_button = QPushButton("Undo")
        self.undo_send_button.setObjectName("undoSend")
        self.undo_send_button.clicked.connect(self.undo_last)
        undo_layout = QHBoxLayout(self.undo_bar)
        undo_layout.setContentsMargins(0, 0, 0, 0)
        undo_layout.addWidget(self.undo_label, 1)
        undo_layout.addWidget(self.undo_send_button)
        self.undo_bar.setVisible(False)
        self._last_item: OutboxItem | None = None
        self._last_who = ""
        self._last_opening = ""
        self.outbox_panel = OutboxPanel(self._clock)
        self.outbox_panel.undoRequested.connect(self.undo)
        self.outbox_panel.retryRequested.connect(self.retry)
        self.outbox_panel.releaseRequested.connect(self.release)

    # -- sending ---------------------------------------------------------------------------------------------------

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def send(self) -> None:
        """Send (at the next opening time, when the business is closed now)."""
        self._send(wait_for_opening=True)

    def send_now(self) -> None:
        """Send after the undo window even though the business is closed."""
        self._send(wait_for_opening=False)

    def _send(self, wait_for_opening: bool) -> None:
        self._evaluate()
        if self._block_reason or self._thread is None or self._target is None:
            return
        thread, target = self._thread, self._target
        opening = self._opening if wait_for_opening else None
        opening_text = self._opening_text() if opening is not None else ""
        text, visibility, used = self.final_text(), self.visibility, list(self._inserted)
        raw = self.text()
        self._draft_timer.stop()
        self._busy = True
        self._inserted = []
        self._set_text("")
        self.repeat_label.setVisible(False)

        async def queue() -> None:
            try:
                item = await self._outbox.queue(target.id, text, visibility, not_before=opening)
            except BaseException:
                if self.thread_id == thread.id and not self.text():
                    self._set_text(raw)
                    self._inserted = used
                raise
            finally:
                self._busy = False
                self._evaluate()
            self._canned.record_sent(used, thread.author_id or "", thread.id, self._clock())
            if self.thread_id == thread.id:
                self.refresh_outbox()
            seconds = max(0, int((parse_iso(item.send_after) - self._clock()).total_seconds()))
            when = f"at opening ({opening_text})" if opening_text else f"in {seconds} s"
            self.messageRequested.emit(f"Reply queued: it goes out {when}; Undo takes it back.")
            self._last_item = item
            self._last_who = thread.author_name or thread.author_handle
            self._last_opening = opening_text
            self._show_undo_bar()
            self.queued.emit(item)

        run_task(queue(), on_error=self.messageRequested.emit)

    def send_anyway(self) -> None:
        cool = self._cooloff()
        if cool is None or self._thread is None or not self._cool_state.held:
            return
        reasons = "; ".join(self._cool_state.reasons) or "its tone"
        if not self.confirm("Send a heated reply?",
                            f"This reply reads as heated ({reasons}).\n\nA public reply is read by everyone and may be "
                            "screenshotted. Send it now anyway? This will be noted on the conversation."):
            return
        override = cool.override()
        detail = {"at": iso_utc(override.at), "text_digest": override.text_digest, "reasons": list(override.reasons),
                  "visibility": str(self.visibility), "remaining_s": int(self._cool_state.remaining.total_seconds())}
        run_task(self._outbox.record_cooloff_override(self._thread.id, detail), on_error=self.messageRequested.emit)
        self.send()

    # -- the undo bar ----------------------------------------------------------------------------------------------

    def _show_undo_bar(self) -> None:
        item = self._last_item
        left = (parse_iso(item.send_after) - self._clock()).total_seconds() if item else 0
        if item is None or left <= 0:
            self._last_item = None
            self.undo_bar.setVisible(False)
            return
        when = f"waits for opening ({self._last_opening})" if self._last_opening else f"sending in {countdown(left)}"
        self.undo_label.setText(f"Reply to {self._last_who} {when}")
        self.undo_bar.setVisible(True)

    def undo_last(self) -> None:
        """Take back the reply just sent (the Undo beside Send), wherever the thread list has moved on to."""
        item, self._last_item = self._last_item, None
        self.undo_bar.setVisible(False)
        if item is not None:
            self.undo(item.id)

    # -- the outbox ------------------------------------------------------------------------------------------------

    def refresh_outbox(self) -> None:
        items = outbox_store.items_for_thread(self._reader, self._thread.id) if self._thread else []
        self.outbox_panel.set_items(items)

    def _act(self, action: Callable[[str], object], outbox_id: str, done: str) -> None:
        thread_id = self.thread_id

        async def run() -> None:
            item: OutboxItem = await action(outbox_id)  # type: ignore[misc]
            if self.thread_id == thread_id == item.thread_id:
                self.refresh_outbox()
                if action == self._outbox.undo and not self.text().strip():
                    draft = outbox_store.load_draft(self._reader, item.thread_id)
                    if draft is not None:
                        self._set_text(draft.text)
                        self._loading = True
                        (self.direct_button if draft.visibility is Visibility.DIRECT else self.public_button).setChecked(True)
                        self._loading = False
                        self._evaluate()
            self.messageRequested.emit(done)

        run_task(run(), on_error=self.messageRequested.emit)

    def undo(self, outbox_id: str) -> None:
        self._act(self._outbox.undo, outbox_id, "Reply taken back; its words are in the draft again.")

    def retry(self, outbox_id: str) -> None:
        self._act(self._outbox.retry, outbox_id, "Trying to send the reply again.")

    def release(self, outbox_id: str) -> None:
        self._act(self._outbox.release, outbox_id, "Sending the held reply now.")
