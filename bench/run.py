"""Benchmark Tend on a synthetic inbox: ingest against raw SQLite, every view's latency, and the real window.

Usage (from the repository root)::

    python bench/run.py [--posts 1000000] [--scales 100000,1000000] [--batch-size 500] [--seed N] [--repeat 15]
                        [--no-gui] [--check]

Prints one ``name: value`` line per figure so runs can be diffed or parsed: a ``scale: N`` line opens each inbox
size's block, and ``growth_*`` lines compare the largest scale with the smallest (figure ratio; ``growth_posts`` is
the size ratio, so "no faster than linear" means no growth figure above it). ``--posts`` above 100,000 also runs
100,000 unless ``--scales`` says otherwise. Everything happens in a temporary directory that is removed afterwards,
and the data is seeded, so two runs measure the same inbox.

The GUI figures (cold start, view switches, scrolling memory, event-loop stalls while syncing) come from
``bench/gui.py``, run as separate processes on the same inbox so their memory is their own.

Targets (2-core machine, 1,000,000 posts): ingest at least half of raw SQLite's rate; cold start under 1.5 s; peak
RSS under 300 MB scrolling the largest view end to end; first page of a view, switching views and sorting by
priority under 20 ms; opening the 500-post thread under 30 ms; search for common words under 50 ms; the event loop
never stalls 50 ms while 50,000 posts sync. ``targets_missed`` names any figure outside its target (``--check``
turns a miss into exit status 1). Figures without a target (cold runs, the stopword search, typing a search letter
by letter) are there to show where the next limits are.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.synthetic import END_OF_DATA, SyntheticInbox, batches, generate, iso_seconds  # noqa: E402
from console.domain import Batch, ThreadStatus  # noqa: E402
from console.store import Inbox, Order, View, ViewKind  # noqa: E402
from console.store.queries import list_threads, thread_posts  # noqa: E402

TARGET_INGEST_RATIO = 0.5
TARGET_PAGE_MS = 20.0
TARGET_THREAD_MS = 30.0
TARGET_SEARCH_MS = 50.0
TARGET_COLD_START_S = 1.5
TARGET_SCROLL_RSS_MB = 300.0
TARGET_LOOP_STALL_MS = 50.0
STALL_POSTS = 50_000
GUI_TIMEOUT_S = 900

# Owner behaviour the statuses imitate: older threads are mostly dealt with, a few are snoozed, recent ones open.
HANDLED_AFTER_DAYS = 14
DONE_SHARE = 0.88
SNOOZED_SHARE = 0.03

PAGE_SIZE = 100
THREADS_SAMPLED = 30

# Connection settings the raw baseline copies from the store, so the comparison measures what the store does per
# batch rather than how it tunes SQLite.
MIRRORED_PRAGMAS = ("journal_mode", "synchronous", "foreign_keys", "cache_size", "mmap_size", "busy_timeout",
                    "wal_autocheckpoint")

Results = dict[str, object]


class Stopwatch:
    """Wall and CPU seconds of a block: on a shared machine CPU time shows the work itself, wall time the wait."""

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def fixed_clock() -> datetime:
    """The store's clock during the run: the end of the synthetic year, so runs are repeatable."""
    return datetime.fromtimestamp(END_OF_DATA, timezone.utc)


