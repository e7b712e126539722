"""One writing Tend per inbox: an advisory lock on a lock file named after the inbox, held for as long as the writer is open.

SQLite alone would let two Tend processes write the same file safely row by row, but not safely as programs: both
would send the same queued replies, both would run a migration from the same starting version, and each would
advance cursors the other has already moved past. So the writer takes an exclusive, non-blocking OS lock first and
a second Tend is told plainly where the inbox is open. Readers (the window's read-only connection, ``tend export``)
never take it.

The lock is the operating system's (``flock`` on Linux and macOS, ``msvcrt.locking`` on Windows), so a process that
crashes or is killed releases it with its last file descriptor: a stale ``.lock`` file never blocks anyone. Within one
process the lock is shared and counted (tests and the app may open the same inbox twice in one process); it
guards against other processes only.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from console.store.errors import InboxLocked, InboxUnavailable

log = logging.getLogger(__name__)

# Windows forbids reading a locked byte range, so the lock sits past the pid the second process wants to read.
_WINDOWS_LOCK_OFFSET = 4096


def lock_dir() -> Path:
    """Where lock files live: this user's folder under the system temporary directory.

    Not next to the inbox: the owner's folder (often a synced one) keeps only the inbox and SQLite's own files, and a
    lock file must never be copied along with a backup. The temporary directory is the same for every process the
    owner starts (launcher, terminal, scheduled ``tend sync``), unlike ``XDG_RUNTIME_DIR``, which cron jobs lack.
    """
    uid = os.getuid() if hasattr(os, "getuid") else None
    return Path(tempfile.gettempdir()) / ("tend-locks" if uid is None else f"tend-locks-{uid}")


def lock_path(inbox: Path) -> Path:
    """The lock file for ``inbox``: named after the inbox's real path, so every way of spelling it meets there."""
    real = os.path.normcase(os.path.realpath(Path(inbox).absolute()))
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return lock_dir() / f"{Path(inbox).name[:40]}-{digest}.lock"


def _private_folder(folder: Path) -> bool:
    """Create the lock folder for this user only; refuse one someone else made (or a symlink planted there)."""
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError as error:
        log.warning("cannot use %s for inbox locks: %s", folder, error)
        return False
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        log.warning("%s is not a folder; opening the inbox without a lock", folder)
        return False
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        log.warning("%s belongs to another user; opening the inbox without a lock", folder)
        return False
    return True


@dataclass(slots=True)
class _Held:
    fd: int
    users: int
    path: Path


_held: dict[str, _Held] = {}
_registry_guard = threading.Lock()


class InboxLock:
    """This process's claim on one inbox; ``release`` once (further calls do nothing)."""

    def __init__(self, key: str | None) -> None:
        self._key = key

    @property
    def held(self) -> bool:
        return self._key is not None

    def release(self) -> None:
        key, self._key = self._key, None
        if key is None:
            return
        with _registry_guard:
            entry = _held.get(key)
            if entry is None:
                return
            entry.users -= 1
            if entry.users > 0:
                return
            del _held[key]
            _release_file(entry.fd, entry.path)


def acquire_inbox_lock(inbox: Path) -> InboxLock:
    """Claim ``inbox`` for writing, or raise ``InboxLocked`` naming the process that has it.

    Where no lock file can be made (no usable temporary folder), Tend goes on without one, as it did before locks:
    SQLite still keeps the file itself consistent.
    """
    path = lock_path(inbox)
    key = str(path)
    with _registry_guard:
        entry = _held.get(key)
        if entry is not None:
            entry.users += 1
            return InboxLock(key)
        if not _private_folder(path.parent):
            return InboxLock(None)
        for _attempt in range(20):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
            except OSError as error:
                log.warning("no lock file for %s (%s); opening it without one", inbox, error.strerror)
                return InboxLock(None)
            try:
                if not _try_lock(fd):
                    owner = _read_pid(fd)
                    raise InboxLocked(_locked_message(Path(inbox), owner), pid=owner)
                if not _still_linked(fd, path):
                    # The previous holder removed this file as we opened it: lock the one now at the path instead.
                    _unlock(fd)
                    os.close(fd)
                    continue
                _write_pid(fd)
            except BaseException:
                os.close(fd)
                raise
            _held[key] = _Held(fd, 1, path)
            return InboxLock(key)
        raise InboxUnavailable(f"Tend could not claim the inbox at {inbox}: its lock file keeps changing.")


def _still_linked(fd: int, path: Path) -> bool:
    """True when ``fd`` is still the file at ``path`` (not one a releasing holder has just removed)."""
    if sys.platform == "win32":  # an open file cannot be removed there, so it cannot have been swapped
        return True
    try:
        here, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _release_file(fd: int, path: Path) -> None:
    """Remove the lock file while still holding the lock (so no one can lock a file about to vanish), then let go.

    Leaving no ``.lock`` file behind keeps the inbox's folder as the owner left it.
    """
    if sys.platform != "win32":
        try:
            os.unlink(path)
        except OSError:
            pass
    _unlock(fd)
    os.close(fd)
    if sys.platform == "win32":  # fails harmlessly while another process has it open
        try:
            os.unlink(path)
        except OSError:
            pass


def _locked_message(inbox: Path, pid: int | None) -> str:
    who = f"another Tend window (pid {pid})" if pid else "another Tend window"
    return (
        f"This inbox is already open in {who}: {inbox}. Close that window first (or wait for its sync to finish), "
        "or open a different inbox with --db. Nothing was changed."
    )


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode("ascii", "replace").strip()
        return int(text.split()[0]) if text else None
    except (OSError, ValueError, IndexError):
        return None


def _write_pid(fd: int) -> None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    except OSError as error:  # the pid is only for the message; the lock itself is what counts
        log.debug("could not record the pid in the inbox lock file: %s", error)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows CI only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError as error:  # e.g. a network file system without locks: do not lock anyone out
            if error.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                log.warning("the file system does not support locking; opening the inbox without a lock")
                return True
            raise
        return True

    def _unlock(fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError:
            pass
