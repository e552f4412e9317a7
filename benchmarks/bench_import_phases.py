"""Where a CSV import's CPU goes, by phase: ingest, map, fold, candidates, resolve,
writes, settle (golden record, aggregates, outbox), commits. The issue asks for this
table wherever a throughput figure falls short.

The import runs in this process (the mapping worker off, as it is below 20k rows: with it
the mapping and folding move to the other core and their CPU is the worker's), on
bench_csv_import's file, and each phase's functions are wrapped to add their CPU time
(time.process_time) to the phase, less that of the phases they call. The bulk lane by
default; `--per-record` the other. `--mapping-worker`: the bulk lane as an import of 20k
rows or more runs by default, the worker mapping and folding; the phases are then the
main thread's CPU (time.thread_time), the hand-over taken in is a phase of its own, and
the other threads' CPU (the checkpointer, the executor's unpickling of the hand-over) is
printed apart.
Usage: bench_import_phases.py [--per-record | --mapping-worker] [N]   (default 20000)

"other" is what no phase wraps; in the bulk lane (py-spy, 50k rows, #20), besides this
bench's own timing: freeing each window's records, features and decisions as it ends
(~4% of the CPU), the match log's rows (~2.5%), reading the inbox windows (~1.5%),
marking rows done and guests dirty, and the per-row loop itself.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench_csv_import import make_csv, open_hub

import guestsync.process.batch as batch
import guestsync.process.fastpath as fastpath
import guestsync.process.mapping_pool as mapping_pool
import guestsync.process.resolve as resolve
import guestsync.process.window as window
import guestsync.restaurant.hooks as hooks
import guestsync.store.base as store_base
import guestsync.sync_engine as sync_engine
from guestsync.actions.import_csv import import_files

SPENT: defaultdict[str, float] = defaultdict(float)
CLOCK = [time.process_time]  # time.thread_time with the worker: the main thread's
STACK: list[float] = []  # CPU of the phases called by each wrapped call in progress
CALLS = [0]  # wrapped calls made: each costs this bench CPU of its own (`overhead`)


def _charge(label: str, started: float) -> None:
    CALLS[0] += 1
    spent = CLOCK[0]() - started
    inner = STACK.pop()
    SPENT[label] += spent - inner
    if STACK:
        STACK[-1] += spent


def wrap(owner: Any, name: str, label: str) -> None:
    real = getattr(owner, name)

    @functools.wraps(real)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = CLOCK[0]()
        STACK.append(0.0)
        try:
            return real(*args, **kwargs)
        finally:
            _charge(label, started)

    setattr(owner, name, timed)


def wrap_commits() -> None:
    """A transaction's COMMIT (and the WAL checkpoint it may run) happens as `atomic`
    exits: that exit is the phase, not the body."""
    real: Callable[..., Any] = store_base.StoreBase.atomic

    @contextlib.contextmanager
    def atomic(self: Any, *args: Any, **kwargs: Any) -> Iterator[None]:
        cm = real(self, *args, **kwargs)
        cm.__enter__()
        try:
            yield
        except BaseException:
            if not cm.__exit__(*sys.exc_info()):
                raise
        else:
            started = CLOCK[0]()
            STACK.append(0.0)
            try:
                cm.__exit__(None, None, None)
            finally:
                _charge("commits", started)

    store_base.StoreBase.atomic = atomic  # type: ignore[method-assign]


def overhead() -> float:
    """CPU seconds one wrapped call costs this bench (two reads of the process CPU clock,
    a system call, and the stack), by timing a wrapped no-op. Some five calls a row: at
    200k rows an estimated ~9 us/row, most of it in "other" (#20)."""

    class Nop:
        def nop(self) -> None:
            pass

    wrap(Nop, "nop", "calibration")
    nop, n = Nop().nop, 20_000
    STACK.append(0.0)
    started = CLOCK[0]()
    for _ in range(n):
        nop()
    per_call = (CLOCK[0]() - started) / n
    STACK.pop()
    del SPENT["calibration"]
    CALLS[0] = 0
    return per_call


PHASES = [
    (sync_engine, "ingest_csv", "ingest (CSV into the inbox)"),  # the name the hub calls
    (batch, "map_row", "map"),
    (batch, "prepare", "fold (features, keys)"),
    (window.WindowStore, "__init__", "candidates (set-based read)"),
    (batch, "resolve_guest", "resolve (score, decide, link)"),
    (fastpath, "new_alone", "resolve: fast path (new guest, or no)"),
    (hooks, "record", "bookings (buffered in the bulk lane)"),
    (window.WindowStore, "flush", "link/key/booking writes"),
    (resolve.Resolver, "refresh_many", "settle: golden records"),
    (hooks, "after_batch", "settle: aggregates, segment"),
    (batch, "queue_for_targets", "settle: payloads, outbox"),
]


def main() -> None:
    args = sys.argv[1:]
    per_record = "--per-record" in args
    worker = "--mapping-worker" in args
    if worker:
        CLOCK[0] = time.thread_time
        PHASES.append((mapping_pool, "decode", "hand-over taken in (decode)"))
    n = next((int(a) for a in args if not a.startswith("--")), 20_000)
    per_call = overhead()
    for owner, name, label in PHASES:
        wrap(owner, name, label)
    wrap_commits()
    real_alone = fastpath.new_alone
    fast = [0]

    def counted(*args: Any) -> str | None:
        gid = real_alone(*args)
        fast[0] += gid is not None
        return gid

    fastpath.new_alone = counted  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "bookings.csv"
        make_csv(csv_path, n)
        hub = open_hub(Path(tmp))
        # the import in this process (the mapping worker off, whatever the size, unless
        # asked: each phase's CPU is ours), in its windows (bulk: `import_window`, with
        # the worker mapping_pool.BATCH; else 500 a batch)
        hub.parallel_min_rows = 0 if worker else sys.maxsize
        hub.bulk = not per_record
        wall, cpu, threads = time.perf_counter(), CLOCK[0](), time.process_time()
        STACK.append(0.0)
        import_files(hub, "site", [str(csv_path)])
        wall, cpu = time.perf_counter() - wall, CLOCK[0]() - cpu
        threads = time.process_time() - threads - cpu
        guests = hub.store.count_guests()
        hub.close()
    lane = "per-record" if per_record else "bulk"
    lane += " (mapping worker; CPU: the main thread's)" if worker else ""
    print(f"{lane} lane, {n:,} rows: wall {wall:.1f}s, CPU {cpu:.2f}s, {guests:,} guests")
    if worker:
        print(f"  the main process's other threads: {threads:.2f}s {threads / n * 1e6:.0f} us/row")
    print(f"  fast path (met nobody: new guest): {fast[0]:,} rows, {fast[0] / n:.0%}")
    rest = cpu - sum(SPENT.values())
    for label, spent in [*sorted(SPENT.items(), key=lambda kv: -kv[1]), ("other", rest)]:
        print(f"  {label:<38} {spent:6.2f}s {spent / n * 1e6:6.0f} us/row {spent / cpu:5.0%}")
    # part of it inside the phases' figures, most in "other" (an estimate: the clock's
    # cost varies with the machine's load)
    own = CALLS[0] * per_call
    print(
        f"  of which this bench's own timing, ~{own:.2f}s {own / n * 1e6:.0f} us/row"
        f" ({CALLS[0]:,} wrapped calls)"
    )


if __name__ == "__main__":
    main()
