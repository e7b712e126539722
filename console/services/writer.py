"""All inbox writes happen on one worker thread, so neither the Qt thread nor the asyncio loop ever waits on disk.

SQLite allows one writer at a time anyway; funnelling every write through a single thread keeps them in order and
lets the UI read through its own connection (WAL) while a long batch is being written.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from console.store import Inbox

P = ParamSpec("P")
R = TypeVar("R")


class StoreWriter:
    """Owns the writing ``Inbox`` and runs calls on it in order, on its own thread."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tend-writer")
        self._closed = False

    async def call(self, method: Callable[..., R], *args: object, **kwargs: object) -> R:
        """Run ``method(inbox, *args, **kwargs)`` on the writer thread and await its result."""
        if self._closed:
            raise RuntimeError("the inbox writer is closed")
        loop = asyncio.get_running_loop()
        job = functools.partial(method, self.inbox, *args, **kwargs)
        return await asyncio.wrap_future(self._executor.submit(job), loop=loop)

    def close(self) -> None:
        """Finish the write in progress (a transaction is never cut in half), then close the connection."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True)
        self.inbox.close()
