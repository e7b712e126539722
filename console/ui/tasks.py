"""Run a coroutine from a widget without blocking the Qt thread, and never let its failure vanish silently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from console.connectors import ConnectorError
from console.store import InboxError

log = logging.getLogger(__name__)


def owner_message(error: BaseException) -> str:
    """Words for the owner: our own errors already are; anything else is a bug, described without internals."""
    if isinstance(error, (InboxError, ConnectorError)):
        return str(error)
    return "Something went wrong inside Tend. Your messages are safe; details are in the log."


def run_task(
    coro: Coroutine[Any, Any, Any],
    *,
    on_error: Callable[[str], None],
    on_done: Callable[[], None] | None = None,
) -> asyncio.Future[Any]:
    """Schedule ``coro`` on the running (qasync) loop; report failures through ``on_error``."""
    task = asyncio.ensure_future(coro)

    def finished(done: asyncio.Future[Any]) -> None:
        if done.cancelled():
            return
        error = done.exception()
        if error is not None:
            if not isinstance(error, (InboxError, ConnectorError)):
                log.error("background task failed", exc_info=error)
            on_error(owner_message(error))
        elif on_done is not None:
            on_done()

    task.add_done_callback(finished)
    return task