def timed_ms(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(first run, median of ``repeat`` further runs) in milliseconds: the first shows a cold connection cache."""
    start = time.perf_counter()
    action()
    first = (time.perf_counter() - start) * 1000
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return first, statistics.median(samples)


# -- ingest ------------------------------------------------------------------------------------------------------------


def ingest_through_store(path: Path, data: SyntheticInbox, pages: list[Batch]) -> Stopwatch:
    """Feed every page through ``Inbox.apply_batch``; returns the time spent in the store."""
    inbox = Inbox.open(path, clock=fixed_clock)
    try:
        for account in data.accounts:
            inbox.ensure_account(account)
        with Stopwatch() as watch:
            for page in pages:
                inbox.apply_batch(page)
        return watch
    finally:
        inbox.close()


def store_pragmas(path: Path) -> dict[str, object]:
    """The connection settings a fresh ``Inbox.open`` uses (and creates the schema at ``path`` as it goes)."""
    inbox = Inbox.open(path, clock=fixed_clock)
    try:
        return {name: inbox.db.execute(f"PRAGMA {name}").fetchone()[0] for name in MIRRORED_PRAGMAS}
    finally:
        inbox.close()


def ingest_raw_sqlite(path: Path, data: SyntheticInbox) -> Stopwatch:
    """The floor: the same author and post rows inserted with plain ``executemany`` in one transaction.

    The schema comes from a real ``Inbox.open`` so indexes, FTS and triggers are identical, and the plain
    ``sqlite3`` connection copies the store's pragmas. Returns the time for authors, posts and the commit.
    """
    pragmas = store_pragmas(path)
    last_seen = {row[5]: row[9] for row in data.posts}
    authors = [row[:8] + (last_seen.get(row[0], ""),) for row in data.authors]
    now = iso_seconds(END_OF_DATA)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for name, value in pragmas.items():
            conn.execute(f"PRAGMA {name} = {value}")
        conn.execute("BEGIN")
        conn.executemany(
            """INSERT INTO accounts (id, network, handle, server_url, display_name, created_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [(a.id, a.network, a.handle, a.server_url, a.display_name, now) for a in data.accounts],
        )
        with Stopwatch() as watch:
            conn.executemany(
                """INSERT INTO authors (id, network, handle, display_name, followers_count, following_count,
                                        posts_count, url, observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                authors,
            )
            conn.executemany(
                """INSERT INTO posts (id, network, account_id, thread_id, parent_id, author_id, url, text,
                                      created_at, observed_at, reshare_count, quote_count, like_count, reply_count,
                                      visibility, direction)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                data.posts,
            )
            conn.execute("COMMIT")
        return watch
    finally:
        conn.close()


def settle_statuses(path: Path, data: SyntheticInbox, seed: int) -> int:
    """Mark old threads done or snoozed the way an owner would have, through the store's own action."""
    rng = random.Random(seed)
    cutoff = END_OF_DATA - HANDLED_AFTER_DAYS * 24 * 3600
    snooze_until = datetime.fromtimestamp(END_OF_DATA + 7 * 24 * 3600, timezone.utc)
    changed = 0
    inbox = Inbox.open(path, clock=fixed_clock)
    try:
        # One transaction around them all (each action is then a savepoint): 180k separate commits took minutes.
        with inbox.transaction():
            changed = _settle(inbox, data, rng, cutoff, snooze_until)
    finally:
        inbox.close()
    return changed


def _settle(inbox: Inbox, data: SyntheticInbox, rng: random.Random, cutoff: int, snooze_until: datetime) -> int:
    changed = 0
    for thread_id, (last_activity, _) in data.threads.items():
        if last_activity >= cutoff:
            continue
        roll = rng.random()
        if roll < DONE_SHARE:
            inbox.set_thread_status(thread_id, ThreadStatus.DONE)
        elif roll < DONE_SHARE + SNOOZED_SHARE:
            inbox.set_thread_status(thread_id, ThreadStatus.SNOOZED, snooze_until)
        else:
            continue
        changed += 1
    return changed


def database_size_mb(path: Path) -> float:
    files = [path, path.with_name(path.name + "-wal")]
    return sum(f.stat().st_size for f in files if f.exists()) / 1e6


# -- reads -------------------------------------------------------------------------------------------------------------


def measure_first_pages(db: sqlite_utils.Database, repeat: int, suffix: str = "") -> Results:
    """First page of the two busiest views; ``suffix`` tells the status mix apart in the output."""
    results: Results = {}
    views = (
        ("inbox_first_page", ViewKind.NEEDS_REPLY, Order.LATEST),
        ("inbox_first_page_priority", ViewKind.NEEDS_REPLY, Order.PRIORITY),
        ("inbox_first_page_escalating", ViewKind.ESCALATING, Order.PRIORITY),
        ("inbox_first_page_open", ViewKind.OPEN, Order.LATEST),
    )
    for name, kind, order in views:
        first, median = timed_ms(lambda k=kind, o=order: list_threads(db, View(k), PAGE_SIZE, order=o), repeat)
        results[f"{name}{suffix}_ms"] = median
        if not suffix:
            results[f"{name}_cold_ms"] = first
    return results


def measure_scrolling(db: sqlite_utils.Database, repeat: int) -> Results:
    """The fifth page of the open view, reached by keyset as the list model does."""
    page = list_threads(db, View(ViewKind.OPEN), PAGE_SIZE * 4)
    if not page:
        return {}
    after = (page[-1].last_activity_at, page[-1].id)
    return {"inbox_later_page_ms": timed_ms(lambda: list_threads(db, View(ViewKind.OPEN), PAGE_SIZE, after), repeat)[1]}


def measure_threads(db: sqlite_utils.Database, data: SyntheticInbox, repeat: int, seed: int) -> Results:
    """Opening a thread: the longest thread (500 posts at any scale from 2,500 posts up), and the median over a
    seeded sample of ordinary threads."""
    rng = random.Random(seed)
    sample = rng.sample(sorted(data.threads), min(THREADS_SAMPLED, len(data.threads)))
    per_thread = [timed_ms(lambda t=thread_id: thread_posts(db, t), 3)[1] for thread_id in sample]
    largest = max(data.threads, key=lambda t: data.threads[t][1])
    return {
        "thread_open_ms": timed_ms(lambda: thread_posts(db, largest), repeat)[1],
        "thread_open_posts": data.threads[largest][1],
        "thread_open_typical_ms": statistics.median(per_thread),
    }


def measure_search(db: sqlite_utils.Database, data: SyntheticInbox, repeat: int) -> Results:
    """Searching the needs-reply view for common and rare words, a stopword, and a word typed letter by letter."""
    terms = data.search_terms()
    runs = max(3, repeat // 3)

    def search_ms(text: str) -> float:
        return timed_ms(lambda: list_threads(db, View(search=text), PAGE_SIZE), runs)[1]

    per_term = {word: search_ms(word) for group in ("common", "rare", "stopword") for word in terms[group]}
    # The headline figure is over words owners look for; the stopword is reported on its own as the worst case.
    typed = terms["typed"][0]
    per_prefix = {typed[:length]: search_ms(typed[:length]) for length in range(1, len(typed) + 1)}
    slowest_prefix = max(per_prefix, key=per_prefix.get)
    return {
        "search_ms": statistics.median(per_term[w] for w in terms["common"] + terms["rare"]),
        "search_common_ms": max(per_term[w] for w in terms["common"]),
        "search_rare_ms": max(per_term[w] for w in terms["rare"]),
        "search_stopword_ms": max(per_term[w] for w in terms["stopword"]),
        "search_typing_worst_ms": per_prefix[slowest_prefix],
        "search_terms": ", ".join(
            f"{w}({data.word_document_counts[w]} posts, {per_term[w]:.1f} ms)" for w in per_term
        ),
        "search_typing": ", ".join(f"{p}*({ms:.1f} ms)" for p, ms in per_prefix.items()),
    }


def measure_reads(path: Path, data: SyntheticInbox, repeat: int, seed: int) -> Results:
    """Latency of what the UI does, through a separate reading connection as the app's Qt models use."""
    inbox = Inbox.open(path, clock=fixed_clock)
    try:
        results = measure_first_pages(inbox.db, repeat)
        results.update(measure_scrolling(inbox.db, repeat))
        results.update(measure_threads(inbox.db, data, repeat, seed))
        results.update(measure_search(inbox.db, data, repeat))
        return results
    finally:
        inbox.close()


def measure_first_pages_all_open(path: Path, repeat: int) -> Results:
    """First pages right after a first sync, before the owner has closed anything: every thread is open."""
    inbox = Inbox.open(path, clock=fixed_clock)
    try:
        return measure_first_pages(inbox.db, repeat, suffix="_all_open")
    finally:
        inbox.close()


# -- the window ----------------------------------------------------------------------------------------------------------


def gui_environment(workdir: Path) -> dict[str, str]:
    """Offscreen Qt, a private home (settings, logs, canned replies) and no keyring, for every GUI process."""
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen", HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"), XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    return env


def run_gui_mode(mode: str, inbox_path: Path, env: dict[str, str], *extra: str) -> Results:
    """One ``bench/gui.py`` process; its ``name: value`` lines become figures."""
    command = [sys.executable, str(REPO_ROOT / "bench" / "gui.py"), mode, "--db", str(inbox_path), *extra]
    if mode == "cold":
        command += ["--t0", repr(time.time())]  # as late as possible: the figure starts before Python does
    done = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=GUI_TIMEOUT_S)
    figures: Results = {}
    for line in done.stdout.splitlines():
        name, sep, value = line.partition(": ")
        if not sep:
            continue
        try:
            figures[name] = float(value) if "." in value else int(value)
        except ValueError:
            figures[name] = value
    if done.returncode != 0 or not figures:
        figures[f"gui_{mode}_error"] = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return figures


