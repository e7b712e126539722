"""Garbage is collected on the Qt thread only, while the guard is active."""

from __future__ import annotations

import gc
import threading

from console.ui.gc_guard import MainThreadGarbageCollector


def test_automatic_collection_is_off_while_the_guard_runs_and_its_timer_collects(qapp, qtbot) -> None:
    collected_in: list[str] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            collected_in.append(threading.current_thread().name)

    guard = MainThreadGarbageCollector(interval_ms=10)
    gc.callbacks.append(note)
    try:
        assert not gc.isenabled()
        for _ in range(5000):  # plenty of container allocations: past the first threshold
            cycle: list[object] = []
            cycle.append(cycle)
        qtbot.waitUntil(lambda: bool(collected_in), timeout=2000)
        assert set(collected_in) == {threading.main_thread().name}
    finally:
        gc.callbacks.remove(note)
        guard.stop()
    assert gc.isenabled()
