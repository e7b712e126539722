"""The selected conversation, shown whole as a tree of replies with every post's reach and reactions."""

from __future__ import annotations

import json
from html import escape
from collections.abc import Callable, Sequence
from datetime import datetime

import sqlite_utils
from PySide6.QtCore import QUrl, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.domain import influence_breakdown, utc_now
from console.store import PostRow, ThreadRow
from console.store.outbox import is_pending_post
from console.store.people import Resharer, people_resharing
from console.store.queries import get_thread, thread_posts
from console.ui.formatting import compact_number, count_of, local_time
from console.ui.thread_list_model import priority_reason
from console.ui.icons import network_icon
from console.ui.snooze import snooze_choices
from console.ui.wrapping import WrappingDelegate

POST_COLUMNS = ("Post", "Influence", "Reshares", "Likes", "Replies", "Time", "")
COL_POST, COL_INFLUENCE, COL_RESHARES, COL_LIKES, COL_REPLIES, COL_TIME, COL_LINK = range(len(POST_COLUMNS))
PostIdRole = Qt.ItemDataRole.UserRole + 2
UrlRole = Qt.ItemDataRole.UserRole + 3
AuthorIdRole = Qt.ItemDataRole.UserRole + 4

_OUR_REPLY = QColor("#eef5f0")
_PENDING = QColor("#888888")


def post_label(post: PostRow) -> str:
    who = "You" if post.direction == "out" else (post.author_name or post.author_handle)
    notes = []
    if is_pending_post(post.id):
        notes.append("not sent yet (see the composer below to undo)")
    if post.visibility == "direct":
        notes.append("direct message")
    if post.edited_at:
        notes.append("edited")
    if post.deleted_at:
        notes.append("deleted on the network")
    suffix = "".join(f" · {note}" for note in notes)
    media = "".join(f"\n[{a['kind']}: {a['description'] or 'no description'}]" for a in json.loads(post.attachments))
    return f"{who} ({post.author_handle}){suffix}\n{post.text}{media}"


def influence_tooltip(post: PostRow) -> str:
    breakdown = influence_breakdown(
        post.author_followers, post.author_following, post.author_posts, post.author_engagement,
        post.author_amplification,
    )
    return (
        f"{post.author_name} ({post.author_handle})\n"
        f"{count_of(post.author_followers, 'follower')} · follows {post.author_following:,} · "
        f"{count_of(post.author_posts, 'post')}\n"
        f"{breakdown.explain()}"
    )


def spread_text(thread: ThreadRow, now: datetime) -> str:
    """How far and how fast this conversation is going, and why it ranks where it does."""
    reason = escape(priority_reason(thread, now).text())
    if not thread.heat:
        return f"<span style='color:#555'>{reason}</span>"
    colour = "#b3261e" if thread.escalating_since else "#8a5a00"
    state = "escalating" if thread.escalating_since else "spreading"
    heat = f"<b style='color:{colour}'>Heat {thread.heat}, {state}</b>"
    reach = f"up to {thread.reach:,} people reached"
    return f"{heat} · {escape(reach)} · {reason.replace(f'escalating (heat {thread.heat}) · ', '')}"


def carriers_text(resharers: Sequence[Resharer]) -> str:
    """Who is carrying it: the biggest audiences among the people who reshared it."""
    if not resharers:
        return ""
    names = ", ".join(f"{r.display_name or r.handle} ({compact_number(r.followers)} followers)" for r in resharers)
    return f"Reshared by {names}"


