"""The notices above the composer's text box: what to mind in this thread and in this draft before sending.

Advice for a tense thread, a customer's exposed card number, private details in a public draft, a heated tone, a
canned reply this customer already had, and the read-only notice for a feed's item. Each only shows a verdict from
``console.replies``; whether Send is allowed is decided in ``composer_verdict``.

``NoticesMixin`` is a part of ``Composer`` (it reads the composer's thread, posts and canned store directly), kept
apart so the composer's module stays about which thread and which draft.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from console.domain import Visibility
from console.replies import canned as canned_rules
from console.replies.cooloff import thread_advice
from console.replies.guard import describe, exposure_banner, exposure_in_incoming
from console.replies.repeat import already_sent
from console.ui.browser import open_in_browser

READ_ONLY_NETWORKS = frozenset({"feed"})  # items watched on a site: there is no reply to send from here
READ_ONLY_REASON = "This came from a feed: answer on the site."


def _banner(object_name: str, colour: str) -> tuple[QWidget, QLabel, QPushButton]:
    box = QWidget()
    box.setObjectName(object_name)
    box.setStyleSheet(f"#{object_name} {{ background: {colour}; border-radius: 4px; }}")
    label = QLabel()
    label.setWordWrap(True)
    button = QPushButton()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(6, 4, 6, 4)
    layout.addWidget(label, 1)
    layout.addWidget(button)
    box.setVisible(False)
    return box, label, button


class NoticesMixin:
    """The banners and warning lines of ``Composer``; ``notice_widgets`` lists them in the order they are shown."""

    def _build_notices(self) -> None:
        self.advice_banner, self.advice_label, self.advice_button = _banner("adviceBanner", "#fdf1dc")
        self.advice_button.clicked.connect(self._insert_advised)
        self.exposure_banner, self.exposure_label, self.exposure_button = _banner("exposureBanner", "#fde2e2")
        self.exposure_button.setText("Insert “please delete it”")
        self.exposure_button.clicked.connect(lambda: self.insert_shortcut("delete-post"))
        self.guard_banner, self.guard_label, self.dm_instead_button = _banner("guardBanner", "#fde2e2")
        self.dm_instead_button.setText("Send as DM instead")
        self.dm_instead_button.setObjectName("dmInstead")
        self.dm_instead_button.clicked.connect(self.switch_to_direct)
        self.repeat_label = QLabel()
        self.repeat_label.setObjectName("repeatWarning")
        self.repeat_label.setWordWrap(True)
        self.repeat_label.setStyleSheet("color: #8a5a00;")
        self.repeat_label.setVisible(False)
        self.cooloff_label = QLabel()
        self.cooloff_label.setObjectName("cooloffReasons")
        self.cooloff_label.setWordWrap(True)
        self.cooloff_label.setStyleSheet("color: #8a5a00;")
        self.cooloff_label.setVisible(False)
        self.read_only_label = QLabel()
        self.read_only_label.setObjectName("readOnlyNotice")
        self.read_only_label.setWordWrap(True)
        self.read_only_label.setTextFormat(Qt.TextFormat.RichText)
        self.read_only_label.linkActivated.connect(lambda url: self.open_link(url))
        self.read_only_label.setVisible(False)
        self.open_link: Callable[[str], object] = open_in_browser

    def notice_widgets(self) -> tuple[QWidget, ...]:
        return (self.advice_banner, self.exposure_banner, self.guard_banner, self.repeat_label, self.cooloff_label,
                self.read_only_label)

    # -- read-only threads (feeds) ---------------------------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        """A watched feed's item: nothing can be sent from Tend, the answer belongs on the site."""
        return self._thread is not None and self._thread.network in READ_ONLY_NETWORKS

    def _show_read_only(self) -> bool:
        """Say where to answer instead of offering to; True when the thread is read-only (no other banner then)."""
        url = next((p.url for p in reversed(self._posts) if p.url.startswith(("https://", "http://"))), "")
        if self.read_only:
            link = f' <a href="{escape(url, quote=True)}">Open it on {escape(urlsplit(url).hostname or "the site")}' \
                   "</a>" if url else ""
            self.read_only_label.setText(f"{escape(READ_ONLY_REASON)}{link}")
            self.read_only_label.setToolTip(url)
            for banner in (self.advice_banner, self.exposure_banner, self.guard_banner):
                banner.setVisible(False)
        self.read_only_label.setVisible(self.read_only)
        self.counter.setVisible(not self.read_only)
        return self.read_only

    # -- the thread: advice and exposed details --------------------------------------------------------------------

    def _show_banners(self) -> None:
        if self._show_read_only():
            self._advice = None
            return
        advice = thread_advice(self._posts, clock=self._clock) if self._posts else None
        self._advice = advice
        if advice is not None:
            self.advice_label.setText(advice.message)
            self.advice_button.setText(f"Insert /{advice.suggested_shortcut}")
            self.advice_button.setVisible(self._canned.library.by_shortcut(advice.suggested_shortcut) is not None)
        self.advice_banner.setVisible(advice is not None)
        message = None
        for post in reversed(self._posts):
            if post.direction == "in" and post.visibility != Visibility.DIRECT.value and not post.deleted_at:
                message = exposure_banner(exposure_in_incoming(post.text))
                if message:
                    break
        if message:
            self.exposure_label.setText(message)
            self.exposure_button.setVisible(self._canned.library.by_shortcut("delete-post") is not None)
        self.exposure_banner.setVisible(bool(message))

    def _insert_advised(self) -> None:
        if self._advice is not None:
            self.insert_shortcut(self._advice.suggested_shortcut)

    # -- the draft: private details, heat and repeats --------------------------------------------------------------

    def _show_findings(self) -> None:
        """Private details in a public draft (``self._findings``, scanned by the verdict)."""
        if self._findings:
            self.guard_label.setText(
                f"This public reply contains {describe(self._findings)}. "
                + " ".join(dict.fromkeys(f.explanation for f in self._findings)))
        self.guard_banner.setVisible(bool(self._findings))

    def _show_heat(self, text: str) -> None:
        """Why the draft reads as heated (``self._cool_state``), while there is a draft to read."""
        heated = self._cool_state.held or self._cool_state.heated
        if heated and self._cool_state.reasons:
            self.cooloff_label.setText("This reads as heated: " + "; ".join(self._cool_state.reasons) + ". "
                                       "Take a breath; you can keep editing, and a calmer wording clears the wait.")
        self.cooloff_label.setVisible(bool(heated and self._cool_state.reasons and text.strip()))

    def _show_repeat(self, replies: Sequence[canned_rules.CannedReply]) -> None:
        thread = self._thread
        if thread is None:
            return
        history = self._canned.history()
        for reply in replies:
            warning = already_sent(reply.id, thread.author_id or "", thread.id, history)
            if warning is not None:
                self.repeat_label.setText(f"“{reply.title}”: {warning.message}")
                self.repeat_label.setVisible(True)
                return
