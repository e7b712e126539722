"""Collect Python garbage on the Qt thread only.

Python's cycle collector runs in whichever thread happens to allocate when a threshold is crossed: here the inbox
writer or the keyring thread. If a cycle holds a Qt object, Qt then destroys it from that thread ("Timers cannot be
stopped from another thread") and the process can crash. Automatic collection is switched off and the same work is
done from a timer on the Qt thread (the approach qutebrowser takes for the same reason).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1000


class MainThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._timer = QTimer(self, interval=interval_ms)
        self._timer.timeout.connect(self.collect)
        gc.disable()
        self._timer.start()

    def collect(self) -> None:
        """Collect the generations whose thresholds have been crossed, as the automatic collector would."""
        threshold0, threshold1, threshold2 = gc.get_threshold()
        count0, count1, count2 = gc.get_count()
        if count0 > threshold0:
            generation = 2 if count2 > threshold2 else 1 if count1 > threshold1 else 0
            gc.collect(generation)

    def freeze_survivors(self) -> None:
        """Exempt everything alive now from future collections (``gc.freeze``): call once the window is up.

        Modules, Qt wrappers and the window live for the whole session; a full collection walked them all again
        each time (tens of milliseconds on the Qt thread, one of the longest event-loop stalls while syncing).
        """
        gc.freeze()

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()
