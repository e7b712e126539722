"""Where the owner's canned replies and their use live on disk: JSON next to the inbox.

Nothing in ``console.replies`` or the store persists the library (or which canned reply went to whom), so the UI keeps
both as small JSON files beside the inbox database: ``canned_replies.json`` (the exported format, so a copy of it
is also a valid import) and ``canned_sent.json`` (the history ``console.replies.repeat`` reads). A missing library
starts from the shipped starter set; a damaged one is set aside, never silently overwritten.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path

from console.domain import iso_utc, parse_iso
from console.replies.canned import CannedError, CannedLibrary, starter_library
from console.replies.repeat import SentCanned

log = logging.getLogger(__name__)

LIBRARY_FILE = "canned_replies.json"
HISTORY_FILE = "canned_sent.json"
HISTORY_LIMIT = 2000


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class CannedStore:
    """The library (loaded once, saved on every change) and the record of canned replies sent."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.library_path = folder / LIBRARY_FILE
        self.history_path = folder / HISTORY_FILE
        self.library = self._load_library()
        self.on_changed: list = []

    def _load_library(self) -> CannedLibrary:
        if not self.library_path.exists():
            return starter_library()
        try:
            return CannedLibrary.from_json(self.library_path.read_text(encoding="utf-8"))
        except (OSError, CannedError) as error:
            broken = self.library_path.with_suffix(".broken.json")
            log.warning("canned replies at %s unreadable (%s); kept as %s", self.library_path, error, broken)
            try:
                os.replace(self.library_path, broken)
            except OSError:
                pass
            return starter_library()

    def replace_library(self, library: CannedLibrary) -> None:
        self.library = library
        self.save()

    def save(self) -> None:
        _write_atomically(self.library_path, self.library.to_json())
        for listener in list(self.on_changed):
            listener()

    # -- history ---------------------------------------------------------------------------------------------------

    def history(self) -> list[SentCanned]:
        try:
            rows = json.loads(self.history_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        found = []
        for row in rows if isinstance(rows, list) else []:
            try:
                found.append(SentCanned(str(row["canned_id"]), str(row["recipient"]), str(row["thread_id"]),
                                        parse_iso(str(row["sent_at"]))))
            except (KeyError, TypeError, ValueError):
                continue
        return found

    def record_sent(self, canned_ids: list[str], recipient: str, thread_id: str, at: datetime) -> None:
        if not canned_ids:
            return
        rows = [{"canned_id": r.canned_id, "recipient": r.recipient_author_id, "thread_id": r.thread_id,
                 "sent_at": iso_utc(r.sent_at)} for r in self.history()]
        rows += [{"canned_id": c, "recipient": recipient, "thread_id": thread_id, "sent_at": iso_utc(at)}
                 for c in dict.fromkeys(canned_ids)]
        _write_atomically(self.history_path, json.dumps(rows[-HISTORY_LIMIT:], ensure_ascii=False))
