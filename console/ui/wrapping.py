"""Row heights that follow wrapped text, so a long customer post is shown whole instead of cut to two lines."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QTreeView

_PADDING = 10


class WrappingDelegate(QStyledItemDelegate):
    """Sizes a column's cells from the column's current width; the view relayouts when a column is resized."""

    def __init__(self, view: QTreeView, column: int) -> None:
        super().__init__(view)
        self._view = view
        self._column = column
        view.header().sectionResized.connect(self._section_resized)

    def _section_resized(self, section: int, _old: int, _new: int) -> None:
        if section == self._column:
            self._view.doItemsLayout()

    def _depth(self, index: QModelIndex | QPersistentModelIndex) -> int:
        depth, parent = 0, index.parent()
        while parent.isValid():
            depth, parent = depth + 1, parent.parent()
        return depth

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        base = super().sizeHint(option, index)
        if index.column() != self._column:
            return base
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        indent = self._view.indentation() * (self._depth(index) + (1 if self._view.rootIsDecorated() else 0))
        icon = option.decorationSize.width() + 8
        width = max(80, self._view.columnWidth(self._column) - indent - icon - _PADDING)
        rect = option.fontMetrics.boundingRect(0, 0, width, 100_000, int(Qt.TextFlag.TextWordWrap), text)
        return QSize(base.width(), max(base.height(), rect.height() + _PADDING))
