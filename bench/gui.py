"""GUI figures of the real app on a benchmark inbox: cold start, scrolling memory, view switches, loop stalls.

Each mode runs in a process of its own (``bench/run.py`` starts them with ``QT_QPA_PLATFORM=offscreen``, a private
HOME and the null keyring), so a figure such as peak RSS belongs to that process alone. The window is the real one:
``console.app.main(["--db", inbox])`` builds it exactly as ``tend --db inbox`` does; this module only watches it.

    python bench/gui.py cold   --db INBOX --t0 EPOCH   # cold_start_s: process start to a painted, populated inbox
    python bench/gui.py scroll --db INBOX              # view_switch_ms, sort_priority_ms, scroll_peak_rss_mb
    python bench/gui.py stall  --db INBOX --posts N    # max_loop_stall_ms while the real sync ingests N posts
    python bench/gui.py stall  --db INBOX --trace-stalls 100   # and print the Qt stack of each stall over 100 ms

Prints ``name: value`` lines.
"""

from __future__ import annotations

import time

PROCESS_START = time.time()  # before any import: the figure includes Python, PySide6 and the app being loaded

import argparse  # noqa: E402
import functools  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

STALL_TICK_MS = 5
GIVE_UP_S = 600.0
BENCH_ACCOUNT_ID = "mastodon:bench-local"


def rss_mb() -> float:
    """Current resident set size (``/proc``), for the before/after figures next to the peak."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """This process's peak RSS in MiB: ``VmHWM``, the high-water mark of its own address space.

    Not ``getrusage(...).ru_maxrss``: on Linux a child started by fork and exec inherits its parent's ``ru_maxrss``,
    so under ``bench/run.py`` (gigabytes of synthetic rows at 1M posts) it reported the benchmark's memory.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_figures(figures: dict[str, object]) -> None:
    for name, value in figures.items():
        if isinstance(value, float):
            value = f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
        print(f"{name}: {value}", flush=True)


class FirstPaint:
    """Calls ``then(window)`` once the thread list's viewport has painted with rows in its model.

    Installed on the QApplication before the app builds its window, so it sees the very first paint. The callback
    runs from a zero timer, i.e. after that paint has finished.
    """

    def __init__(self, then: Callable[[object], None]) -> None:
        from PySide6.QtCore import QEvent, QObject, QTimer
        from PySide6.QtWidgets import QApplication, QTreeView

        outer = self

        class Filter(QObject):
            def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
                if outer.done or event.type() != QEvent.Type.Paint:
                    return False
                tree = watched.parent()
                if isinstance(tree, QTreeView) and tree.objectName() == "threadList" and tree.viewport() is watched:
                    model = tree.model()
                    if model is not None and model.rowCount() > 0:
                        outer.done = True
                        QTimer.singleShot(0, lambda: then(tree.window()))
                return False

        self.done = False
        self._filter = Filter()
        QApplication.instance().installEventFilter(self._filter)


def start_app(db: Path) -> None:
    """Run the real app on ``db`` until its window closes (``console.app.main``: the path ``tend --db`` takes)."""
    from console.app import main

    main(["--db", str(db)])


def make_qapplication() -> object:
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([sys.argv[0]])


def close_later(window: object) -> None:
    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, window.close)


def give_up_after(seconds: float) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def give_up() -> None:
        print("error: gave up waiting", flush=True)
        for widget in QApplication.topLevelWidgets():
            widget.close()

    timer = QTimer(QApplication.instance(), singleShot=True, interval=int(seconds * 1000))
    timer.timeout.connect(give_up)
    timer.start()


# -- cold start --------------------------------------------------------------------------------------------------------


def run_cold(db: Path, t0: float) -> dict[str, object]:
    figures: dict[str, object] = {}
    make_qapplication()

    def painted(window: object) -> None:
        figures["cold_start_s"] = time.time() - t0
        figures["cold_start_in_process_s"] = time.time() - PROCESS_START
        figures["cold_start_rss_mb"] = rss_mb()
        close_later(window)

    FirstPaint(painted)
    give_up_after(GIVE_UP_S)
    start_app(db)
    return figures


