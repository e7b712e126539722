"""How much of X's monthly read allowance each account has used, kept between runs in ``x-usage.json``.

X meters reads per month by access tier, and the connector counts them (``console.connectors.x_reads``) but writes
no files. This keeps, per account, the owner's cap and the month's count beside the inbox::

    {"x:17200003": {"cap": 10000, "month": "2026-08", "reads": 8760}}

Nothing in it is secret (the account id is the public numeric user id; the client id and tokens stay in the
keyring). Every call reads the file afresh and every change is written whole (temporary file, then ``os.replace``):
the GUI, ``tend sync --once`` and the account service may each hold a store on the same file, and none may undo
another's count with a stale copy. A file that cannot be read is set aside as ``x-usage.broken.json`` and Tend
starts from nothing: an unknown count is better than no sync at all.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

USAGE_FILE = "x-usage.json"
_LOCK = threading.Lock()  # one writer at a time within this process (the loop and the keyring thread)


def _count(value: Any) -> int | None:
    """A non-negative whole number, or None (JSON has no other integers worth trusting here)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _entry(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    entry: dict[str, Any] = {"cap": _count(raw.get("cap"))}
    month, reads = raw.get("month"), _count(raw.get("reads"))
    if isinstance(month, str) and reads is not None:
        entry.update(month=month, reads=reads)
    return entry


class XUsageStore:
    """Per-account monthly read cap and count for X, in one small JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def in_folder(cls, folder: Path) -> XUsageStore:
        """The store beside an inbox (``folder`` is the inbox file's folder)."""
        return cls(folder / USAGE_FILE)

    # -- reading ---------------------------------------------------------------------------------------------------

    def entries(self) -> dict[str, dict[str, Any]]:
        """Everything kept, checked entry by entry (an entry that makes no sense is left out)."""
        with _LOCK:
            return self._load()

    def cap(self, account_id: str) -> int | None:
        """The owner's monthly read cap for this account (None: not set, so Tend counts without stopping)."""
        return self.entries().get(account_id, {}).get("cap")

    def read_state(self, account_id: str) -> dict[str, Any]:
        """The month's count as the connector takes it back (``{"month": ..., "reads": ...}``; empty if none)."""
        entry = self.entries().get(account_id, {})
        return {"month": entry["month"], "reads": entry["reads"]} if "month" in entry else {}

    # -- changing --------------------------------------------------------------------------------------------------

    def set_cap(self, account_id: str, cap: int | None) -> None:
        """Set (or, with None, clear) the cap; the month's count is kept. Raises ``OSError`` if it cannot be saved."""
        if cap is not None and _count(cap) is None:
            raise ValueError("a monthly read cap is a whole number, 0 or more")
        with _LOCK:
            data = self._load()
            data.setdefault(account_id, {"cap": None})["cap"] = cap
            self._write(data)

    def save_read_state(self, account_id: str, state: Mapping[str, Any]) -> None:
        """Keep the count the connector hands over (``on_read_state``); the cap is kept."""
        month, reads = state.get("month"), _count(state.get("reads"))
        if not isinstance(month, str) or reads is None:
            log.warning("ignoring an X read count that makes no sense for %s", account_id)
            return
        with _LOCK:
            data = self._load()
            data.setdefault(account_id, {"cap": None}).update(month=month, reads=reads)
            self._write(data)

    def forget(self, account_id: str) -> None:
        with _LOCK:
            data = self._load()
            if data.pop(account_id, None) is not None:
                self._write(data)

    # -- the file --------------------------------------------------------------------------------------------------

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as error:
            return self._unreadable(error)
        try:
            raw = json.loads(text)
        except ValueError as error:
            return self._unreadable(error)
        if not isinstance(raw, dict):
            return self._unreadable(ValueError("not a JSON object"))
        entries = {}
        for account_id, value in raw.items():
            entry = _entry(value)
            if entry is None:
                log.warning("%s: left out the entry of %s, which makes no sense", self.path, account_id)
            else:
                entries[str(account_id)] = entry
        return entries

    def _unreadable(self, error: BaseException) -> dict[str, dict[str, Any]]:
        broken = self.path.with_name("x-usage.broken.json")
        log.warning("the X read counts in %s cannot be read (%s); starting from nothing, the file is kept as %s",
                    self.path, error, broken.name)
        try:
            os.replace(self.path, broken)
        except OSError:
            pass
        return {}

    def _write(self, data: Mapping[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=1, sort_keys=True)
                file.write("\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except OSError:
            temporary.unlink(missing_ok=True)
            raise


__all__ = ["USAGE_FILE", "XUsageStore"]
