"""CSV import rows/s, CPU seconds and peak RSS through the whole pipeline (ingest, map,
resolve, outbox), in the bulk lane and in the per-record lane, vs `sqlite-utils insert
--csv` of the same file into a bare table, all in the same run.

Each side runs in its own child process. CPU is the child's and its mapping worker's
(the machine is shared: CPU moves less than wall). Peak RSS is that of the whole process
tree (the child and its mapping worker, summed), sampled from /proc every 50 ms.
Usage: bench_csv_import.py [--ingest-only] [--bulk-only] [--mapping-worker] [--worker-only]
[N ...]
(default 200000; e.g. `20000` while developing, `1000000` for the issue's 1M figure)
`--ingest-only` stops after stage 1 (rows into the inbox): the streaming-memory check for
very large files when the whole pipeline would take too long on a loaded machine.
`--bulk-only` leaves out the per-record lane (at 1M it alone takes most of an hour).
`--mapping-worker` adds the bulk lane with the mapping worker on (`bulk-worker`; `bulk` is
the lane without it, whatever the size; by default it is on from 20,000 rows,
process/mapping_pool.py): what the worker costs and saves. `--worker-only`
runs that lane alone (beside the bare insert): its peak RSS at 1M without the ~15 minutes
of the lane without it.
Each lane's CPU is also printed by part: ingest, process (the main process, all its
threads), the checkpointer thread's share of that, the mapping worker, and the rest
(interpreter start-up, imports, config).
The file has ~3 rows per guest with phone/email spellings varied, Chinese names, and is
written in UTF-8 with a BOM, as Excel exports it.
"""

from __future__ import annotations

import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bare import bare_insert

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["Booking ID", "Name", "Email", "Phone", "Date", "Time", "Party Size", "Status"]
HEADER += ["Venue", "Notes"]
SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周"
GIVEN = ["小明", "美玲", "志強", "雅婷", "建國", "淑芬", "家豪", "怡君", "俊傑", "佩珊"]