def measure_gui(inbox_path: Path, workdir: Path) -> Results:
    env = gui_environment(workdir)
    results: Results = {}
    results.update(run_gui_mode("cold", inbox_path, env))
    results.update(run_gui_mode("scroll", inbox_path, env))
    # Last: it adds the synced posts to the inbox.
    results.update(run_gui_mode("stall", inbox_path, env, "--posts", str(STALL_POSTS)))
    return results


# -- report ------------------------------------------------------------------------------------------------------------


def missed_targets(results: Results) -> list[str]:
    checks: list[tuple[str, Callable[[float], bool]]] = [
        ("ingest_vs_raw_sqlite", lambda v: v >= TARGET_INGEST_RATIO),
        ("inbox_first_page_ms", lambda v: v < TARGET_PAGE_MS),
        ("inbox_first_page_open_ms", lambda v: v < TARGET_PAGE_MS),
        ("inbox_first_page_all_open_ms", lambda v: v < TARGET_PAGE_MS),
        ("inbox_first_page_open_all_open_ms", lambda v: v < TARGET_PAGE_MS),
        ("inbox_later_page_ms", lambda v: v < TARGET_PAGE_MS),
        ("inbox_first_page_priority_ms", lambda v: v < TARGET_PAGE_MS),
        ("thread_open_ms", lambda v: v < TARGET_THREAD_MS),
        ("search_ms", lambda v: v < TARGET_SEARCH_MS),
        ("search_common_ms", lambda v: v < TARGET_SEARCH_MS),
        ("cold_start_s", lambda v: v < TARGET_COLD_START_S),
        ("scroll_peak_rss_mb", lambda v: v < TARGET_SCROLL_RSS_MB),
        ("view_switch_ms", lambda v: v < TARGET_PAGE_MS),
        ("sort_priority_ms", lambda v: v < TARGET_PAGE_MS),
        ("max_loop_stall_ms", lambda v: v < TARGET_LOOP_STALL_MS),
    ]
    return [name for name, ok in checks if name in results and not ok(results[name])]


