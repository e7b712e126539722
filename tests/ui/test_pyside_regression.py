"""PySide6 6.12.0 on Python 3.11 decrements None's refcount whenever a C++ call hands Python an empty QVariant, and
after a few thousand calls the process aborts (``Fatal Python error: none_dealloc``). We pin a version without the
bug; this test makes the crash happen here, not in an owner's hands, if the pin ever slips."""

from __future__ import annotations

import PySide6
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from console.ui.thread_list_model import ThreadListModel


class _DefersToQt(QAbstractTableModel):
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 1

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 1

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        return super().headerData(section, orientation, role)


def test_pinned_pyside_is_not_the_crashing_release() -> None:
    assert PySide6.__version__ != "6.12.0"


def test_empty_qvariant_returned_ten_thousand_times(qapp) -> None:
    model = _DefersToQt()
    for _ in range(10_000):
        assert model.headerData(0, Qt.Orientation.Vertical, Qt.ItemDataRole.DecorationRole) is None


def test_thread_list_header_ten_thousand_times(qapp, tmp_path) -> None:
    from console.store import Inbox

    inbox = Inbox.open(tmp_path / "inbox.db")
    model = ThreadListModel(inbox.db)
    for _ in range(10_000):
        assert model.headerData(0, Qt.Orientation.Vertical, Qt.ItemDataRole.ToolTipRole) is None
    inbox.close()
