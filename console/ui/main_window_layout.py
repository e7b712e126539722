"""The main window's widgets and panes, built by plain functions.

They only set widgets up and arrange them; every connection to the window's slots is made by the window itself, so
the wiring stays readable in one place. Object names are what tests and saved settings find the widgets by.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QMainWindow,
    QSplitter,
    QToolBar,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from console.store import Order
from console.ui.thread_list_model import (
    COL_AUTHOR,
    COL_HEAT,
    COL_INFLUENCE,
    COL_RESHARES,
    COL_STATUS,
    COL_TEXT,
    COL_WAITING,
    ThreadListModel,
)

COLUMN_WIDTHS = {COL_AUTHOR: 170, COL_INFLUENCE: 70, COL_RESHARES: 70, COL_HEAT: 50, COL_WAITING: 70, COL_STATUS: 64}
ORDER_LABELS = {Order.PRIORITY: "Most urgent first", Order.LATEST: "Latest first"}
ORDER_TOOLTIP = (
    "Most urgent first: escalating conversations, then heat, the customer's influence, VIP and how long\n"
    "they have waited (from your opening time if they wrote while you were closed) decide the order of\n"
    "Needs reply; Escalating is hottest first. Latest first: newest activity on top."
)
# Sidebar, thread list, conversation: the list and the conversation share the width the sidebar does not need.
PANE_STRETCH = (0, 3, 4)
PANE_SIZES = [190, 560, 650]


def make_thread_list(model: ThreadListModel) -> QTreeView:
    """A table of conversations, one selected at a time; the text column takes whatever width is left."""
    view = QTreeView()
    view.setObjectName("threadList")
    view.setModel(model)
    view.setRootIsDecorated(False)
    view.setUniformRowHeights(True)
    view.setAllColumnsShowFocus(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    header = view.header()
    header.setStretchLastSection(False)
    for column, width in COLUMN_WIDTHS.items():
        header.resizeSection(column, width)
    header.setSectionResizeMode(COL_TEXT, QHeaderView.ResizeMode.Stretch)
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    return view


def make_search_box() -> QLineEdit:
    box = QLineEdit()
    box.setObjectName("searchBox")
    box.setPlaceholderText("Search messages and people   ( / )")
    box.setClearButtonEnabled(True)
    return box


def make_order_box() -> QComboBox:
    """The sort order chooser; each item's data is the ``Order`` value, which is also what settings store."""
    box = QComboBox()
    box.setObjectName("orderBox")
    box.setToolTip(ORDER_TOOLTIP)
    for order, label in ORDER_LABELS.items():
        box.addItem(label, order.value)
    return box


def add_search_toolbar(window: QMainWindow, search_box: QLineEdit, order_box: QComboBox) -> QToolBar:
    toolbar = QToolBar("Search")
    toolbar.setObjectName("searchToolbar")  # named, so saveState/restoreState can find it again
    toolbar.setMovable(False)
    toolbar.addWidget(search_box)
    toolbar.addWidget(order_box)
    window.addToolBar(toolbar)
    return toolbar


def make_list_pane(banner: QWidget, thread_list: QTreeView) -> QWidget:
    """The escalation banner sits above the list it is about, not above the whole window."""
    pane = QWidget()
    layout = QVBoxLayout(pane)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(banner)
    layout.addWidget(thread_list)
    return pane


def make_conversation(thread_view: QWidget, composer: QWidget) -> QSplitter:
    """The conversation above the composer, the conversation getting most of the height."""
    conversation = QSplitter(Qt.Orientation.Vertical)
    conversation.setObjectName("conversationSplitter")
    conversation.addWidget(thread_view)
    conversation.addWidget(composer)
    conversation.setStretchFactor(0, 3)
    conversation.setStretchFactor(1, 1)
    return conversation


def make_main_splitter(sidebar: QWidget, list_pane: QWidget, conversation: QWidget) -> QSplitter:
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.setObjectName("mainSplitter")
    for pane in (sidebar, list_pane, conversation):
        splitter.addWidget(pane)
    for index, stretch in enumerate(PANE_STRETCH):
        splitter.setStretchFactor(index, stretch)
    splitter.setSizes(PANE_SIZES)
    return splitter