def report(results: Results) -> None:
    for name, value in results.items():
        if isinstance(value, float):
            value = f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
        print(f"{name}: {value}", flush=True)


def run(posts: int, batch_size: int, seed: int, repeat: int, workdir: Path, gui: bool = True) -> Results:
    """Generate, ingest both ways, settle statuses, measure reads; returns every figure in print order."""
    results: Results = {}
    start = time.perf_counter()
    data = generate(posts, seed)
    pages = list(batches(data, batch_size))
    results.update(posts=len(data.posts), threads=len(data.threads), authors=len(data.authors), batches=len(pages))
    results["generate_s"] = time.perf_counter() - start

    inbox_path = workdir / "inbox.db"
    store = ingest_through_store(inbox_path, data, pages)
    del pages
    raw = ingest_raw_sqlite(workdir / "raw.db", data)
    for leftover in workdir.glob("raw.db*"):
        leftover.unlink()
    results["ingest_posts_per_s"] = len(data.posts) / store.wall
    results["raw_sqlite_posts_per_s"] = len(data.posts) / raw.wall
    results["ingest_vs_raw_sqlite"] = raw.wall / store.wall
    results["ingest_vs_raw_sqlite_cpu"] = raw.cpu / store.cpu
    results["ingest_s"] = store.wall
    results["raw_sqlite_s"] = raw.wall

    results.update(measure_first_pages_all_open(inbox_path, repeat))
    start = time.perf_counter()
    changed = settle_statuses(inbox_path, data, seed)
    results["status_changes_per_s"] = changed / max(1e-9, time.perf_counter() - start)
    results["open_threads"] = len(data.threads) - changed
    results["db_size_mb"] = database_size_mb(inbox_path)

    results.update(measure_reads(inbox_path, data, repeat, seed))
    results["bench_process_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del data
    if gui:
        results.update(measure_gui(inbox_path, workdir))
    missed = missed_targets(results)
    results["targets_missed"] = ", ".join(missed) if missed else "none"
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=200_000, help="posts in the synthetic inbox (default 200000)")
    parser.add_argument("--scales", help="comma-separated inbox sizes to run (default: 100000 and --posts when "
                        "--posts is larger, else --posts)")
    parser.add_argument("--no-gui", action="store_true", help="store figures only: skip the window's figures")
    parser.add_argument("--batch-size", type=int, default=500, help="posts per connector page (default 500)")
    parser.add_argument("--seed", type=int, default=20251125, help="seed for the synthetic data")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per read query (median reported)")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.scales:
        scales = sorted({int(n) for n in args.scales.split(",")})
    else:
        scales = [GROWTH_BASE, args.posts] if args.posts > GROWTH_BASE else [args.posts]
    if min(scales) < 10:
        raise SystemExit("--posts must be at least 10")
    by_scale: dict[int, Results] = {}
    for posts in scales:
        with tempfile.TemporaryDirectory(prefix="tend-bench-") as workdir:
            by_scale[posts] = run(posts, args.batch_size, args.seed, args.repeat, Path(workdir), gui=not args.no_gui)
        print(f"scale: {posts}", flush=True)
        report(by_scale[posts])
    if len(scales) > 1:
        report(growth(by_scale[scales[0]], by_scale[scales[-1]]))
    missed = any(results["targets_missed"] != "none" for results in by_scale.values())
    return 1 if args.check and missed else 0


GROWTH_BASE = 100_000
GROWTH_FIGURES = ("ingest_s", "raw_sqlite_s", "db_size_mb", "cold_start_s", "scroll_peak_rss_mb", "scroll_rows",
                  "inbox_first_page_ms", "view_switch_ms", "thread_open_ms", "search_common_ms", "max_loop_stall_ms")


def growth(small: Results, large: Results) -> Results:
    """How each figure grew from the smallest scale to the largest, next to how much the inbox grew."""
    figures: Results = {"growth_posts": large["posts"] / small["posts"]}  # type: ignore[operator]
    for name in GROWTH_FIGURES:
        a, b = small.get(name), large.get(name)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > 0:
            figures[f"growth_{name}"] = b / a
    return figures


if __name__ == "__main__":
    sys.exit(main())
