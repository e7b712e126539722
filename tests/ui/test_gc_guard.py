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


def test_survivors_of_startup_are_no_longer_walked_by_collections(qapp) -> None:
    guard = MainThreadGarbageCollector(interval_ms=10_000)
    try:
        long_lived = [[n] for n in range(1000)]
        guard.freeze_survivors()
        assert gc.get_freeze_count() >= len(long_lived)
        walked = {id(obj) for generation in range(3) for obj in gc.get_objects(generation=generation)}
        assert not any(id(item) in walked for item in long_lived)  # frozen: in no generation a collection walks
    finally:
        gc.unfreeze()
        guard.stop()