class ThreadView(QWidget):
    """Shows one thread; emits requests for status changes, which the window hands to the services."""

    doneRequested = Signal(str)
    reopenRequested = Signal(str)
    snoozeRequested = Signal(str, object)  # thread id, datetime to come back
    threadShown = Signal(object)  # thread id or None, after every (re)display: the composer follows it
    postSelected = Signal(object)  # post id or None
    chartRequested = Signal(str)  # thread id: show its reshares over time
    authorRequested = Signal(str)  # author id: show the author panel

    def __init__(
        self,
        db: sqlite_utils.Database,
        *,
        clock: Callable[[], datetime] = utc_now,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._db = db
        self._clock = clock
        self._thread: ThreadRow | None = None

        self.title = QLabel("Select a conversation")
        self.title.setObjectName("threadTitle")
        self.title.setWordWrap(True)
        self.done_button = QPushButton("Mark done")
        self.done_button.setToolTip("Mark this conversation done (E)")
        self.done_button.clicked.connect(self._toggle_done)
        self.snooze_button = QPushButton("Snooze")
        self.snooze_button.setMenu(self._snooze_menu())
        self.open_button = QPushButton("Open in browser")
        self.open_button.clicked.connect(self._open_selected)
        self.chart_button = QPushButton("Reshares chart")
        self.chart_button.setObjectName("resharesChartButton")
        self.chart_button.setToolTip("This conversation's reshares over time")
        self.chart_button.clicked.connect(lambda: self._thread and self.chartRequested.emit(self._thread.id))
        self.author_button = QPushButton("Customer…")
        self.author_button.setObjectName("authorButton")
        self.author_button.setToolTip("Who this is: influence, past conversations, your notes, VIP")
        self.author_button.clicked.connect(self._request_author)
        self.spread = QLabel()
        self.spread.setObjectName("threadSpread")
        self.spread.setWordWrap(True)
        self.spread.setTextFormat(Qt.TextFormat.RichText)
        # Inside a splitter the layout gives a wrapping label only its one-line hint: keep room for two lines.
        self.spread.setMinimumHeight(self.spread.fontMetrics().lineSpacing() * 2 + 2)

        self.tree = QTreeWidget()
        self.tree.setObjectName("threadTree")
        self.tree.setColumnCount(len(POST_COLUMNS))
        self.tree.setHeaderLabels(list(POST_COLUMNS))
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setAlternatingRowColors(False)
        header = self.tree.header()
        header.setSectionResizeMode(COL_POST, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(POST_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.tree.setItemDelegateForColumn(COL_POST, WrappingDelegate(self.tree, COL_POST))
        self.tree.itemActivated.connect(self._item_activated)
        self.tree.itemClicked.connect(self._item_clicked)
        self.tree.currentItemChanged.connect(
            lambda item, _previous: self.postSelected.emit(item.data(COL_POST, PostIdRole) if item else None)
        )

        buttons = QHBoxLayout()
        buttons.addWidget(self.title, 1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.snooze_button)
        buttons.addWidget(self.done_button)
        self.carriers = QLabel()
        self.carriers.setObjectName("threadCarriers")
        # One line, cut to the pane's width (the whole list is in the tooltip): never widens the pane.
        self.carriers.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # Own rows below the title, so the pane stays narrow enough for small screens and the text wraps freely.
        spread_row = QHBoxLayout()
        spread_row.addWidget(self.author_button)
        spread_row.addWidget(self.chart_button)
        spread_row.addWidget(self.carriers, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.spread)
        layout.addLayout(spread_row)
        layout.addWidget(self.tree, 1)
        self._set_enabled(False)

    # -- showing ---------------------------------------------------------------------------------------------------

    @property
    def thread_id(self) -> str | None:
        return self._thread.id if self._thread else None

    @property
    def shown_thread(self) -> ThreadRow | None:
        return self._thread

    def show_thread(self, thread_id: str | None) -> None:
        """Show a thread (or nothing), keeping the selected post and scroll position when it is the same thread."""
        same = thread_id is not None and thread_id == self.thread_id
        selected = self.selected_post_id() if same else None
        scroll = self.tree.verticalScrollBar().value() if same else 0
        self._thread = get_thread(self._db, thread_id) if thread_id else None
        self.tree.clear()
        if self._thread is None:
            self.title.setText("Select a conversation")
            self.spread.clear()
            self.carriers.clear()
            self._set_enabled(False)
            self.threadShown.emit(None)
            return
        self._set_enabled(True)
        posts = thread_posts(self._db, self._thread.id)
        self._fill(posts)
        self._update_title(posts)
        if selected:
            self.select_post(selected)
        self.tree.verticalScrollBar().setValue(scroll)
        self.threadShown.emit(self._thread.id)

    def _fill(self, posts: list[PostRow]) -> None:
        items: dict[str, QTreeWidgetItem] = {}
        for post in posts:  # oldest first, so a parent is placed before its replies
            item = self._make_item(post)
            parent = items.get(post.parent_id) if post.parent_id else None
            if parent is not None:
                parent.addChild(item)
            else:
                self.tree.addTopLevelItem(item)
            items[post.id] = item
        self.tree.expandAll()

    def _make_item(self, post: PostRow) -> QTreeWidgetItem:
        item = QTreeWidgetItem()
        item.setText(COL_POST, post_label(post))
        item.setIcon(COL_POST, network_icon(post.network))
        item.setToolTip(COL_POST, post.text[:2000])
        item.setText(COL_INFLUENCE, str(post.author_influence))
        item.setToolTip(COL_INFLUENCE, influence_tooltip(post))
        item.setText(COL_RESHARES, compact_number(post.reshare_count + post.quote_count))
        item.setToolTip(COL_RESHARES, f"{post.reshare_count} reshares, {post.quote_count} quotes")
        item.setText(COL_LIKES, compact_number(post.like_count))
        item.setText(COL_REPLIES, compact_number(post.reply_count))
        item.setText(COL_TIME, local_time(post.created_at))
        item.setToolTip(COL_TIME, post.created_at)
        if post.url:
            item.setText(COL_LINK, "Open ↗")
            item.setToolTip(COL_LINK, post.url)
            item.setForeground(COL_LINK, QBrush(QColor("#1f5fa8")))
        item.setData(COL_POST, PostIdRole, post.id)
        item.setData(COL_POST, UrlRole, post.url)
        item.setData(COL_POST, AuthorIdRole, post.author_id if post.direction == "in" else None)
        for column in range(1, COL_LINK):
            item.setTextAlignment(column, Qt.AlignmentFlag.AlignCenter)
        if post.direction == "out":
            for column in range(len(POST_COLUMNS)):
                item.setBackground(column, QBrush(_OUR_REPLY))
                if is_pending_post(post.id):
                    item.setForeground(column, QBrush(_PENDING))
        return item

    def _update_title(self, posts: list[PostRow]) -> None:
        thread = self._thread
        assert thread is not None
        status = {"open": "Open", "snoozed": "Snoozed", "done": "Done"}.get(thread.status, thread.status)
        total = sum(p.reshare_count + p.quote_count for p in posts)
        found = " · <i>found by a brand watch (not tagged)</i>" if thread.unmentioned else ""
        self.title.setText(
            f"<b>{thread.author_name or thread.author_handle}</b> on {thread.network} · {len(posts)} posts · "
            f"{total:,} reshares · {status}{found}"
        )
        self.done_button.setText("Reopen" if thread.status == "done" else "Mark done")
        self.spread.setText(spread_text(thread, self._clock()))
        carriers = carriers_text(people_resharing(self._db, thread.id, limit=5))
        self.carriers.setText(carriers)
        self.carriers.setToolTip(carriers)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.done_button, self.snooze_button, self.open_button, self.chart_button, self.author_button):
            widget.setEnabled(enabled)

    def _request_author(self) -> None:
        """The selected post's author if a customer wrote it, else the customer the thread is waiting on."""
        item = self.tree.currentItem()
        author_id = item.data(COL_POST, AuthorIdRole) if item else None
        author_id = author_id or (self._thread.author_id if self._thread else None)
        if author_id:
            self.authorRequested.emit(author_id)

    # -- posts -----------------------------------------------------------------------------------------------------

    def post_items(self) -> list[QTreeWidgetItem]:
        found: list[QTreeWidgetItem] = []
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop(0)
            found.append(item)
            stack[0:0] = [item.child(i) for i in range(item.childCount())]
        return found

    def selected_post_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(COL_POST, PostIdRole) if item else None

    def select_post(self, post_id: str) -> None:
        for item in self.post_items():
            if item.data(COL_POST, PostIdRole) == post_id:
                self.tree.setCurrentItem(item)
                return

    def _item_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        if column == COL_LINK:
            self._open_url(item.data(COL_POST, UrlRole))

    def _item_activated(self, item: QTreeWidgetItem, column: int) -> None:
        self._open_url(item.data(COL_POST, UrlRole))

    def _open_selected(self) -> None:
        item = self.tree.currentItem() or self.tree.topLevelItem(0)
        if item is not None:
            self._open_url(item.data(COL_POST, UrlRole))

    @staticmethod
    def _open_url(url: str | None) -> None:
        if url and url.startswith(("https://", "http://")):
            QDesktopServices.openUrl(QUrl(url))

    # -- status ----------------------------------------------------------------------------------------------------

    def _toggle_done(self) -> None:
        if self._thread is None:
            return
        if self._thread.status == "done":
            self.reopenRequested.emit(self._thread.id)
        else:
            self.doneRequested.emit(self._thread.id)

    def _snooze_menu(self) -> QMenu:
        menu = QMenu(self)
        for label, compute in snooze_choices():
            action = menu.addAction(label)
            action.triggered.connect(lambda _=False, c=compute: self._snooze(c))
        return menu

    def _snooze(self, compute: Callable[[datetime], datetime]) -> None:
        if self._thread is not None:
            self.snoozeRequested.emit(self._thread.id, compute(self._clock()))