def guest(g: int, seed: int = 1) -> tuple[str, str, str]:
    """Guest g's name, phone digits (after the 0 or +886) and mailbox name."""
    name = SURNAMES[g % len(SURNAMES)] + GIVEN[(g // len(SURNAMES)) % len(GIVEN)]
    # Each guest's phone and mailbox are random (stable per guest): with sequential ones,
    # guests g and g+200 share a name AND have phones one digit apart, which identity
    # resolution rightly reads as one person mistyped, so the whole file collapsed into
    # 200 guests of hundreds of records each.
    own = random.Random(g * 2654435761 + seed)
    d = f"9{own.randrange(10**8):08d}"
    user = f"{own.choice('abcdefghjkmnpqrstuvwxyz')}{own.randrange(16**7):07x}"
    return name, d, user


def make_csv(path: Path, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    guests = max(1, n // 3)
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(n):
            name, d, user = guest(rng.randrange(guests), seed)
            phone = rng.choice([f"0{d[:3]}-{d[3:6]}-{d[6:]}", f"+886 {d[:3]} {d[3:6]} {d[6:]}"])
            email = rng.choice([f"{user}@example.com", f"{user.upper()}@Example.com", ""])
            day, hour = f"2026-12-{1 + i % 28:02d}", f"{17 + i % 5}:{(i % 2) * 30:02d}"
            notes = "窗邊\n座位" if i % 97 == 0 else ""  # a quoted newline now and then
            w.writerow(
                [f"B{i}", name, email, phone, day, hour, 1 + i % 8, "Confirmed", "信義店", notes]
            )


def open_hub(workdir: Path) -> Any:
    """A Hub on a store in `workdir`: one CSV source of booking exports, one target."""
    from guestsync.config import load_config
    from guestsync.sync_engine import Hub

    cfg = workdir / "guestsync.yaml"
    cfg.write_text(
        f"store: {{path: {workdir / 'hub.db'}}}\n"
        "sources:\n  site:\n    type: csv\n"
        f"    mapping: {ROOT / 'config' / 'mappings' / 'booking_en.yaml'}\n"
        "targets:\n  hubspot: {type: hubspot, token: x, base_url: 'http://127.0.0.1:9'}\n",
        "utf-8",
    )
    return Hub(load_config(cfg))


def child_pipeline(
    csv_path: Path,
    workdir: Path,
    *,
    process: bool = True,
    bulk: bool | None = None,
    worker: bool = False,
) -> dict:
    from guestsync.actions.import_csv import import_files

    hub = open_hub(workdir)
    hub.bulk = bulk
    # the mapping worker on whatever the backlog, or off whatever it is (by default: on
    # from PARALLEL_MIN_ROWS rows)
    hub.parallel_min_rows = 0 if worker else sys.maxsize
    split = cpu_split(hub)
    t0 = time.perf_counter()
    report = import_files(hub, "site", [str(csv_path)], process=process)
    elapsed = time.perf_counter() - t0
    assert report.ingest.rows > 0 and (not process or report.process.processed > 0), report
    out = {"seconds": elapsed, "rows": report.ingest.rows, "guests": hub.store.count_guests()}
    hub.close()
    return out | {"split": split}


def cpu_split(hub: Any) -> dict[str, float]:
    """CPU seconds of the child process by part, filled in as it runs: `ingest` (CSV
    into the inbox) and `process` (map, resolve, settle: the main process's share, all
    its threads), the checkpointer thread's own share of `process`, and `worker` (the
    mapping worker process, once it has exited)."""
    from guestsync.store.checkpointer import Checkpointer

    split: dict[str, float] = {"ingest": 0.0, "process": 0.0, "checkpointer": 0.0}

    def timed(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return real(*args, **kwargs)
            finally:
                split[name] += time.process_time() - started

        return call

    hub.import_csv = timed("ingest", hub.import_csv)
    hub.process = timed("process", hub.process)
    real_run = Checkpointer.run

    def run(self: Any) -> None:
        try:
            real_run(self)
        finally:
            split["checkpointer"] += time.thread_time()

    Checkpointer.run = run  # type: ignore[method-assign]
    return split


def tree_rss_mb(root: int) -> float:
    """RSS of a process and all its descendants (from /proc), in MB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            pages = int((d / "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(ppid, []).append(int(d.name))
        rss[int(d.name)] = pages
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total * resource.getpagesize() / 2**20


def run_child(kind: str, csv_path: Path, workdir: Path) -> dict:
    workdir.mkdir()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", kind, str(csv_path), str(workdir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    peak = [0.0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"{kind} failed ({proc.returncode})")
    res = json.loads(out.strip().splitlines()[-1])
    res["tree_rss_mb"] = max(peak[0], res["peak_rss_mb"])
    return res


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        kind, csv_path, workdir = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
        if kind == "bare":
            out = bare_insert(csv_path, workdir / "bare.db")
        else:
            lanes = {"bulk": True, "bulk-worker": True, "per-record": False}
            out = child_pipeline(
                csv_path,
                workdir,
                process=kind in lanes,
                bulk=lanes.get(kind),
                worker=kind == "bulk-worker",
            )
        me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        out["cpu"] = sum(u.ru_utime + u.ru_stime for u in (me, kids))
        if "split" in out:  # the rest of the main process: start-up, imports, config
            out["split"]["worker"] = kids.ru_utime + kids.ru_stime
            own = me.ru_utime + me.ru_stime
            out["split"]["other"] = own - out["split"]["ingest"] - out["split"]["process"]
        peak = kids if kind == "bare" else me
        out["peak_rss_mb"] = max(peak.ru_maxrss, kids.ru_maxrss) / 1024
        print(json.dumps(out))
        return
    args = sys.argv[1:]
    ingest_only, bulk_only = "--ingest-only" in args, "--bulk-only" in args
    worker_only = "--worker-only" in args
    with_worker = ["bulk-worker"] if "--mapping-worker" in args or worker_only else []
    sizes = [int(a) for a in args if not a.startswith("--")] or [200_000]
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            csv_path = Path(tmp) / "bookings.csv"
            make_csv(csv_path, n)
            mb = csv_path.stat().st_size / 1e6
            kinds = ["ingest"] if ingest_only else ["bulk"] if bulk_only else ["bulk", "per-record"]
            kinds = [] if worker_only else kinds
            kinds += [] if ingest_only else with_worker
            runs = {k: run_child(k, csv_path, Path(tmp) / k) for k in ["bare", *kinds]}
        print(f"rows: {n:,} ({mb:.1f} MB)")
        bare = runs["bare"]
        for kind, r in runs.items():
            guests = f"  {r['guests']:,} guests" if "guests" in r else ""
            print(
                f"  {kind:<11} wall {r['seconds']:7.1f}s {n / r['seconds']:9,.0f} rows/s"
                f"  CPU {r['cpu']:7.1f}s {r['cpu'] / n * 1e6:6.0f} us/row"
                f"  peak RSS (process tree) {r['tree_rss_mb']:5.0f} MB{guests}"
            )
            if "split" in r:
                print(
                    "    CPU by part:"
                    + "".join(
                        f"  {part} {s:.2f}s ({s / n * 1e6:.0f} us/row)"
                        for part, s in r["split"].items()
                    )
                )
        for kind in kinds:
            r = runs[kind]
            print(
                f"  {kind}: wall ratio to bare {bare['seconds'] / r['seconds']:.3f} (target"
                " >= 0.5),"
                f" CPU per row {r['cpu'] / bare['cpu']:.2f}x bare's (target <= 3)"
            )
        if "per-record" in runs:
            b, p = runs["bulk"], runs["per-record"]
            print(
                f"  bulk / per-record rows/s: {p['seconds'] / b['seconds']:.2f}x"
                f" (CPU {p['cpu'] / b['cpu']:.2f}x; target >= 5); same guests:"
                f" {b['guests'] == p['guests']}"
            )
        if "bulk" in runs:
            print(f"  bulk peak RSS {runs['bulk']['tree_rss_mb']:.0f} MB (target <= 600 at 1M)")


if __name__ == "__main__":
    main()