# -- scrolling and view switches ---------------------------------------------------------------------------------------


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def measure_views(window: object, app: object) -> dict[str, object]:
    """Select each sidebar view as a click would; time until its first page is in the model (and painted)."""
    from console.store import Order, View, ViewKind

    kinds = (ViewKind.NEEDS_REPLY, ViewKind.ESCALATING, ViewKind.UNMENTIONED, ViewKind.OPEN, ViewKind.SNOOZED,
             ViewKind.DONE)
    in_model: list[float] = []
    painted: list[float] = []
    sizes: dict[str, int] = {}
    for _round in range(3):
        for kind in kinds:
            start = time.perf_counter()
            window.sidebar.select_view(View(kind))
            in_model.append((time.perf_counter() - start) * 1000)
            window.thread_list.viewport().repaint()
            painted.append((time.perf_counter() - start) * 1000)
            sizes[kind.value] = window.model.rowCount()
            app.processEvents()
    figures: dict[str, object] = {
        "view_switch_ms": statistics.median(in_model),
        "view_switch_worst_ms": max(in_model),
        "view_switch_painted_ms": statistics.median(painted),
    }
    # Sorting "Needs reply" by priority, as the order box does.
    window.sidebar.select_view(View(ViewKind.NEEDS_REPLY))
    box = window.order_box
    priority = box.findData(Order.PRIORITY.value)
    latest = box.findData(Order.LATEST.value)
    samples = []
    for _ in range(5):
        box.setCurrentIndex(latest)
        samples.append(timed(lambda: box.setCurrentIndex(priority)))
    figures["sort_priority_ms"] = statistics.median(samples)
    return figures


def largest_view(window: object) -> object:
    """The sidebar view with the most threads (the badge counts, one index-only count each)."""
    from console.store import View, ViewKind
    from console.store.queries import view_counts

    reader = getattr(window, "_reader", None)
    counts = view_counts(reader.db) if reader is not None else None
    if not counts:
        return View(ViewKind.DONE)
    kind = max((k for k in counts if k is not ViewKind.ESCALATING), key=lambda k: counts[k])
    return View(kind)


def scroll_to_end(window: object, app: object) -> dict[str, object]:
    """Scroll the largest view end to end: drag the scroll bar to the bottom again and again (as a user hunting for
    the oldest thread would) until the view has no more, then page back up to the top one screen at a time, so
    every row of the view is painted once and memory shows what the list keeps, not only what it has seen last."""
    view = largest_view(window)
    window.sidebar.select_view(view)
    app.processEvents()
    bar = window.thread_list.verticalScrollBar()
    model = window.model
    rss_before = rss_mb()
    start = time.perf_counter()
    steps = 0
    while model.canFetchMore():
        bar.setValue(bar.maximum())  # at the maximum, QAbstractItemView asks the model to fetchMore
        app.processEvents()
        steps += 1
        if steps > 1_000_000:
            break
    to_end = time.perf_counter() - start
    pages_before = getattr(model, "pages_read", 0)
    start = time.perf_counter()
    screens = 0
    while bar.value() > bar.minimum():
        bar.setValue(bar.value() - bar.pageStep())
        app.processEvents()
        screens += 1
    back = time.perf_counter() - start
    return {
        "scroll_view": view.kind.value,
        "scroll_rows": model.rowCount(),
        "scroll_s": to_end,
        "scroll_back_screens": screens,
        "scroll_back_s": back,
        "scroll_pages_read": getattr(model, "pages_read", 0) - pages_before,
        "scroll_cached_rows": getattr(model, "cached_row_count", model.rowCount()),
        "scroll_rss_before_mb": rss_before,
        "scroll_rss_after_mb": rss_mb(),
        "scroll_peak_rss_mb": peak_rss_mb(),
    }


def run_scroll(db: Path) -> dict[str, object]:
    figures: dict[str, object] = {}
    app = make_qapplication()

    def painted(window: object) -> None:
        try:
            figures.update(measure_views(window, app))
            figures.update(scroll_to_end(window, app))
        finally:
            close_later(window)

    FirstPaint(painted)
    give_up_after(GIVE_UP_S)
    start_app(db)
    return figures


# -- event-loop stalls while syncing -----------------------------------------------------------------------------------


class StallMeter:
    """A precise timer every ``STALL_TICK_MS``: how late each tick fires is how long the loop was busy elsewhere."""

    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, Qt, QTimer

        self.worst_ms = 0.0
        self.late: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer(interval=STALL_TICK_MS)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._last = 0
        self.on_tick: Callable[[], None] | None = None

    def start(self) -> None:
        self._clock.start()
        self._last = self._clock.nsecsElapsed()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed()
        late = max(0.0, (now - self._last) / 1e6 - STALL_TICK_MS)
        self._last = now
        self.late.append(late)
        self.worst_ms = max(self.worst_ms, late)
        if self.on_tick is not None:
            self.on_tick()


