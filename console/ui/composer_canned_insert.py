"""Canned replies into the composer's draft: by ``/shortcut``, from the Ctrl+K palette, or from the advice banner.

A canned reply is rendered with the thread's variables (customer name, signature name, business) where it is
inserted, so its unfilled ``{slots}`` are the only placeholders left for the owner; the ids used in this draft are
remembered so that, once sent, the repeat warning knows who had which reply. The library itself is kept by
``composer_canned.CannedStore``.

``CannedInsertMixin`` is a part of ``Composer`` (it reads the composer's thread, editor and canned store directly).
"""

from __future__ import annotations

from collections.abc import Sequence

from console.replies import canned as canned_rules


class CannedInsertMixin:
    """Inserting canned replies, and the dialogs that choose or edit them."""

    def _library_changed(self) -> None:
        self.editor.set_shortcuts([r.shortcut for r in self._canned.library])

    def insert_shortcut(self, shortcut: str) -> bool:
        reply = self._canned.library.by_shortcut(shortcut)
        if reply is None:
            self.messageRequested.emit(f"There is no canned reply /{shortcut}.")
            return False
        self.insert_canned([reply])
        return True

    def insert_canned(self, replies: Sequence[canned_rules.CannedReply]) -> None:
        """Insert one or several canned replies (combined) at the cursor, replacing a typed ``/shortcut``."""
        if not replies or self._thread is None:
            return
        context = self.variables()
        rendered = canned_rules.join([canned_rules.render(r.body, context) for r in replies])
        cursor = self.editor.textCursor()
        before = cursor.block().text()[: cursor.positionInBlock()]
        # A second snippet typed after the first becomes its own paragraph.
        separate = self.editor.slash_token() is None and before.strip() != ""
        self.editor.replace_token(("\n\n" if separate else "") + rendered.text)
        self._inserted += [r.id for r in replies]
        self._show_repeat(replies)
        self._evaluate()
        self.editor.setFocus()
        if rendered.slots:
            self.editor.select_next_slot()

    def variables(self) -> dict[str, str]:
        thread = self._thread
        if thread is None:
            return {}
        name = (self._target.author_name if self._target and self._target.direction == "in" else "") or (
            thread.author_name or thread.author_handle)
        handle = (self._target.author_handle if self._target and self._target.direction == "in" else "") or (
            thread.author_handle)
        return {"customer_name": name, "customer_handle": handle,
                "my_name": self._settings.signature_name or "", "business": self._business}

    def open_palette(self) -> None:
        if self._thread is None:
            return
        from console.ui.canned_palette import CannedPalette

        palette = CannedPalette(self._canned.library, parent=self)
        palette.chosen.connect(self.insert_canned)
        palette.open()
        self.palette = palette

    def open_canned_dialog(self) -> None:
        from console.ui.canned_dialog import CannedDialog

        dialog = CannedDialog(self._canned, parent=self)
        dialog.open()
        self.canned_dialog = dialog
