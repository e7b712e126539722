"""The owner's canned replies: create, edit, delete, sort into categories, import and export as JSON."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.replies.canned import VARIABLES, CannedError, CannedLibrary, CannedReply
from console.ui.composer_canned import CannedStore

ReplyIdRole = Qt.ItemDataRole.UserRole + 1
NEW = ""


class CannedDialog(QDialog):
    """Every change is saved at once (there is no Cancel to lose work); problems are shown in words."""

    def __init__(self, store: CannedStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cannedDialog")
        self.setWindowTitle("Canned replies")
        self.resize(760, 460)
        self._store = store
        self._editing: str = NEW

        self.list = QListWidget()
        self.list.setObjectName("cannedList")
        self.list.currentItemChanged.connect(lambda item, _prev: self._edit(item))
        self.shortcut_edit = QLineEdit()
        self.shortcut_edit.setPlaceholderText("apology-dm")
        self.title_edit = QLineEdit()
        self.category_box = QComboBox()
        self.category_box.setEditable(True)
        self.body_edit = QPlainTextEdit()
        self.body_edit.setPlaceholderText(
            "Hi {customer_name}, … Variables: " + ", ".join("{" + v + "}" for v in VARIABLES)
            + ". Anything else in braces, like {order number}, is a blank you fill in before sending.")
        self.problem_label = QLabel()
        self.problem_label.setObjectName("cannedProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #a33;")

        self.new_button = QPushButton("New")
        self.new_button.clicked.connect(self.new_reply)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("cannedSave")
        self.save_button.clicked.connect(self.save_current)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_current)
        self.import_button = QPushButton("Import…")
        self.import_button.clicked.connect(self.import_file)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self.export_file)
        close_button = QPushButton("Close")
        close_button.clicked.connect(self.accept)

        form = QFormLayout()
        form.addRow("Shortcut  /", self.shortcut_edit)
        form.addRow("Title", self.title_edit)
        form.addRow("Category", self.category_box)
        form.addRow("Text", self.body_edit)
        form.addRow(self.problem_label)
        edit_buttons = QHBoxLayout()
        edit_buttons.addWidget(self.new_button)
        edit_buttons.addWidget(self.delete_button)
        edit_buttons.addStretch(1)
        edit_buttons.addWidget(self.save_button)
        right = QVBoxLayout()
        right.addLayout(form, 1)
        right.addLayout(edit_buttons)
        top = QHBoxLayout()
        top.addWidget(self.list, 2)
        top.addLayout(right, 3)
        bottom = QHBoxLayout()
        bottom.addWidget(self.import_button)
        bottom.addWidget(self.export_button)
        bottom.addStretch(1)
        bottom.addWidget(close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addLayout(bottom)
        self.reload()

    @property
    def library(self) -> CannedLibrary:
        return self._store.library

    def reload(self, select: str | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for reply in self.library:
            item = QListWidgetItem(f"{reply.title}\n/{reply.shortcut}" + (f" · {reply.category}" if reply.category else ""))
            item.setData(ReplyIdRole, reply.id)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.category_box.clear()
        self.category_box.addItems(self.library.categories())
        target = next((i for i in range(self.list.count()) if self.list.item(i).data(ReplyIdRole) == select), 0)
        if self.list.count():
            self.list.setCurrentRow(target)
            self._edit(self.list.item(target))
        else:
            self.new_reply()

    def _edit(self, item: QListWidgetItem | None) -> None:
        self.problem_label.clear()
        if item is None:
            return
        reply = self.library.get(item.data(ReplyIdRole))
        self._editing = reply.id
        self.shortcut_edit.setText(reply.shortcut)
        self.title_edit.setText(reply.title)
        self.category_box.setCurrentText(reply.category)
        self.body_edit.setPlainText(reply.body)

    def new_reply(self) -> None:
        self._editing = NEW
        self.list.clearSelection()
        for widget in (self.shortcut_edit, self.title_edit, self.body_edit):
            widget.clear()
        self.category_box.setCurrentText("")
        self.problem_label.clear()
        self.shortcut_edit.setFocus()

    def save_current(self) -> bool:
        values = dict(shortcut=self.shortcut_edit.text().strip().lstrip("/").lower(),
                      title=self.title_edit.text().strip(), category=self.category_box.currentText().strip(),
                      body=self.body_edit.toPlainText().strip())
        try:
            if self._editing == NEW:
                reply = self.library.add(CannedReply.create(**values))
            else:
                reply = self.library.update(CannedReply(id=self._editing, **values))
        except CannedError as error:
            self.problem_label.setText(str(error))
            return False
        self._store.save()
        self.reload(select=reply.id)
        return True

    def delete_current(self) -> None:
        if self._editing == NEW:
            return
        self.library.delete(self._editing)
        self._store.save()
        self.reload()

    # -- files -----------------------------------------------------------------------------------------------------

    def import_path(self, path: Path) -> int:
        """Add the replies in an exported file; returns how many were added."""
        try:
            imported = CannedLibrary.from_json(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            self.problem_label.setText(f"Could not read {path.name}: {error}")
            return 0
        except CannedError as error:
            self.problem_label.setText(f"{path.name} cannot be imported: {error}")
            return 0
        self._store.replace_library(self.library.merged(imported))
        self.reload()
        return len(imported)

    def export_path(self, path: Path) -> None:
        try:
            path.write_text(self.library.to_json(), encoding="utf-8")
        except OSError as error:
            self.problem_label.setText(f"Could not write {path.name}: {error}")

    def import_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import canned replies", "", "JSON files (*.json)")
        if name:
            self.import_path(Path(name))

    def export_file(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export canned replies", "canned_replies.json",
                                              "JSON files (*.json)")
        if name:
            self.export_path(Path(name))