class StallTracer:
    """Diagnosis (``--trace-stalls MS``): a watchdog thread that prints the Qt thread's stack when no tick has
    come for ``MS`` milliseconds, once per stall, to stderr. Off by default: sampling costs a little GIL time."""

    def __init__(self, meter: StallMeter, threshold_ms: float) -> None:
        import threading

        self._meter = meter
        self._threshold = threshold_ms / 1000
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stall-tracer", daemon=True)
        self.last_tick = 0.0  # nothing to watch until the meter's first tick
        meter.on_tick = self._ticked
        self._thread.start()

    def _ticked(self) -> None:
        self.last_tick = time.perf_counter()

    def _watch(self) -> None:
        import threading
        import traceback

        reported_for = 0.0
        while not self._stop.wait(0.005):
            since = self.last_tick
            if since and time.perf_counter() - since > self._threshold and since != reported_for:
                reported_for = since
                frames = sys._current_frames()
                frame = frames.get(self._main)
                stack = "".join(traceback.format_stack(frame)[-12:]) if frame else "(no frame)"
                # The other threads too: the Qt thread may be waiting for the GIL one of them holds.
                names = {thread.ident: thread.name for thread in threading.enumerate()}
                others = "".join(
                    f"  [{names.get(ident, ident)}]\n" + "".join(traceback.format_stack(other)[-4:])
                    for ident, other in frames.items()
                    if ident not in (self._main, threading.get_ident())
                )
                print(f"--- loop busy > {self._threshold * 1000:.0f} ms:\n{stack}--- other threads:\n{others}",
                      file=sys.stderr, flush=True)

    def stop(self) -> None:
        self._stop.set()


def start_server(posts: int) -> tuple[subprocess.Popen[str], int]:
    server = subprocess.Popen([sys.executable, str(REPO_ROOT / "bench" / "mastodon_server.py"), "--posts", str(posts)],
                              stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline() if server.stdout else ""
    if not line.startswith("port: "):
        server.kill()
        raise SystemExit(f"the benchmark server did not start: {line!r}")
    return server, int(line.split()[1])


def add_bench_account(db: Path, port: int) -> None:
    from console.domain import Account
    from console.store import Inbox

    inbox = Inbox.open(db)
    try:
        inbox.ensure_account(Account(id=BENCH_ACCOUNT_ID, network="mastodon", handle="@shop@127.0.0.1",
                                     server_url=f"http://127.0.0.1:{port}", display_name="Bench shop", remote_id="1"))
    finally:
        inbox.close()


def run_stall(db: Path, posts: int, trace_ms: float | None = None) -> dict[str, object]:
    """The real app, its real sync engine and Mastodon connector, against a local server holding ``posts`` posts."""
    import console.ui.application as application
    from console.services.connectors import connectors_for
    from console.sync import SyncEngine

    server, port = start_server(posts)
    figures: dict[str, object] = {}
    try:
        add_bench_account(db, port)
        app = make_qapplication()
        meter = StallMeter()
        if trace_ms:
            StallTracer(meter, trace_ms)
        ingest: dict[str, float] = {}

        class WatchedEngine(SyncEngine):
            """The app's engine, noting when the bench account's first sync starts and ends."""

            async def sync_account(self, connector: object) -> object:
                bench = connector.account.id == BENCH_ACCOUNT_ID
                if bench:
                    ingest["start"] = time.perf_counter()
                    meter.start()
                result = await super().sync_account(connector)
                if bench:
                    ingest["end"] = time.perf_counter()
                    meter.stop()
                    figures["stall_new_posts"] = result.new_posts
                    figures["stall_sync_error"] = result.error or "none"
                    from PySide6.QtWidgets import QApplication

                    for widget in QApplication.topLevelWidgets():
                        if widget.objectName() == "mainWindow":
                            close_later(widget)
                return result

        # Only the token lookup is replaced (no keyring here); the connector factory and everything else are real.
        application.connectors_for = functools.partial(
            connectors_for, load_token=lambda account_id, _kind: "bench-token" if account_id == BENCH_ACCOUNT_ID else None
        )
        application.SyncEngine = WatchedEngine
        give_up_after(GIVE_UP_S)
        start_app(db)
        del app
        if "end" in ingest:
            seconds = ingest["end"] - ingest["start"]
            figures["stall_ingest_s"] = seconds
            figures["stall_ingest_posts_per_s"] = int(figures.get("stall_new_posts", 0)) / max(seconds, 1e-9)
        late = sorted(meter.late)
        figures["max_loop_stall_ms"] = meter.worst_ms
        if late:
            figures["loop_stall_p99_ms"] = late[int(len(late) * 0.99) - 1 if len(late) > 1 else 0]
            figures["loop_ticks"] = len(late)
            figures["loop_ticks_late_over_20ms"] = sum(1 for v in late if v > 20)
    finally:
        server.kill()
        server.wait()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("cold", "scroll", "stall"))
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--t0", type=float, help="cold: the epoch just before this process was started")
    parser.add_argument("--posts", type=int, default=50_000, help="stall: posts the local server holds")
    parser.add_argument("--trace-stalls", type=float, metavar="MS", help="stall: print the Qt thread's stack to "
                        "stderr whenever the loop is busy longer than MS (diagnosis; perturbs the figure slightly)")
    args = parser.parse_args(argv)
    if args.mode == "cold":
        figures = run_cold(args.db, args.t0 if args.t0 is not None else PROCESS_START)
    elif args.mode == "scroll":
        figures = run_scroll(args.db)
    else:
        figures = run_stall(args.db, args.posts, args.trace_stalls)
    print_figures(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
