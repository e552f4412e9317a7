"""Draining one inbox backlog on PostgreSQL with 1 worker process, then 2 (each claims
its own windows: store/inbox.py), in the same run: rows/s, wall and CPU seconds (the
workers' own and the server backends', read from /proc for a local server), the 2/1
ratio, and whether both give the same guests.

Windows are serialized per ref, blocking key and guest (store/keylocks.py), not by one
lock: two workers resolve side by side, and a window that meets a lock the other holds
starts again (`restarts`). Settling the guests (after the windows) still takes turns.
On a shared 2-core machine wall time follows the CPU share the workers get: read the CPU
columns (worker + server CPU per row) beside it.
Usage: bench_pg_workers.py [N ...]  (default 3000 records). PostgreSQL as
bench_pg_import.py finds it; a database of its own per run, dropped after.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import time
import uuid
from typing import Any

from bench_pg_import import backend_cpu, server_url

from guestsync.process.batch import process_pending
from guestsync.restaurant.hooks import ActivitySettings
from guestsync.store import open_store
from guestsync.testing.records import RecordMapping, inbox_entries
from guestsync.testing.synthetic import rows, to_record

# records per person: "dense", 3 records of each person shuffled through the backlog (two
# windows being resolved at once share people: they take turns, and one starts again);
# "sparse", 1.1 (a large guest base, a trickle of bookings: windows rarely share anyone)
WORKLOADS = {"dense": 3.0, "sparse": 1.1}


def fill(url: str, n: int, per_person: float) -> int:
    """The backlog: `n` records of n / per_person people; how many rows."""
    store = open_store(url)
    people = max(1, int(n / per_person))
    records = [to_record(r) for r, _ in rows(people, per_person, seed=11)][:n]
    with store.atomic():
        added = store.add_to_inbox(inbox_entries(records, origin="bench"))
    store.close()
    return added


def worker(url: str, start: Any, out: Any) -> None:
    store = open_store(url)
    pid = store.conn.raw.info.backend_pid  # type: ignore[union-attr]
    server0 = backend_cpu(pid)
    start.wait()
    me0 = resource.getrusage(resource.RUSAGE_SELF)
    stats = process_pending(
        store,
        lambda s, st: RecordMapping(),  # type: ignore[arg-type,return-value]
        {},
        batch_size=200,
        settings=ActivitySettings(),
        ahead=True,
    )
    server = backend_cpu(pid) - server0
    me1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = me1.ru_utime + me1.ru_stime - me0.ru_utime - me0.ru_stime
    restarts = store.key_restarts
    store.close()
    out.put((stats.processed, server, cpu, restarts))


def run_together(target: Any, arg: str, workers: int) -> tuple[float, list[Any]]:
    """`workers` spawned processes of `target(arg, start, out)`, released at once by the
    barrier `start`: the wall time until each has put its result on `out`, and the results."""
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(workers + 1), ctx.Queue()
    procs = [ctx.Process(target=target, args=(arg, start, out)) for _ in range(workers)]
    for p in procs:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    results = [out.get(timeout=3600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    return wall, results


def drain(url: str, workers: int) -> dict[str, float]:
    wall, results = run_together(worker, url, workers)
    store = open_store(url)
    guests = store.count_guests()
    store.close()
    return {
        "wall": wall,
        "rows": sum(r[0] for r in results),
        "cpu": sum(r[2] for r in results),  # the drain's, not the process start's
        "server": sum(r[1] for r in results),
        "restarts": sum(r[3] for r in results),
        "guests": guests,
    }


def report(
    n: int, workload: str, per_person: float, backlog: int, figures: dict[int, dict[str, float]]
) -> None:
    print(
        f"records: {n:,} ({workload}: {per_person} per person), PostgreSQL, process stage"
        " (claimed windows of 200)"
    )
    for workers, f in figures.items():
        print(
            f"  {workers} worker(s): wall {f['wall']:6.1f}s {f['rows'] / f['wall']:7,.0f}"
            f" rows/s  worker CPU {f['cpu']:5.1f}s + server CPU {f['server']:5.1f}s"
            f"  {f['rows']:,} rows, {f['guests']:,} guests, {f['restarts']} window restarts"
        )
    one, two = figures[1], figures[2]
    print(
        f"  2 / 1 workers: rows/s {one['wall'] / two['wall']:.2f}x, CPU per row"
        f" {(two['cpu'] + two['server']) / (one['cpu'] + one['server']):.2f}x;"
        f" each of the {backlog:,} rows once: {two['rows'] == one['rows'] == backlog};"
        f" same guests: {two['guests'] == one['guests']}"
    )


def main() -> None:
    import psycopg

    admin_url = server_url()
    admin = psycopg.connect(admin_url, autocommit=True)
    for n in [int(a) for a in sys.argv[1:]] or [3_000]:
        for workload, per_person in WORKLOADS.items():
            figures = {}
            for workers in (1, 2):
                name = f"gs_bench_{uuid.uuid4().hex[:10]}"
                admin.execute(f"CREATE DATABASE {name}")
                try:
                    url = admin_url.rsplit("/", 1)[0] + "/" + name
                    backlog = fill(url, n, per_person)
                    figures[workers] = drain(url, workers)
                finally:
                    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            report(n, workload, per_person, backlog, figures)
    admin.close()


if __name__ == "__main__":
    main()
